/**
 * The Gaussian sampling check shared by the tests in this folder: sample 4096 images of 1×4×4
 * with the exact ε-predictor (or v- or x₀-predictor) of N(μ, s²I) (test/helpers/gaussian-denoiser.ts) and compare the
 * samples' statistics with (a) the exact output distribution of the sampler, computed
 * independently by scripts/dev/sampler-reference.py, up to sampling error only, and (b) the data
 * distribution itself, within a tolerance stated per sampler (its discretisation error).
 */
import { linearBetaSchedule } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';
import { expect } from 'vitest';
import { sample, type PredictionType, type Sampler } from '../../src/index.js';
import { gaussianDenoiser } from '../helpers/gaussian-denoiser.js';
import { tinySpec } from '../helpers/recording-denoiser.js';

/** Data: μ_c = -1 + 2c/15 for the 16 pixels c, s = 0.8 (GAUSSIAN_STD in the reference script). */
export const DATA_STD = 0.8;
export const DATA_MEAN = new Float32Array(16).map((_, c) => -1 + (2 * c) / 15);
export const BATCH = 4096;

/** The exact output law from the reference script: mean = meanPerUnitMu·μ_c, std. */
export interface ExactOutput {
  readonly meanPerUnitMu: number;
  readonly std: number;
}

export interface GaussianMeasurement {
  readonly name: string;
  readonly steps: number;
  /** RMS over pixels of (sample mean - μ_c). */
  readonly meanError: number;
  /** Pooled within-pixel standard deviation of the samples. */
  readonly std: number;
  readonly exactStd: number;
  readonly stdTolerance: number;
}

/** Samples, checks (a) and (b), and returns the measurement for the report. */
export async function checkGaussian(
  name: string,
  sampler: Sampler,
  exact: ExactOutput,
  stdTolerance: number,
  seed = 20240,
  prediction: PredictionType = 'epsilon',
): Promise<GaussianMeasurement> {
  const denoiser = gaussianDenoiser(referenceOps, tinySpec, linearBetaSchedule(), DATA_MEAN, DATA_STD, prediction);
  const { images } = await sample({ denoiser, sampler, batch: BATCH, seed, prediction });
  expect(denoiser.calls).toBe(sampler.timesteps.length);
  const pixels = DATA_MEAN.length;
  const sums = new Float64Array(pixels);
  for (let i = 0; i < images.length; i++) sums[i % pixels]! += images[i] as number;
  const means = Array.from(sums, (sum) => sum / BATCH);
  let squares = 0;
  let residual = 0;
  for (let i = 0; i < images.length; i++) {
    const c = i % pixels;
    squares += ((images[i] as number) - (means[c] as number)) ** 2;
    residual += (images[i] as number) - exact.meanPerUnitMu * (DATA_MEAN[c] as number);
  }
  const n = images.length;
  const std = Math.sqrt(squares / (n - pixels));

  // (a) The exact law, up to sampling error (4 standard errors; n = 65536 values).
  expect(Math.abs(residual / n)).toBeLessThan((4 * exact.std) / Math.sqrt(n));
  expect(Math.abs(std / exact.std - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
  means.forEach((m, c) => expect(Math.abs(m - exact.meanPerUnitMu * (DATA_MEAN[c] as number))).toBeLessThan((5 * exact.std) / Math.sqrt(BATCH)));

  // (b) The data: per-pixel means within 5 standard errors (+ the sampler's tiny mean shrinkage), std within the stated tolerance.
  const meanError = Math.sqrt(means.reduce((sum, m, c) => sum + (m - (DATA_MEAN[c] as number)) ** 2, 0) / pixels);
  means.forEach((m, c) => expect(Math.abs(m - (DATA_MEAN[c] as number))).toBeLessThan((5 * DATA_STD) / Math.sqrt(BATCH) + 0.01));
  expect(Math.abs(std / DATA_STD - 1)).toBeLessThan(stdTolerance);
  return { name, steps: sampler.timesteps.length, meanError, std, exactStd: exact.std, stdTolerance };
}

/** Prints the agreement table when SAMPLER_REPORT is set (used for the closing note). */
export function report(rows: readonly GaussianMeasurement[]): void {
  if (!process.env['SAMPLER_REPORT']) return;
  const lines = rows.map(
    (r) =>
      `| ${r.name} | ${r.steps} | ${r.meanError.toFixed(4)} | ${r.std.toFixed(4)} (${((r.std / DATA_STD - 1) * 100).toFixed(2)}%) | ` +
      `${r.exactStd.toFixed(4)} | ±${(r.stdTolerance * 100).toFixed(0)}% |`,
  );
  console.log(['| sampler | steps | RMS mean error | std (vs 0.8) | exact std | tolerance |', ...lines].join('\n'));
}
