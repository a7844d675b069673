import { linearBetaSchedule, type NoiseSchedule } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  annealedLangevin,
  ddim,
  ddpm,
  dpmSolverPlusPlus,
  predictionCoefficients,
  predictionTypes,
  sample,
  type PredictionType,
  type Sampler,
} from '../../src/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { gaussianDenoiser } from '../helpers/gaussian-denoiser.js';
import { tinySpec } from '../helpers/recording-denoiser.js';
import { DATA_MEAN, DATA_STD, checkGaussian, report, type GaussianMeasurement } from './gaussian-check.js';

/*
 * prediction: 'epsilon' | 'v_prediction' | 'sample'. For Gaussian data N(μ, 0.8²) the exact
 * ε-, v- and x₀-predictors are known in closed form (test/helpers/gaussian-denoiser.ts), and they
 * describe the same model: a sampler told what the model outputs must therefore walk exactly the
 * trajectory it walks with the ε-predictor (same seed), up to float rounding, and so reproduce
 * the exact output laws of scripts/dev/sampler-reference.py that the ε tests use.
 */

const samplers: [string, () => Sampler][] = [
  ['DDPM fixed_small, 1000 steps', () => ddpm()],
  ['DDPM fixed_large, 250 steps, clipSample', () => ddpm({ steps: 250, varianceType: 'fixed_large', clipSample: true })],
  ['DDIM η = 0, 50 steps', () => ddim({ steps: 50 })],
  ['DDIM η = 1, 50 steps, trailing, clipSample', () => ddim({ steps: 50, eta: 1, timestepSpacing: 'trailing', clipSample: true })],
  ['DPM-Solver++(2M), 20 steps', () => dpmSolverPlusPlus({ steps: 20 })],
  ['DPM-Solver++1, 10 steps, sigma_min', () => dpmSolverPlusPlus({ steps: 10, order: 1, finalSigmasType: 'sigma_min' })],
  ['annealed Langevin, 30 levels × 20 steps', () => annealedLangevin({ noiseLevels: 30, stepsPerLevel: 20, stepSize: 1e-4 })],
];

/** The trajectory (initial sample, then after each step) of 16 images, the model outputting `output`, the sampler told `prediction`. */
async function trajectory(sampler: Sampler, output: PredictionType, prediction: PredictionType): Promise<Float32Array[]> {
  const denoiser = gaussianDenoiser(referenceOps, tinySpec, linearBetaSchedule(), DATA_MEAN, DATA_STD, output);
  const result = await sample({ denoiser, sampler, batch: 16, seed: 7, trajectory: true, prediction });
  return result.trajectory!;
}

/** max over steps and values of |a - b| / max(1, |a|). */
function largestRelativeGap(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  expect(b.length).toBe(a.length);
  let gap = 0;
  a.forEach((step, i) => {
    const other = b[i] as Float32Array;
    for (let j = 0; j < step.length; j++) {
      gap = Math.max(gap, Math.abs((step[j] as number) - (other[j] as number)) / Math.max(1, Math.abs(step[j] as number)));
    }
  });
  return gap;
}

describe('the conversions are diffusers’ (DDIMScheduler.step, v0.31.0)', () => {
  // x₀, ε and ᾱ chosen; x_t and v from their definitions; the coefficients must give x₀ and ε back.
  const cases = [
    { x0: 0.7, eps: -1.3, alphaBar: 0.9999 },
    { x0: -0.25, eps: 0.4, alphaBar: 0.5 },
    { x0: 1.5, eps: 2.1, alphaBar: 4e-5 },
  ];
  it.each(cases)('x₀ = $x0, ε = $eps, ᾱ = $alphaBar', ({ x0, eps, alphaBar }) => {
    const xt = Math.sqrt(alphaBar) * x0 + Math.sqrt(1 - alphaBar) * eps;
    const outputs: Record<PredictionType, number> = { epsilon: eps, v_prediction: Math.sqrt(alphaBar) * eps - Math.sqrt(1 - alphaBar) * x0, sample: x0 };
    for (const prediction of predictionTypes) {
      const c = predictionCoefficients(prediction, alphaBar);
      const m = outputs[prediction];
      expect(c.epsFromX * xt + c.epsFromOutput * m).toBeCloseTo(eps, 9);
      expect(c.x0FromX * xt + c.x0FromOutput * m).toBeCloseTo(x0, 9);
    }
  });
});

describe('every sampler walks the ε trajectory with a v- or x₀-predicting model (16 images of 1×4×4, float64 ops)', () => {
  it.each(samplers)('%s', async (_name, make) => {
    const sampler = make();
    const reference = await trajectory(sampler, 'epsilon', 'epsilon');
    for (const prediction of ['v_prediction', 'sample'] as const) {
      const gap = largestRelativeGap(reference, await trajectory(sampler, prediction, prediction));
      if (process.env['SAMPLER_REPORT']) console.log(`${_name}, ${prediction}: largest relative gap ${gap.toExponential(2)}`);
      expect(gap, prediction).toBeLessThan(1e-6);
    }
    // The same model misdeclared as an ε-predictor is far off: the check above can fail.
    expect(largestRelativeGap(reference, await trajectory(sampler, 'v_prediction', 'epsilon'))).toBeGreaterThan(0.05);
  });
});

describe("without the option, sample() reads what the model outputs from its spec's prediction", () => {
  it.each([
    ['v', 'v_prediction'],
    ['sample', 'sample'],
  ] as const)('spec.prediction %s walks the trajectory of prediction: %s', async (specPrediction, prediction) => {
    const sampler = ddim({ steps: 10, eta: 1 });
    const told = await trajectory(sampler, prediction, prediction);
    const denoiser = gaussianDenoiser(referenceOps, { ...tinySpec, prediction: specPrediction }, linearBetaSchedule(), DATA_MEAN, DATA_STD, prediction);
    const fromSpec = (await sample({ denoiser, sampler, batch: 16, seed: 7, trajectory: true })).trajectory!;
    expect(largestRelativeGap(told, fromSpec)).toBe(0);
    // An ε spec with the same outputs is sampled as ε, so it goes elsewhere: the spec is what decides.
    const epsDenoiser = gaussianDenoiser(referenceOps, tinySpec, linearBetaSchedule(), DATA_MEAN, DATA_STD, prediction);
    expect(largestRelativeGap(told, (await sample({ denoiser: epsDenoiser, sampler, batch: 16, seed: 7, trajectory: true })).trajectory!)).toBeGreaterThan(0.05);
  });
});

const rows: GaussianMeasurement[] = [];
afterAll(() => report(rows));

describe('v- and x₀-predicting models reproduce Gaussian data (4096 samples; exact laws as for ε)', () => {
  // Exact laws: the ε tests' (ddpm.test.ts, fast-samplers.test.ts), from scripts/dev/sampler-reference.py.
  const laws: [string, () => Sampler, { meanPerUnitMu: number; std: number }, number][] = [
    ['ddpm fixed_large 250', () => ddpm({ steps: 250, varianceType: 'fixed_large' }), { meanPerUnitMu: 0.9999725580602071, std: 0.8014450421956087 }, 0.02],
    ['ddim η=0 50', () => ddim({ steps: 50, eta: 0 }), { meanPerUnitMu: 0.9941007570283326, std: 0.7677719723538654 }, 0.06],
    ['dpm-solver++ 2M 20', () => dpmSolverPlusPlus({ steps: 20 }), { meanPerUnitMu: 0.994954062056318, std: 0.7942833989777605 }, 0.02],
  ];
  // Seeds other than the ε tests' (and than each other), so these are new samples of the law.
  for (const [prediction, seed] of [['v_prediction', 31], ['sample', 32]] as const) {
    it.each(laws)(`%s, ${prediction}`, async (name, make, exact, tolerance) => {
      rows.push(await checkGaussian(`${name} (${prediction})`, make(), exact, tolerance, seed, prediction));
    });
  }
});

describe('prediction is validated before step 1', () => {
  const run = (prediction: unknown, noiseSchedule?: NoiseSchedule) => {
    const schedule = noiseSchedule ?? linearBetaSchedule();
    const denoiser = gaussianDenoiser(referenceOps, tinySpec, schedule, DATA_MEAN, DATA_STD);
    const sampler = ddim({ steps: 10, noiseSchedule: schedule });
    return { denoiser, promise: sample({ denoiser, sampler, seed: 1, prediction: prediction as PredictionType }) };
  };

  it.each([['x0'], ['v-prediction'], ['EPSILON'], [''], [1], [null]])('%j is refused naming prediction', async (value) => {
    const { denoiser, promise } = run(value);
    const error = await rejectionOf(promise);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('prediction');
    expect(error.message).toContain("'v_prediction'");
    expect(error.issues?.[0]?.path).toEqual(['prediction']);
    expect(denoiser.calls).toBe(0);
  });

  it("'sample' is refused on a schedule with ᾱ_t = 1 at a sampled timestep (ε = (x_t - √ᾱ x₀)/√(1-ᾱ) is undefined)", async () => {
    const base = linearBetaSchedule();
    const alphasCumprod = Float64Array.from(base.alphasCumprod);
    alphasCumprod[0] = 1;
    const broken = { ...base, alphasCumprod } as NoiseSchedule;
    const { denoiser, promise } = run('sample', broken);
    const error = await rejectionOf(promise);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('prediction');
    expect(error.message).toContain('ᾱ_0 = 1');
    expect(denoiser.calls).toBe(0);
  });
});
