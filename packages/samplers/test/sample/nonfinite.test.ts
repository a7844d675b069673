/**
 * `sample()` never returns non-finite images: a NaN or ±Inf in the model's prediction ε̂ or in the
 * sample x stops the run with `LevelskipError('NONFINITE')` naming the step, timestep and k, for
 * every sampler, and the run still releases every tensor (issue 21, item 6).
 */
import { LevelskipError, constantSchedule, parseUNetSpec, powerSchedule, randomWeights, type Denoiser, type PredictOptions } from '@levelskip/core';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, sample, type Sampler } from '../../src/index.js';
import { countNonFinite, firstNonFinite } from '../../src/finite-check.js';
import { countingOps, type CountingOps } from '../helpers/counting-ops.js';
import { rejectionOf } from '../helpers/errors.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';

/** A 4-level recording denoiser (ε̂ = 0.1·x; 1×8×8 images, so 128 values at batch 2) whose prediction at call `badCall` holds `value` at index 5. */
function poisonedDenoiser(ops: CountingOps<ReferenceTensor>, badCall: number, value: number): Denoiser<ReferenceTensor> {
  const inner = recordingDenoiser(ops);
  return {
    ...inner,
    async predict(x: ReferenceTensor, t: number | readonly number[], options?: PredictOptions<ReferenceTensor>) {
      const eps = await inner.predict(x, t, options);
      if (inner.calls.length !== badCall) return eps;
      const data = await ops.toFloat32(eps);
      ops.dispose(eps);
      data[5] = value;
      return ops.fromFloat32(data, ops.shape(x));
    },
  };
}

async function nonFinite(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await rejectionOf(promise);
  expect(LevelskipError.is(error), String(error)).toBe(true);
  expect((error as LevelskipError).code).toBe('NONFINITE');
  return error as LevelskipError;
}

const samplers: [string, () => Sampler][] = [
  ['ddpm', () => ddpm({ steps: 10 })],
  ['ddpm (clipSample)', () => ddpm({ steps: 10, clipSample: true })],
  ['ddim η = 0', () => ddim({ steps: 10 })],
  ['ddim η = 1 (clipSample)', () => ddim({ steps: 10, eta: 1, clipSample: true })],
  ['dpm-solver++ 2M', () => dpmSolverPlusPlus({ steps: 10 })],
  ['annealed Langevin', () => annealedLangevin({ noiseLevels: 5, stepsPerLevel: 2 })],
];

describe('finiteness checks of sample()', () => {
  for (const [name, make] of samplers) {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      it(`${name}: a prediction holding ${value} at step 4 stops the run there, naming step, timestep and k, and frees every tensor`, async () => {
        const ops = countingOps(referenceOps);
        const sampler = make();
        const skip = powerSchedule({ c: 2 });
        const error = await nonFinite(sample({ denoiser: poisonedDenoiser(ops, 4, value), sampler, skip, seed: 1, batch: 2 }));
        const t = sampler.timesteps[3] as number;
        const k = skip.kAt(t / 1000, 4);
        expect(error.message).toContain(`step 4 of 10 (timestep ${t}, k = ${k})`);
        expect(error.message).toContain(Number.isNaN(value) ? '1 NaN of 128 values' : `1 ${value > 0 ? '+' : '-'}Infinity of 128 values`);
        expect(error.message).toMatch(/prediction/);
        expect(ops.live.size).toBe(0);
      });
    }
  }

  it('with checkFiniteEvery: 3, a NaN at step 4 is caught at the step-6 check, which names the window it arose in', async () => {
    const ops = countingOps(referenceOps);
    const error = await nonFinite(sample({ denoiser: poisonedDenoiser(ops, 4, Number.NaN), sampler: ddim({ steps: 10 }), seed: 1, checkFiniteEvery: 3 }));
    expect(error.message).toContain('step 6 of 10');
    expect(error.message).toContain('after step 3, was finite, so it arose in steps 4 to 6');
    expect(ops.live.size).toBe(0);
  });

  it('with checkFiniteEvery: 0, the final samples are still checked (the NaN propagated from step 4)', async () => {
    const ops = countingOps(referenceOps);
    const error = await nonFinite(sample({ denoiser: poisonedDenoiser(ops, 4, Number.NaN), sampler: ddim({ steps: 10 }), seed: 1, checkFiniteEvery: 0 }));
    expect(error.message).toContain('the sample x after step 10 of 10 (timestep 0, k = 0)');
    expect(error.message).toContain('before step 1, was finite, so it arose in steps 1 to 10');
    expect(ops.live.size).toBe(0);
  });

  it('the last step is always checked, whatever the interval (an Inf that clipping would hide)', async () => {
    const ops = countingOps(referenceOps);
    // DDIM with clipSample clamps x̂₀: the final x would be finite, the image silently wrong.
    const error = await nonFinite(sample({ denoiser: poisonedDenoiser(ops, 10, Number.POSITIVE_INFINITY), sampler: ddim({ steps: 10, clipSample: true }), seed: 1, checkFiniteEvery: 4 }));
    expect(error.message).toContain('prediction ε at step 10 of 10');
  });

  it('with a trajectory, the sample after every step is checked too', async () => {
    const ops = countingOps(referenceOps);
    // ε̂ is finite throughout (checks off), but a huge prediction makes x overflow float32 at step 2.
    const inner = recordingDenoiser(ops);
    const denoiser: Denoiser<ReferenceTensor> = {
      ...inner,
      async predict(x, t, o) {
        const eps = await inner.predict(x, t, o);
        if (inner.calls.length !== 2) return eps;
        const huge = ops.scale(eps, 1e300);
        ops.dispose(eps);
        return huge;
      },
    };
    const error = await nonFinite(sample({ denoiser, sampler: ddim({ steps: 5 }), seed: 1, checkFiniteEvery: 0, trajectory: true }));
    expect(error.message).toContain('the sample x after step 2 of 5');
    expect(ops.live.size).toBe(0);
  });

  it('a finite run reads ε̂ back once per step by default and is unchanged by the checks', async () => {
    let reads = 0;
    const ops = { ...referenceOps, toFloat32: (x: ReferenceTensor) => (reads++, referenceOps.toFloat32(x)) };
    const checkedRun = await sample({ denoiser: recordingDenoiser(ops), sampler: ddim({ steps: 10 }), seed: 3 });
    expect(reads).toBe(11);
    reads = 0;
    const unchecked = await sample({ denoiser: recordingDenoiser(ops), sampler: ddim({ steps: 10 }), seed: 3, checkFiniteEvery: 0 });
    expect(reads).toBe(1);
    expect(unchecked.images).toEqual(checkedRun.images);
    reads = 0;
    await sample({ denoiser: recordingDenoiser(ops), sampler: ddim({ steps: 10 }), seed: 3, checkFiniteEvery: 4 });
    // Steps 4, 8 and 10 (the last), then the final read-back.
    expect(reads).toBe(4);
  });

  for (const bad of [-1, 1.5, '2', Number.NaN]) {
    it(`rejects checkFiniteEvery = ${String(bad)} before step 1`, async () => {
      const denoiser = recordingDenoiser(referenceOps);
      const error = await rejectionOf(sample({ denoiser, sampler: ddim({ steps: 3 }), seed: 1, checkFiniteEvery: bad as number }));
      expect(error).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('checkFiniteEvery') });
      expect(denoiser.calls).toHaveLength(0);
    });
  }
});

describe('a model whose weights hold Infinity', () => {
  const spec = parseUNetSpec({ imageSize: 4, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4 });

  it('is stopped at the first step that runs the bad (deep) level: k = 0 steps fail, skipping steps did not', async () => {
    const weights = new Map(randomWeights(spec, { seed: 3 }));
    const name = 'mid_block.resnets.0.conv1.bias';
    const tensor = weights.get(name)!;
    const data = Float32Array.from(tensor.data);
    data[0] = Number.POSITIVE_INFINITY;
    weights.set(name, { shape: tensor.shape, data });
    let denoiser: Denoiser<ReferenceTensor>;
    try {
      denoiser = await createReferenceBackend().createDenoiser(spec, weights);
    } catch (error) {
      // Core's load-time check refused the weights: the non-finite value is caught even earlier.
      expect(LevelskipError.is(error)).toBe(true);
      return;
    }
    // DDIM-4 visits t = 750, 500, 250, 0; c = 2 skips the middle block (k = 1) at the first two.
    const error = await nonFinite(sample({ denoiser, sampler: ddim({ steps: 4 }), skip: powerSchedule({ c: 2 }), seed: 2 }));
    expect(error.message).toContain('step 3 of 4 (timestep 250, k = 0)');
    // Skipping the bad level at every step samples fine: the checks do not fire on finite runs.
    const skipped = await sample({ denoiser, sampler: ddim({ steps: 4 }), skip: constantSchedule(1), seed: 2 });
    expect(skipped.images.every(Number.isFinite)).toBe(true);
  });
});

describe('the scan', () => {
  it('finds NaN and ±Inf anywhere and counts them by kind; finite extremes pass', () => {
    const data = Float32Array.from([0, -0, 3.4e38, -3.4e38, 1e-45]);
    expect(firstNonFinite(data)).toBe(-1);
    const bad = Float32Array.from([1, Number.NaN, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]);
    expect(firstNonFinite(bad)).toBe(1);
    expect(countNonFinite(bad)).toEqual({ nan: 2, positiveInfinity: 1, negativeInfinity: 1, total: 6 });
    expect(firstNonFinite(Float32Array.from([0, 0, Number.NEGATIVE_INFINITY]))).toBe(2);
  });
});
