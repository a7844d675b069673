import {
  constantSchedule,
  customFill,
  customSchedule,
  interpolateFill,
  linearBetaSchedule,
  powerSchedule,
  type FillStrategy,
  type SkipSchedule,
} from '@levelskip/core';
import { referenceOps, type ReferenceTensor } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { ddim, sample, type SampleOptions, type Sampler } from '../../src/index.js';
import { countingOps } from '../helpers/counting-ops.js';
import { rejectionOf } from '../helpers/errors.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';

/** Runs `sample` with `overrides` on a fresh 4-level recording denoiser; returns the error and what ran. */
async function failure(overrides: Record<string, unknown>) {
  const ops = countingOps(referenceOps);
  const denoiser = recordingDenoiser(ops);
  const options = { denoiser, sampler: ddim({ steps: 10 }), seed: 1, ...overrides } as SampleOptions<ReferenceTensor>;
  const error = await rejectionOf(sample(options));
  return { error, calls: denoiser.calls.length, created: ops.created() };
}

describe('sample validates everything before step 1', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['interpolate fill on a model without side paths', { fill: interpolateFill }, 'INVALID_FILL', 'sidePaths'],
    ['an unknown fill kind', { fill: { kind: 'blur' } as unknown as FillStrategy }, 'INVALID_FILL', 'blur'],
    ['a custom fill without a function', { fill: { kind: 'custom', name: 'broken' } as unknown as FillStrategy }, 'INVALID_FILL', 'broken'],
    ['a constant schedule deeper than the model', { skip: constantSchedule(4) }, 'INVALID_OPTION', 'at most 3'],
    ['a custom schedule returning a fraction at t = 0.5', { skip: customSchedule((t) => (t === 0.5 ? 1.5 : 0)) }, 'INVALID_SCHEDULE', '1.5'],
    [
      'a hand-made schedule object returning k out of range',
      { skip: { kind: 'custom', description: 'x', kAt: () => 9, toJSON: () => undefined } satisfies SkipSchedule },
      'INVALID_SCHEDULE',
      '[0, 3]',
    ],
    ['skip that is not a schedule', { skip: 2 }, 'INVALID_SCHEDULE', 'SkipSchedule'],
    ['batch 0', { batch: 0 }, 'INVALID_OPTION', 'batch'],
    ['batch 1.5', { batch: 1.5 }, 'INVALID_OPTION', 'batch'],
    ['batch "2"', { batch: '2' }, 'INVALID_OPTION', 'batch'],
    ['a shape with the wrong channels', { shape: [3, 8, 8] }, 'INVALID_SHAPE', 'shape'],
    ['a 4-d shape whose batch differs', { shape: [2, 1, 8, 8], batch: 1 }, 'INVALID_SHAPE', 'batch = 1'],
    ['a negative seed', { seed: -1 }, 'INVALID_OPTION', 'seed'],
    ['a fractional seed', { seed: 0.5 }, 'INVALID_OPTION', 'seed'],
    ['a missing seed', { seed: undefined }, 'INVALID_OPTION', 'seed'],
    ['a sampler for another T', { sampler: ddim({ steps: 10, noiseSchedule: linearBetaSchedule({ trainTimesteps: 500 }) }) }, 'INVALID_OPTION', 'trainTimesteps = 500'],
    ['something that is not a sampler', { sampler: { steps: 10 } }, 'INVALID_OPTION', 'sampler'],
    ['a sampler with a timestep out of range', { sampler: { ...ddim({ steps: 2 }), timesteps: [1000, 0] } as Sampler }, 'INVALID_OPTION', '[0, 999]'],
    ['something that is not a denoiser', { denoiser: {} }, 'INVALID_OPTION', 'denoiser'],
    ['an unknown option (typo)', { steps: 10 }, 'INVALID_OPTION', 'steps'],
    ['onProgress that is not a function', { onProgress: 'bar' }, 'INVALID_OPTION', 'onProgress'],
    ['a signal that is not an AbortSignal', { signal: {} }, 'INVALID_OPTION', 'signal'],
    ['trajectory that is not a boolean', { trajectory: 'yes' }, 'INVALID_OPTION', 'trajectory'],
  ];

  for (const [name, overrides, code, mentions] of cases) {
    it(`rejects ${name} (${code}) without running or allocating`, async () => {
      const { error, calls, created } = await failure(overrides);
      expect(error.code).toBe(code);
      expect(error.message).toContain(mentions);
      expect(calls).toBe(0);
      expect(created).toBe(0);
    });
  }

  it('accepts [C, H, W] and [B, C, H, W] shapes that match the model', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const chw = await sample({ denoiser, sampler: ddim({ steps: 2 }), seed: 1, batch: 3, shape: [1, 8, 8] });
    const nchw = await sample({ denoiser, sampler: ddim({ steps: 2 }), seed: 1, batch: 3, shape: [3, 1, 8, 8] });
    expect(chw.shape).toEqual([3, 1, 8, 8]);
    expect(nchw.images).toEqual(chw.images);
    expect(chw.images).toHaveLength(3 * 64);
  });

  it('accepts custom fills and bigint seeds', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const fill = customFill<ReferenceTensor>('zeros', (context, ops) => ops.zeros(context.shape));
    const result = await sample({ denoiser, sampler: ddim({ steps: 3 }), skip: powerSchedule({ c: 1 }), fill, seed: 2n ** 63n });
    expect(result.stepsRun).toBe(3);
    expect(denoiser.calls[0]?.options?.fill).toBe(fill);
  });
});
