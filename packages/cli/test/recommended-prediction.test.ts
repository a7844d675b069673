/**
 * A model that outputs v or x₀ (its spec's `prediction`, which model.json's `sampling.prediction`,
 * diffusers' `prediction_type`, must agree with) is sampled as such by `sample` and `eval`, whatever
 * sampler the flags pick; a model that says nothing is an ε-predictor. Runs in-process with the stand-in backend; `sample()` is the real one,
 * recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUNetSpec, presets, randomWeights, saveCheckpoint, type RecommendedSampling } from '@levelskip/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveSamplerSettings } from '../src/sampling/sampling-settings.js';
import { runInProcess } from './helpers/run-in-process.js';

const recorded = vi.hoisted(() => ({ predictions: [] as unknown[] }));

vi.mock('../src/backends/backend-choice.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/backends/backend-choice.js')>();
  const { createFakeBackend } = await import('./helpers/fake-backend.js');
  return { ...original, createBackend: async () => createFakeBackend() as never };
});
vi.mock('@levelskip/samplers', async (importOriginal) => {
  const original = await importOriginal<typeof import('@levelskip/samplers')>();
  return {
    ...original,
    sample: (options: Parameters<typeof original.sample>[0]) => {
      recorded.predictions.push(options.prediction);
      return original.sample(options);
    },
  };
});
vi.mock('@levelskip/metrics', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@levelskip/metrics')>()),
  loadMnistReference: async () => ({ lenet: {} }),
  loadMnistReferenceImages: async () => ({ heldOut: { images: new Float32Array(2 * 32 * 32), count: 2 } }),
  fdLenet: () => ({ fd: 1, floor: null }),
  recognisableRate: () => 0.5,
}));

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-prediction-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
beforeEach(() => {
  recorded.predictions.length = 0;
});

const none = { sampler: undefined, steps: undefined, eta: undefined, noiseLevels: undefined, clipSample: undefined };

describe('resolveSamplerSettings: the prediction type', () => {
  it("is the recommendation's for every sampler (it describes the model), else epsilon", () => {
    const v: RecommendedSampling = { sampler: 'ddim', steps: 10, prediction: 'v_prediction' };
    expect(resolveSamplerSettings(none, v, 1000).prediction).toBe('v_prediction');
    expect(resolveSamplerSettings({ ...none, sampler: 'dpm-solver' }, v, 1000).prediction).toBe('v_prediction');
    expect(resolveSamplerSettings({ ...none, sampler: 'ddpm' }, { sampler: 'ddim', steps: 10, prediction: 'sample' }, 1000).prediction).toBe('sample');
    expect(resolveSamplerSettings(none, { sampler: 'ddim', steps: 10 }, 1000).prediction).toBe('epsilon');
    expect(resolveSamplerSettings(none, undefined, 1000).prediction).toBe('epsilon');
    // Without a recommendation, the spec's prediction decides.
    expect(resolveSamplerSettings(none, undefined, 1000, 'v').prediction).toBe('v_prediction');
    expect(resolveSamplerSettings(none, { sampler: 'ddim', steps: 10 }, 1000, 'sample').prediction).toBe('sample');
  });
});

describe('sample and eval pass the model’s prediction type to sample()', () => {
  const checkpoints: Record<string, string> = {};
  beforeAll(async () => {
    const spec = parseUNetSpec(presets.mnistSmall);
    const weights = randomWeights(spec, { seed: 3 });
    const cases: Record<string, { prediction: 'eps' | 'v' | 'sample'; sampling?: RecommendedSampling }> = {
      v: { prediction: 'v', sampling: { sampler: 'ddim', steps: 2, prediction: 'v_prediction' } },
      x0: { prediction: 'sample', sampling: { sampler: 'ddim', steps: 2, prediction: 'sample' } },
      // The spec alone says it (a model.json written by hand, without sampling settings).
      vSpecOnly: { prediction: 'v' },
      plain: { prediction: 'eps' },
    };
    for (const [name, { prediction, sampling }] of Object.entries(cases)) {
      checkpoints[name] = join(directory, name);
      await saveCheckpoint(checkpoints[name], { spec: { ...spec, prediction }, weights, ...(sampling === undefined ? {} : { sampling }) });
    }
  });

  it('a checkpoint whose sampling.prediction disagrees with its spec is refused when saved', async () => {
    const spec = parseUNetSpec(presets.mnistSmall);
    await expect(
      saveCheckpoint(join(directory, 'mismatch'), { spec, weights: randomWeights(spec, { seed: 3 }), sampling: { sampler: 'ddim', steps: 2, prediction: 'v_prediction' } }),
    ).rejects.toThrow(/sampling\.prediction is "v_prediction" but spec\.prediction is "eps"/);
  });

  it.each([
    ['v', 'v_prediction'],
    ['x0', 'sample'],
    ['vSpecOnly', 'v_prediction'],
    ['plain', 'epsilon'],
  ])('sample --checkpoint (%s model) → prediction %s', async (name, expected) => {
    const run = await runInProcess(['sample', '--checkpoint', checkpoints[name]!, '--steps', '2', '--batch', '1', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(recorded.predictions).toEqual([expected]);
  });

  it('another sampler from the flags keeps the model’s prediction type', async () => {
    const run = await runInProcess(['sample', '--checkpoint', checkpoints['v']!, '--sampler', 'dpm-solver', '--steps', '2', '--batch', '1', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(recorded.predictions).toEqual(['v_prediction']);
  });

  it('eval --checkpoint (v model): every batch', async () => {
    const run = await runInProcess(['eval', '--checkpoint', checkpoints['v']!, '--samples', '2', '--batch', '1', '--steps', '2', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(recorded.predictions).toEqual(['v_prediction', 'v_prediction']);
  });
});
