import { describe, expect, it } from 'vitest';
import { LevelskipError, linearBetaSchedule } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';
import { annealedLangevin, ddim, ddpm, measurePropagation } from '../../src/index.js';
import { gaussianDenoiser } from '../helpers/gaussian-denoiser.js';
import { tinySpec } from '../helpers/recording-denoiser.js';

const schedule = linearBetaSchedule({ trainTimesteps: 1000 });
const std = 0.6;
const mean = new Float32Array(16).map((_, c) => -1 + (2 * c) / 15);

/** ᾱ_t from the linear schedule's definition (not core's arrays); 1 at t = −1. */
function alphaBar(t: number): number {
  let product = 1;
  for (let s = 0; s <= t; s++) product *= 1 - (1e-4 + (s * (0.02 - 1e-4)) / 999);
  return product;
}

/**
 * With the exact ε of Gaussian data N(μ, s²I), ε(x) = √(1 − ᾱ)(x − √ᾱ μ)/V with V = ᾱ s² + 1 − ᾱ,
 * a DDIM step x_s = a x_t + b ε is affine in x_t with slope g = a + b √(1 − ᾱ_t)/V_t, so a
 * perturbation of the sample at s reaches the end multiplied by Π of the later steps' g:
 * P(s_i) = Π_{j>i} g_j², whatever its direction.
 */
function exactFactor(timesteps: readonly number[], i: number, eta: number): number {
  let product = 1;
  for (let j = i + 1; j < timesteps.length; j++) {
    const t = timesteps[j]!;
    const s = timesteps[j + 1] ?? -1;
    const [at, as] = [alphaBar(t), s < 0 ? 1 : alphaBar(s)];
    const sigma = eta * Math.sqrt((1 - as) / (1 - at)) * Math.sqrt(1 - at / as);
    const a = Math.sqrt(as) / Math.sqrt(at);
    const b = Math.sqrt(Math.max(0, 1 - as - sigma * sigma)) - (Math.sqrt(as) * Math.sqrt(1 - at)) / Math.sqrt(at);
    const g = a + (b * Math.sqrt(1 - at)) / (at * std * std + 1 - at);
    product *= g * g;
  }
  return product;
}

describe('measurePropagation', () => {
  for (const eta of [0, 1]) {
    it(`matches the exact propagation of Gaussian data through DDIM (η = ${eta}): P(s_i) = Π_{j>i} g_j²`, async () => {
      const denoiser = gaussianDenoiser(referenceOps, tinySpec, schedule, mean, std);
      const sampler = ddim({ steps: 10, eta, noiseSchedule: schedule });
      const progress: number[] = [];
      const result = await measurePropagation(denoiser, { sampler, eta, points: 4, batch: 3, seed: 1, onProgress: ({ done }) => progress.push(done) });
      // Steps 0, 3, 5, 8 of 10 (spread over 0 … n − 2): their next timesteps, increasing.
      const timesteps = sampler.timesteps;
      const steps = [0, 3, 5, 8];
      expect(result.timesteps).toEqual(steps.map((i) => timesteps[i + 1]!).reverse());
      steps.forEach((i, j) => {
        const measured = result.factors[steps.length - 1 - j]!;
        expect(Math.abs(measured / exactFactor(timesteps, i, eta) - 1)).toBeLessThan(2e-3);
      });
      expect(result).toMatchObject({ sampler: 'ddim', eta, steps: 10, samples: 3 });
      expect(progress).toEqual([1, 2, 3, 4]);
    });
  }

  it('a v-predicting model is perturbed by the same ε error (its output converted), so it propagates the same', async () => {
    const specV = { ...tinySpec, prediction: 'v' as const };
    const denoiser = gaussianDenoiser(referenceOps, specV, schedule, mean, std, 'v_prediction');
    const sampler = ddim({ steps: 10, eta: 0, noiseSchedule: schedule });
    const result = await measurePropagation(denoiser, { sampler, points: 2, batch: 2 });
    expect(Math.abs(result.factors[1]! / exactFactor(sampler.timesteps, 0, 0) - 1)).toBeLessThan(2e-3);
    expect(Math.abs(result.factors[0]! / exactFactor(sampler.timesteps, 8, 0) - 1)).toBeLessThan(2e-3);
  });

  it('for DDPM the same law holds (its step has DDIM η = 1’s slope)', async () => {
    const denoiser = gaussianDenoiser(referenceOps, tinySpec, schedule, mean, std);
    const sampler = ddpm({ steps: 10, noiseSchedule: schedule });
    const result = await measurePropagation(denoiser, { sampler, points: 2, batch: 2 });
    const timesteps = sampler.timesteps;
    expect(Math.abs(result.factors[1]! / exactFactor(timesteps, 0, 1) - 1)).toBeLessThan(2e-3);
    expect(result.sampler).toBe('ddpm');
  });

  it('rejects a sampler without derived step coefficients and bad counts', async () => {
    const denoiser = gaussianDenoiser(referenceOps, tinySpec, schedule, mean, std);
    await expect(measurePropagation(denoiser, { sampler: annealedLangevin({ noiseSchedule: schedule }) })).rejects.toSatisfy((e: unknown) => LevelskipError.is(e) && e.code === 'INVALID_OPTION');
    await expect(measurePropagation(denoiser, { sampler: ddim({ steps: 5, noiseSchedule: schedule }), points: 0 })).rejects.toSatisfy((e: unknown) => LevelskipError.is(e) && e.issues[0]?.path[0] === 'points');
  });
});
