import {
  SeededRng,
  cacheFill,
  cacheFillEvery,
  constantSchedule,
  stageSchedule,
  duplicateFill,
  gaussianNoise,
  interpolateFill,
  linearBetaSchedule,
  parseUNetSpec,
  powerSchedule,
  randomWeights,
  zeroFill,
  type FillStrategy,
} from '@levelskip/core';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, ddpm, ddpmCoefficients, dpmSolverPlusPlus, sample, type SampleProgress } from '../../src/index.js';
import { gaussianDenoiser } from '../helpers/gaussian-denoiser.js';
import { recordingDenoiser, tinySpec } from '../helpers/recording-denoiser.js';

const mean16 = new Float32Array(16).map((_, i) => -1 + (2 * i) / 15);
const oracle = () => gaussianDenoiser(referenceOps, tinySpec, linearBetaSchedule(), mean16, 0.8);

describe('progress events', () => {
  it('reports step, total, timestep, k and elapsed ms after every step', async () => {
    const events: SampleProgress[] = [];
    const denoiser = recordingDenoiser(referenceOps);
    await sample({ denoiser, sampler: ddim({ steps: 10 }), skip: powerSchedule({ c: 2 }), seed: 1, onProgress: (event) => events.push(event) });
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.every((e) => e.total === 10)).toBe(true);
    expect(events.map((e) => e.timestep)).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(events.map((e) => e.k)).toEqual([3, 3, 3, 3, 3, 2, 2, 1, 0, 0]);
    expect(events.every((e, i) => e.elapsedMs >= 0 && (i === 0 || e.elapsedMs >= (events[i - 1] as SampleProgress).elapsedMs))).toBe(true);
  });
});

describe('cache fill refreshes', () => {
  it('asks the model for full depth every m steps with cache:m and a constant schedule, and reports it', async () => {
    const events: SampleProgress[] = [];
    const denoiser = recordingDenoiser(referenceOps);
    const result = await sample({ denoiser, sampler: ddim({ steps: 7 }), skip: constantSchedule(3), fill: cacheFillEvery(3), seed: 1, onProgress: (e) => events.push(e) });
    const asked = denoiser.calls.map((call) => call.options?.k);
    expect(asked).toEqual([0, 3, 3, 0, 3, 3, 0]);
    expect(result.ks).toEqual([0, 3, 3, 0, 3, 3, 0]);
    expect(events.map((e) => e.k)).toEqual([0, 3, 3, 0, 3, 3, 0]);
  });
});

describe('seeds', () => {
  const samplers = [
    () => ddpm({ steps: 20 }),
    () => ddim({ steps: 10, eta: 0.5 }),
    () => dpmSolverPlusPlus({ steps: 10 }),
    () => annealedLangevin({ noiseLevels: 4, stepsPerLevel: 3 }),
  ];

  it('the same seed gives bit-identical images; another seed different ones', async () => {
    for (const make of samplers) {
      const a = await sample({ denoiser: oracle(), sampler: make(), seed: 7, batch: 3 });
      const b = await sample({ denoiser: oracle(), sampler: make(), seed: 7, batch: 3 });
      const c = await sample({ denoiser: oracle(), sampler: make(), seed: 8, batch: 3 });
      expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).toBe(true);
      expect(a.images).not.toEqual(c.images);
    }
  });

  it('x_T is stream 0 of the seed, in NCHW order', async () => {
    const result = await sample({ denoiser: oracle(), sampler: ddim({ steps: 3 }), seed: 11, batch: 2, trajectory: true });
    expect(result.trajectory?.[0]).toEqual(gaussianNoise(11, [2, 1, 4, 4], 0));
  });

  it('step noise is stream 1, B·C·H·W values per noisy step, in step order', async () => {
    // With ε̂ = 0.1·x (recording denoiser) a DDPM step is x' = (a + 0.1·b)·x + σ z, so z = (x' - (a + 0.1 b) x)/σ.
    const denoiser = recordingDenoiser(referenceOps, tinySpec);
    const sampler = ddpm({ steps: 10 });
    const result = await sample({ denoiser, sampler, seed: 5, batch: 2, trajectory: true });
    const stream = new SeededRng(5, 1);
    for (let step = 0; step < 2; step++) {
      const t = sampler.timesteps[step] as number;
      const c = ddpmCoefficients(sampler.noiseSchedule, t, sampler.timesteps[step + 1] as number, 'fixed_small');
      const gain = c.meanFromX0 * c.x0FromX + c.meanFromX - 0.1 * c.meanFromX0 * c.x0FromEps;
      const before = result.trajectory?.[step] as Float32Array;
      const after = result.trajectory?.[step + 1] as Float32Array;
      const expected = stream.normal(32);
      // The trajectory is float32, so z is recovered to about 1e-6/σ.
      after.forEach((value, i) => expect(Math.abs((value - gain * (before[i] as number)) / c.sigma - (expected[i] as number))).toBeLessThan(1e-4));
    }
  });
});

describe('trajectory', () => {
  it('holds the initial sample and the sample after every step; the last is the result', async () => {
    const result = await sample({ denoiser: oracle(), sampler: dpmSolverPlusPlus({ steps: 5 }), seed: 2, batch: 2, trajectory: true });
    expect(result.trajectory).toHaveLength(6);
    expect(result.trajectory?.[5]).toEqual(result.images);
    expect(result.trajectory?.every((frame) => frame.length === 32)).toBe(true);
    const plain = await sample({ denoiser: oracle(), sampler: dpmSolverPlusPlus({ steps: 5 }), seed: 2, batch: 2 });
    expect(plain.trajectory).toBeUndefined();
    expect(plain.images).toEqual(result.images);
  });
});

describe('consistency between samplers', () => {
  it('DDIM with η = 1 takes the same steps as DDPM with σ² = β̃ over the same timesteps (same seed)', async () => {
    const a = await sample({ denoiser: oracle(), sampler: ddim({ steps: 25, eta: 1 }), seed: 4, batch: 8 });
    const b = await sample({ denoiser: oracle(), sampler: ddpm({ steps: 25, varianceType: 'fixed_small' }), seed: 4, batch: 8 });
    a.images.forEach((value, i) => expect(Math.abs(value - (b.images[i] as number))).toBeLessThan(1e-5));
  });

  it('DPM-Solver++ of order 1 is DDIM with η = 0 (Lu et al. 2022, §3.2) on the same (trailing) timesteps', async () => {
    const a = await sample({ denoiser: oracle(), sampler: ddim({ steps: 10, timestepSpacing: 'trailing' }), seed: 4, batch: 8 });
    const b = await sample({ denoiser: oracle(), sampler: dpmSolverPlusPlus({ steps: 10, order: 1, timestepSpacing: 'trailing' }), seed: 4, batch: 8 });
    expect(a.timesteps).toEqual(b.timesteps);
    a.images.forEach((value, i) => expect(Math.abs(value - (b.images[i] as number))).toBeLessThan(1e-5));
  });
});

describe('on the float64 reference U-Net', () => {
  const spec = parseUNetSpec({ imageSize: 4, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4, sidePaths: true });
  const fills: FillStrategy<ReferenceTensor>[] = [zeroFill, duplicateFill, interpolateFill, cacheFill];

  it('samples with every fill and the power schedule, deterministically', async () => {
    const denoiser = await createReferenceBackend().createDenoiser(spec, randomWeights(spec, { seed: 3 }));
    for (const fill of fills) {
      const options = { denoiser, sampler: ddim({ steps: 4 }), skip: powerSchedule({ c: 2 }), fill, seed: 9, batch: 2 };
      const first = await sample(options);
      const second = await sample(options);
      // The cache fill's first step has nothing cached yet, so it runs (and is reported) at full depth.
      expect(first.ks).toEqual(fill.kind === 'cache' ? [0, 1, 0, 0] : [1, 1, 0, 0]);
      expect(first.images.every(Number.isFinite)).toBe(true);
      expect(first.images).toEqual(second.images);
    }
  });

  it('cache:m gives the images of plain cache with the refresh steps asked for at full depth', async () => {
    const denoiser = await createReferenceBackend().createDenoiser(spec, randomWeights(spec, { seed: 3 }));
    // DDIM-5 visits t = 0.8, 0.6, 0.4, 0.2, 0; cache:2 with k = 1 throughout runs k = 0, 1, 0, 1, 0.
    const refreshing = await sample({ denoiser, sampler: ddim({ steps: 5 }), skip: constantSchedule(1), fill: cacheFillEvery(2), seed: 5, batch: 2 });
    const table = stageSchedule([
      { tStart: 0, tEnd: 0.1, k: 0 },
      { tStart: 0.1, tEnd: 0.3, k: 1 },
      { tStart: 0.3, tEnd: 0.5, k: 0 },
      { tStart: 0.5, tEnd: 0.7, k: 1 },
      { tStart: 0.7, tEnd: 1, k: 0 },
    ]);
    const explicit = await sample({ denoiser, sampler: ddim({ steps: 5 }), skip: table, fill: cacheFill, seed: 5, batch: 2 });
    expect(refreshing.ks).toEqual([0, 1, 0, 1, 0]);
    expect(explicit.ks).toEqual([0, 1, 0, 1, 0]);
    expect(refreshing.images).toEqual(explicit.images);
    const stale = await sample({ denoiser, sampler: ddim({ steps: 5 }), skip: constantSchedule(1), fill: cacheFill, seed: 5, batch: 2 });
    expect(stale.ks).toEqual([0, 1, 1, 1, 1]);
    expect(stale.images).not.toEqual(refreshing.images);
  });
});
