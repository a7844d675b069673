/**
 * Validate once: `sample()` checks the fill, the k schedule and the architecture-dependent stage
 * choice once, before step 1, and the steps pass the checked values on. Core's exports that
 * `sample()` calls are spied on (the module mock wraps the real functions); what a backend does
 * with a resolved fill inside `predict` is pinned in core's test/composition/validate-once.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as core from '@levelskip/core';
import { customFill, isResolvedFill, parseUNetSpec, powerSchedule, randomWeights, resolveFill, type Denoiser, type PredictOptions } from '@levelskip/core';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '@levelskip/core/testing';
import { ddim, sample } from '../../src/index.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';
import { rejectionOf } from '../helpers/errors.js';

vi.mock('@levelskip/core', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@levelskip/core')>();
  return {
    ...actual,
    describeArchitecture: vi.fn(actual.describeArchitecture),
    resolveFill: vi.fn(actual.resolveFill),
    assertFillSupported: vi.fn(actual.assertFillSupported),
    stageForTime: vi.fn(actual.stageForTime),
  };
});

const spies = {
  describeArchitecture: vi.mocked(core.describeArchitecture),
  resolveFill: vi.mocked(core.resolveFill),
  assertFillSupported: vi.mocked(core.assertFillSupported),
  stageForTime: vi.mocked(core.stageForTime),
};

afterEach(() => {
  for (const spy of Object.values(spies)) spy.mockClear();
});

/** Two decoder stages (t < 0.5 → 0, else 1) on a 2-level U-Net with side paths (every fill supported). */
const spec = parseUNetSpec({
  imageSize: 4,
  inChannels: 1,
  baseChannels: 8,
  channelMults: [1, 2],
  groups: 4,
  sidePaths: true,
  decoderStages: [
    { tStart: 0, tEnd: 0.5, baseChannels: 8 },
    { tStart: 0.5, tEnd: 1, baseChannels: 4 },
  ],
});

/** The reference denoiser, recording the options of every predict call. */
async function recordedReference(): Promise<{ denoiser: Denoiser<ReferenceTensor>; calls: PredictOptions<ReferenceTensor>[] }> {
  const inner = await createReferenceBackend().createDenoiser(spec, randomWeights(spec, { seed: 3 }));
  const calls: PredictOptions<ReferenceTensor>[] = [];
  const denoiser: Denoiser<ReferenceTensor> = {
    ...inner,
    predict: (x, t, options) => {
      calls.push(options ?? {});
      return inner.predict(x, t, options);
    },
  };
  return { denoiser, calls };
}

describe('sample() validates once', () => {
  it('a 50-step run derives no architecture (it asks the denoiser) and checks the fill once', async () => {
    const { denoiser, calls } = await recordedReference();
    spies.describeArchitecture.mockClear();
    const fill = customFill('half-skip', (context, ops) => ops.zeros(context.shape));
    const result = await sample({ denoiser, sampler: ddim({ steps: 50 }), skip: powerSchedule({ c: 2 }), fill, seed: 1 });
    expect(result.stepsRun).toBe(50);
    expect(spies.describeArchitecture).not.toHaveBeenCalled();
    expect(spies.resolveFill).toHaveBeenCalledTimes(1);
    expect(spies.assertFillSupported).not.toHaveBeenCalled();
    // The stage of each step is chosen once per run (50 steps: 50 look-ups, before step 1), not per predict.
    expect(spies.stageForTime).toHaveBeenCalledTimes(50);
    expect(calls).toHaveLength(50);
    // Every step gets the same fill, resolved for the denoiser's spec (predict then only looks it up),
    // and the stage its timestep selects (t < 500 → 0), so predict does not derive it again.
    const resolved = calls[0]!.fill!;
    expect(isResolvedFill(denoiser.spec, resolved)).toBe(true);
    expect(calls.every((c) => c.fill === resolved)).toBe(true);
    expect(calls.map((c) => c.stage)).toEqual(result.timesteps.map((t) => (t < 500 ? 0 : 1)));
    // Some steps skip (the schedule is honoured) and some do not.
    expect(new Set(result.ks).size).toBeGreaterThan(1);
  });

  it('derives the architecture once per run for a hand-written denoiser without one', async () => {
    const denoiser = recordingDenoiser(referenceOps, spec);
    expect(denoiser.architecture).toBeUndefined();
    await sample({ denoiser, sampler: ddim({ steps: 50 }), skip: powerSchedule({ c: 2 }), seed: 1 });
    expect(spies.describeArchitecture).toHaveBeenCalledTimes(1);
    expect(denoiser.calls).toHaveLength(50);
    expect(new Set(denoiser.calls.map((c) => c.options?.fill)).size).toBe(1);
  });

  it('a fill the pipeline already resolved is not checked again', async () => {
    const { denoiser } = await recordedReference();
    const fill = resolveFill(denoiser.spec, core.parseFill('interpolate'));
    spies.resolveFill.mockClear();
    await sample({ denoiser, sampler: ddim({ steps: 3 }), skip: powerSchedule({ c: 2 }), fill, seed: 1 });
    // sample() calls resolveFill once, which finds the mark and returns at once.
    expect(spies.resolveFill).toHaveBeenCalledTimes(1);
    expect(spies.resolveFill.mock.results[0]!.value).toBe(fill);
    expect(spies.assertFillSupported).not.toHaveBeenCalled();
  });

  it('bad k and an unsupported fill still fail at the boundary, before step 1, with typed errors naming the field', async () => {
    const { denoiser, calls } = await recordedReference();
    const badSchedule = { description: 'k = 5', kAt: () => 5, toJSON: () => ({}) } as unknown as core.SkipSchedule;
    const badK = await rejectionOf(sample({ denoiser, sampler: ddim({ steps: 5 }), skip: badSchedule, seed: 1 }), 'INVALID_SCHEDULE');
    expect(badK.message).toContain('skip');
    expect(badK.message).toContain('[0, 1]');
    const plain = recordingDenoiser(referenceOps); // no side paths: the interpolate fill is unsupported
    const badFill = await rejectionOf(sample({ denoiser: plain, sampler: ddim({ steps: 5 }), skip: powerSchedule({ c: 2 }), fill: core.parseFill('interpolate'), seed: 1 }), 'INVALID_FILL');
    expect(badFill.message).toContain('interpolate');
    expect(calls).toHaveLength(0);
    expect(plain.calls).toHaveLength(0);
  });
});
