/**
 * The `profile` timing hook of `sample()` (what `pnpm bench overhead` reads), the `cacheLevels`
 * it passes with the cache fill, and the fused `ops.combine` path of the samplers' updates. No
 * figure is asserted: only which spans are recorded, where, and that none of it changes a sample.
 */
import { cacheFillEvery, constantSchedule, createTimingRecorder, powerSchedule, type TensorOps } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { ddim, ddpm, dpmSolverPlusPlus, sample } from '../../src/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';

describe('sample({ profile })', () => {
  it('records one predict span per step with its k, the updates, the noise drawn and every check', async () => {
    const profile = createTimingRecorder();
    const denoiser = recordingDenoiser(referenceOps);
    // DDIM-10 with η = 1: σ > 0 at every step but the last (ᾱ_s = 1 there), so 9 noise draws.
    const result = await sample({ denoiser, sampler: ddim({ steps: 10, eta: 1 }), skip: powerSchedule({ c: 2 }), seed: 1, profile });
    const of = (phase: string) => profile.spans.filter((s) => s.phase === phase);
    expect(of('predict').map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(of('predict').map((s) => s.k)).toEqual(result.ks);
    expect(of('noise').map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // A check of ε̂ after each step's prediction, then the final sample's.
    expect(of('check').map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
    expect(new Set(of('sampler').map((s) => s.step))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(profile.spans.every((s) => Number.isFinite(s.ms))).toBe(true);
    expect(profile.total('predict')).toBe(of('predict').reduce((sum, s) => sum + s.ms, 0));
    // Handed on to the denoiser, so a backend can add its own spans.
    expect(denoiser.calls.every((call) => call.options?.profile === profile)).toBe(true);
  });

  it('changes nothing: the same samples with and without a profile, and no profile reaches predict without one', async () => {
    const run = async (withProfile: boolean) => {
      const denoiser = recordingDenoiser(referenceOps);
      const result = await sample({
        denoiser,
        sampler: ddim({ steps: 7, eta: 1 }),
        skip: constantSchedule(3),
        fill: cacheFillEvery(3),
        seed: 5,
        ...(withProfile ? { profile: createTimingRecorder() } : {}),
      });
      return { images: Array.from(result.images), options: denoiser.calls.map((c) => c.options) };
    };
    const [plain, profiled] = [await run(false), await run(true)];
    expect(profiled.images).toEqual(plain.images);
    expect(plain.options.every((o) => o !== undefined && !('profile' in o))).toBe(true);
  });

  it('rejects a profile without record() before step 1, naming the option', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const error = await rejectionOf(sample({ denoiser, sampler: ddim({ steps: 5 }), seed: 1, profile: {} as never }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/sample: profile must be a TimingProfile/);
    expect(denoiser.calls).toHaveLength(0);
  });
});

describe('sample() with the cache fill: cacheLevels', () => {
  it('asks the denoiser to store only the cut levels its skipping steps read', async () => {
    // Four levels: k = 3 reads level 0. A constant k = 3 with cache:3 reads level 0 alone.
    const constant = recordingDenoiser(referenceOps);
    await sample({ denoiser: constant, sampler: ddim({ steps: 7 }), skip: constantSchedule(3), fill: cacheFillEvery(3), seed: 1 });
    expect(constant.calls.every((c) => JSON.stringify(c.options?.cacheLevels) === '[0]')).toBe(true);
    // DDIM-10 at c = 2 asks for k = 3, 3, 3, 3, 3, 2, 2, 1, 0, 0: levels 0, 1 and 2 are read.
    const power = recordingDenoiser(referenceOps);
    await sample({ denoiser: power, sampler: ddim({ steps: 10 }), skip: powerSchedule({ c: 2 }), fill: cacheFillEvery(100), seed: 1 });
    expect([...(power.calls[0]?.options?.cacheLevels ?? [])].sort()).toEqual([0, 1, 2]);
    // No cache, no cacheLevels.
    const zero = recordingDenoiser(referenceOps);
    await sample({ denoiser: zero, sampler: ddim({ steps: 4 }), skip: powerSchedule({ c: 2 }), seed: 1 });
    expect(zero.calls.every((c) => c.options !== undefined && !('cacheLevels' in c.options))).toBe(true);
  });
});

interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Float32 host ops (each op's result rounded to float32 on store, as the ONNX backend's), with a
 * counter per op; `fused` adds `combine` with the contract's rounding: products, then partial
 * sums in the order given, each rounded to float32.
 */
function float32Ops(fused: boolean): { ops: TensorOps<HostTensor>; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const count = (op: string): void => {
    counts[op] = (counts[op] ?? 0) + 1;
  };
  const map = (x: HostTensor, f: (v: number, i: number) => number): HostTensor => ({ shape: x.shape, data: x.data.map(f) });
  const ops: TensorOps<HostTensor> = {
    name: fused ? 'float32-fused' : 'float32',
    shape: (x) => x.shape,
    fromFloat32: (data, shape) => ({ shape, data: data.slice() }),
    toFloat32: (x) => Promise.resolve(x.data.slice()),
    zeros: (shape) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }),
    add: (a, b) => (count('add'), map(a, (v, i) => v + b.data[i]!)),
    sub: (a, b) => (count('sub'), map(a, (v, i) => v - b.data[i]!)),
    mul: (a, b) => (count('mul'), map(a, (v, i) => v * b.data[i]!)),
    scale: (x, factor) => (count('scale'), map(x, (v) => v * factor)),
    clamp: (x, min, max) => (count('clamp'), map(x, (v) => Math.min(max, Math.max(min, v)))),
    concat: () => {
      throw new Error('not used');
    },
    slice: () => {
      throw new Error('not used');
    },
    resize: () => {
      throw new Error('not used');
    },
    avgPool: () => {
      throw new Error('not used');
    },
    clone: (x) => (count('clone'), map(x, (v) => v)),
    dispose: () => undefined,
  };
  if (!fused) return { ops, counts };
  return {
    counts,
    ops: {
      ...ops,
      combine(terms, clamp) {
        count('combine');
        const [c0, x0] = terms[0]!;
        const out = x0.data.map((v) => v * c0);
        for (const [c, x] of terms.slice(1)) for (let i = 0; i < out.length; i++) out[i] = out[i]! + Math.fround(c * x.data[i]!);
        if (clamp !== undefined) for (let i = 0; i < out.length; i++) out[i] = Math.min(clamp.max, Math.max(clamp.min, out[i]!));
        return { shape: x0.shape, data: out };
      },
    },
  };
}

describe('fused updates (ops.combine)', () => {
  it.each([
    ['DDIM η = 1 with clipping', ddim({ steps: 8, eta: 1, clipSample: true }), 2],
    ['DDPM', ddpm({ steps: 8 }), undefined],
    ['DPM-Solver++ 2M', dpmSolverPlusPlus({ steps: 8 }), undefined],
  ] as const)('%s gives the same samples bit for bit, in one combine per update', async (_, sampler, combinesPerStep) => {
    const runWith = async (fused: boolean) => {
      const { ops, counts } = float32Ops(fused);
      const denoiser = recordingDenoiser(ops);
      const result = await sample({ denoiser, sampler, skip: powerSchedule({ c: 2 }), seed: 3, batch: 2 });
      return { images: Array.from(result.images), counts };
    };
    const [chain, fused] = [await runWith(false), await runWith(true)];
    expect(fused.images).toEqual(chain.images);
    expect(chain.counts.combine).toBeUndefined();
    // With combine, no scale, add, sub or clamp is left in the updates (the fake model's own 0.1·x aside).
    expect((fused.counts.add ?? 0) + (fused.counts.sub ?? 0) + (fused.counts.clamp ?? 0)).toBe(0);
    expect(fused.counts.combine).toBeGreaterThan(0);
    if (combinesPerStep !== undefined) expect(fused.counts.combine).toBe(8 * combinesPerStep);
  });
});
