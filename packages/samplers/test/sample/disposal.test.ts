import { cacheFill, parseUNetSpec, powerSchedule, randomWeights, type Denoiser } from '@levelskip/core';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, sample, type Sampler } from '../../src/index.js';
import { countingOps } from '../helpers/counting-ops.js';
import { rejectionOf } from '../helpers/errors.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';

// One of each, with every tensor-producing option on: noise, clipping, Langevin's input scaling, DPM's history.
const samplers: [string, () => Sampler][] = [
  ['ddpm (clipSample)', () => ddpm({ steps: 6, clipSample: true })],
  ['ddim η = 1', () => ddim({ steps: 6, eta: 1 })],
  ['dpm-solver++ 2M', () => dpmSolverPlusPlus({ steps: 6 })],
  ['annealed Langevin', () => annealedLangevin({ noiseLevels: 3, stepsPerLevel: 2 })],
];

describe('no tensor outlives a run (counting TensorOps)', () => {
  for (const [name, make] of samplers) {
    it(`${name}: after a full run with the cache fill and a trajectory`, async () => {
      const ops = countingOps(referenceOps);
      const denoiser = recordingDenoiser(ops);
      const result = await sample({ denoiser, sampler: make(), fill: cacheFill, skip: powerSchedule({ c: 2 }), seed: 3, batch: 2, trajectory: true });
      expect(result.stepsRun).toBe(6);
      expect(ops.created()).toBeGreaterThan(20);
      expect(ops.live.size).toBe(0);
      expect(denoiser.caches).toHaveLength(1);
      expect(denoiser.caches[0]?.disposed).toBe(true);
    });

    it(`${name}: after an abort in the middle (sampler state and cache released)`, async () => {
      const ops = countingOps(referenceOps);
      const denoiser = recordingDenoiser(ops);
      const controller = new AbortController();
      const reason = new Error('user pressed stop');
      const error = await rejectionOf(
        sample({
          denoiser,
          sampler: make(),
          fill: cacheFill,
          seed: 3,
          signal: controller.signal,
          onProgress: (event) => {
            if (event.step === 3) controller.abort(reason);
          },
        }),
      );
      expect(error.code).toBe('ABORTED');
      expect(error.message).toContain('after step 3 of 6');
      expect(error.cause).toBe(reason);
      expect(denoiser.calls).toHaveLength(3);
      expect(ops.live.size).toBe(0);
      expect(denoiser.caches[0]?.disposed).toBe(true);
    });
  }

  it('an abort during a model call stops before the update and releases the prediction', async () => {
    const ops = countingOps(referenceOps);
    const controller = new AbortController();
    const denoiser = recordingDenoiser(ops, undefined, (call) => {
      if (call === 2) controller.abort();
    });
    const error = await rejectionOf(sample({ denoiser, sampler: dpmSolverPlusPlus({ steps: 5 }), seed: 0, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(denoiser.calls).toHaveLength(2);
    expect(ops.live.size).toBe(0);
  });

  it('an already aborted signal fails before any work', async () => {
    const ops = countingOps(referenceOps);
    const denoiser = recordingDenoiser(ops);
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(sample({ denoiser, sampler: ddim({ steps: 5 }), seed: 0, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toContain('before step 1');
    expect(denoiser.calls).toHaveLength(0);
    expect(ops.created()).toBe(0);
  });

  it('a model error at step 3 is rethrown and everything is released', async () => {
    const ops = countingOps(referenceOps);
    const failure = new Error('device lost');
    const denoiser = recordingDenoiser(ops, undefined, (call) => {
      if (call === 3) throw failure;
    });
    await expect(sample({ denoiser, sampler: dpmSolverPlusPlus({ steps: 5 }), fill: cacheFill, seed: 0 })).rejects.toBe(failure);
    expect(ops.live.size).toBe(0);
    expect(denoiser.caches[0]?.disposed).toBe(true);
  });

  it('an onProgress error is rethrown and everything is released', async () => {
    const ops = countingOps(referenceOps);
    const failure = new Error('progress bar broke');
    const denoiser = recordingDenoiser(ops);
    const run = sample({
      denoiser,
      sampler: annealedLangevin({ noiseLevels: 2, stepsPerLevel: 2 }),
      seed: 0,
      onProgress: () => {
        throw failure;
      },
    });
    await expect(run).rejects.toBe(failure);
    expect(denoiser.calls).toHaveLength(1);
    expect(ops.live.size).toBe(0);
  });

  it('the real reference U-Net path (skipping, cache fill) leaves nothing alive either', async () => {
    const spec = parseUNetSpec({ imageSize: 4, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4 });
    const inner = await createReferenceBackend().createDenoiser(spec, randomWeights(spec, { seed: 2 }));
    const ops = countingOps(referenceOps);
    // The model computes with its own ops; its outputs become the run's tensors, so track them.
    const denoiser: Denoiser<ReferenceTensor> = {
      ...inner,
      ops,
      predict: async (x, t, options) => ops.track(await inner.predict(x, t, options)),
    };
    const result = await sample({ denoiser, sampler: dpmSolverPlusPlus({ steps: 4 }), skip: powerSchedule({ c: 2 }), fill: cacheFill, seed: 5, batch: 2 });
    expect(result.ks).toEqual([0, 1, 1, 0]); // the first step has nothing cached: full depth
    expect(result.images.every(Number.isFinite)).toBe(true);
    expect(ops.live.size).toBe(0);
  });
});
