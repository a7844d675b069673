import { describe, expect, it } from 'vitest';
import type { Denoiser, PredictOptions } from '../../../src/backend/denoiser.js';
import { LevelskipError } from '../../../src/errors/levelskip-error.js';
import { FeatureCache } from '../../../src/fills/feature-cache.js';
import { cacheFill, meanFill, zeroFill } from '../../../src/fills/fill-registry.js';
import { flopTable, flopsAtDepth } from '../../../src/geometry/flops.js';
import { SeededRng } from '../../../src/random/seeded-rng.js';
import { calibrate, type CalibrationProgress } from '../../../src/schedules/calibrated/calibrate.js';
import type { CalibratedCacheFill, CalibratedStatelessFill } from '../../../src/schedules/calibrated/calibration-table.js';
import { parseCalibrationTable } from '../../../src/schedules/calibrated/calibration-table.js';
import { optimalSchedule } from '../../../src/schedules/calibrated/optimal-schedule.js';
import { parseUNetSpec } from '../../../src/spec/unet-spec.js';
import { createReferenceBackend, referenceOps, tinySpecs, fixtureWeights, type ReferenceTensor } from '../../../src/testing/index.js';

const spec = parseUNetSpec(tinySpecs.resnet); // 8×8×2, N = 3
const D = 2 * 8 * 8;
const ops = referenceOps;

/** ᾱ_t of the linear schedule, from its definition. */
function alphaBar(t: number): number {
  let product = 1;
  for (let s = 0; s <= t; s++) product *= 1 - (1e-4 + (s * (0.02 - 1e-4)) / 999);
  return product;
}

/**
 * A denoiser whose skipping errors are known exactly: ε_0 = x; the zero fill adds 0.1·k to every
 * value, duplicate 0.2·k; the cache fill adds 0.001·k·(t_cached − t), where t_cached is the
 * timestep of the full-depth call that filled the cache (stored in it).
 */
function analyticDenoiser(): Denoiser<ReferenceTensor> {
  return {
    specificationVersion: 'v1',
    spec,
    levels: 3,
    backend: 'analytic',
    ops,
    async predict(x: ReferenceTensor, timesteps: number | readonly number[], options: PredictOptions<ReferenceTensor> = {}) {
      const k = options.k ?? 0;
      const t = typeof timesteps === 'number' ? timesteps : timesteps[0]!;
      const fill = options.fill ?? zeroFill;
      const x32 = await ops.toFloat32(x);
      let offset = 0;
      if (k === 0) {
        if (options.cache) for (let level = 0; level < 2; level++) options.cache.set(0, level, ops.fromFloat32(new Float32Array([t]), [1]));
      } else if (fill.kind === 'cache') {
        const cached = options.cache!.get(0, 2 - k)!;
        offset = 0.001 * k * ((await ops.toFloat32(cached))[0]! - t);
      } else {
        offset = (fill.kind === 'duplicate' ? 0.2 : 0.1) * k;
      }
      return ops.fromFloat32(x32.map((v) => v + offset), ops.shape(x));
    },
    createFeatureCache: () => new FeatureCache(ops),
    dispose() {},
  };
}

function heldOut(count: number): Float32Array {
  return new SeededRng(123).uniform(count * D).map((u) => 2 * u - 1);
}

describe('calibrate on a denoiser with known errors', () => {
  it('records mean ‖ε_k − ε_0‖², the x0 error (1 − ᾱ)/ᾱ times it, cache errors per age, and FLOP costs', async () => {
    const progress: CalibrationProgress[] = [];
    const data = heldOut(6);
    const table = await calibrate(analyticDenoiser(), {
      data,
      samples: 5,
      batch: 2,
      timesteps: [0, 500, 980],
      fills: ['zero', 'duplicate', 'cache'],
      steps: 50,
      ages: [1, 3],
      cost: 'flops',
      onProgress: (p) => progress.push(p),
    });
    expect(table.ks).toEqual([1, 2]);
    expect(table.samples).toBe(5);
    expect(table.dimensions).toBe(D);
    const zero = table.fills[0] as CalibratedStatelessFill;
    const duplicate = table.fills[1] as CalibratedStatelessFill;
    const cache = table.fills[2] as CalibratedCacheFill;
    table.timesteps.forEach((t, i) => {
      for (const [j, k] of [1, 2].entries()) {
        // ‖0.1k·1‖² over D values, the same for every image.
        expect(zero.epsilonError[i]![j]).toBeCloseTo(D * (0.1 * k) ** 2, 4);
        expect(duplicate.epsilonError[i]![j]).toBeCloseTo(D * (0.2 * k) ** 2, 4);
        const factor = (1 - alphaBar(t)) / alphaBar(t);
        expect(zero.x0Error[i]![j]! / zero.epsilonError[i]![j]!).toBeCloseTo(factor, 6);
      }
    });
    // Spacing ⌊1000/50⌋ = 20: age a reads a cache filled 20a timesteps earlier, error D·(0.001·k·20a)².
    expect(cache.stepSpacing).toBe(20);
    expect(cache.ages).toEqual([1, 3]);
    for (const i of [0, 1]) {
      for (const [j, k] of [1, 2].entries()) {
        for (const [a, age] of [1, 3].entries()) expect(cache.epsilonError[i]![j]![a]).toBeCloseTo(D * (0.001 * k * 20 * age) ** 2, 4);
      }
    }
    // t = 980: the full-depth step 20 timesteps earlier would be t = 1000 > T − 1: not measurable.
    expect(cache.epsilonError[2]).toEqual([
      [null, null],
      [null, null],
    ]);
    // The data variance: per-pixel variance over the 5 images, averaged over pixels.
    let variance = 0;
    for (let p = 0; p < D; p++) {
      const values = [0, 1, 2, 3, 4].map((n) => data[n * D + p]!);
      const mean = values.reduce((s, v) => s + v, 0) / 5;
      variance += values.reduce((s, v) => s + (v - mean) ** 2, 0) / 4;
    }
    expect(table.dataVariance).toBeCloseTo(variance / D, 10);
    // FLOP costs: those of core's FLOP model per depth.
    const flops = flopTable(spec);
    expect(zero.cost).toEqual([0, 1, 2].map((k) => flopsAtDepth(flops, k, { fill: 'zero' })));
    expect(table.costUnit).toBe('flops');
    // Progress counts every prediction: 3 timesteps × 3 batches × (1 + 2 fills·2 ks + 2 ages·(1 + 2)).
    expect(progress.at(-1)).toMatchObject({ done: 3 * 3 * 11, total: 3 * 3 * 11 });
    // A table parses back from JSON.
    expect(parseCalibrationTable(JSON.parse(JSON.stringify(table)))).toEqual(table);
  });

  it('converts a v-predicting model’s output errors to ε errors: ‖δε‖² = ᾱ_t ‖δv‖²', async () => {
    const vSpec = parseUNetSpec({ ...tinySpecs.resnet, prediction: 'v' });
    const table = await calibrate({ ...analyticDenoiser(), spec: vSpec }, { data: heldOut(2), timesteps: [100, 700], fills: ['zero'], cost: 'flops' });
    const zero = table.fills[0] as CalibratedStatelessFill;
    [100, 700].forEach((t, i) => {
      for (const [j, k] of [1, 2].entries()) expect(zero.epsilonError[i]![j]).toBeCloseTo(alphaBar(t) * D * (0.1 * k) ** 2, 4);
    });
  });

  it('measures ms per prediction at the batch size when asked', async () => {
    const table = await calibrate(analyticDenoiser(), { data: heldOut(4), timesteps: 2, fills: ['zero', 'cache'], ages: [1], costRepeats: 2 });
    expect(table.costUnit).toBe('ms');
    expect(table.costBatch).toBe(4);
    for (const entry of table.fills) {
      expect(entry.cost).toHaveLength(3);
      for (const cost of entry.cost) expect(cost).toBeGreaterThan(0);
    }
  });

  it('rejects bad options naming the field, an unsupported fill, and stops on abort', async () => {
    const denoiser = analyticDenoiser();
    const cases: [Parameters<typeof calibrate>[1], string][] = [
      [{ data: new Float32Array(D + 1) }, 'data'],
      [{ data: heldOut(2), samples: 3 }, 'samples'],
      [{ data: heldOut(2), ks: [3] }, 'ks'],
      [{ data: heldOut(2), ages: [2, 1] }, 'ages'],
      [{ data: heldOut(2), timesteps: [500, 100] }, 'timesteps'],
      [{ data: heldOut(2), fills: ['zero', 'zero'] }, 'fills'],
      [{ data: heldOut(2), typo: 1 } as never, 'typo'],
    ];
    for (const [options, field] of cases) {
      await expect(calibrate(denoiser, options)).rejects.toSatisfy((error: unknown) => LevelskipError.is(error) && error.code === 'INVALID_OPTION' && error.issues[0]?.path[0] === field);
    }
    await expect(calibrate(denoiser, { data: heldOut(2), fills: ['interpolate'] })).rejects.toSatisfy((error: unknown) => LevelskipError.is(error) && error.code === 'INVALID_FILL');
    const controller = new AbortController();
    controller.abort();
    await expect(calibrate(denoiser, { data: heldOut(2), signal: controller.signal })).rejects.toSatisfy((error: unknown) => LevelskipError.is(error) && error.code === 'ABORTED');
  });
});

describe('calibrate on the float64 reference backend (a real U-Net)', () => {
  it('agrees with the same measurement made by hand through the Denoiser contract, and plans a schedule', async () => {
    const backend = createReferenceBackend();
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 7));
    const data = heldOut(3);
    const table = await calibrate(denoiser, { data, samples: 3, timesteps: [100, 600], steps: 10, ages: [1, 2], fills: ['zero', 'cache'], cost: 'flops', seed: 5 });
    // By hand: x_t = √ᾱ x0 + √(1 − ᾱ) ε with ε the first 3·D normals of SeededRng(5); ε_0 at full depth; the cache filled at t + 100·age.
    const noise = new SeededRng(5).normal(3 * D);
    const noised = (t: number): ReferenceTensor => {
      const a = Math.sqrt(alphaBar(t));
      const s = Math.sqrt(1 - alphaBar(t));
      return ops.fromFloat32(data.map((v, i) => a * v + s * noise[i]!), [3, 2, 8, 8]);
    };
    const distance = async (a: ReferenceTensor, b: ReferenceTensor): Promise<number> => {
      const [x, y] = [await ops.toFloat32(a), await ops.toFloat32(b)];
      return x.reduce((sum, v, i) => sum + (v - y[i]!) ** 2, 0) / 3;
    };
    const t = 100;
    const full = await denoiser.predict(noised(t), t, { k: 0 });
    const zeroK2 = await denoiser.predict(noised(t), t, { k: 2, fill: zeroFill });
    expect((table.fills[0] as CalibratedStatelessFill).epsilonError[0]![1]).toBeCloseTo(await distance(zeroK2, full), 4);
    const cache = denoiser.createFeatureCache();
    await denoiser.predict(noised(t + 200), t + 200, { k: 0, fill: cacheFill, cache });
    const cachedK1 = await denoiser.predict(noised(t), t, { k: 1, fill: cacheFill, cache });
    expect((table.fills[1] as CalibratedCacheFill).epsilonError[0]![0]![1]).toBeCloseTo(await distance(cachedK1, full), 4);
    cache.dispose();
    const skip = optimalSchedule(table, { sampler: 'ddim', steps: 10, budget: 0.3, fill: 'cache' });
    expect(skip.plan.ks[0]).toBe(0);
    expect(skip.plan.fractionSaved).toBeGreaterThanOrEqual(0.3);
    denoiser.dispose();
  });

  it('calibrates any stateless fill of the registry, e.g. mean, as it predicts', async () => {
    const backend = createReferenceBackend();
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 7));
    const data = heldOut(2);
    const table = await calibrate(denoiser, { data, samples: 2, timesteps: [300], steps: 10, fills: ['mean'], cost: 'flops', seed: 3 });
    expect(table.fills.map((f) => f.fill)).toEqual(['mean']);
    const noise = new SeededRng(3).normal(2 * D);
    const a = Math.sqrt(alphaBar(300));
    const s = Math.sqrt(1 - alphaBar(300));
    const x = ops.fromFloat32(data.map((v, i) => a * v + s * noise[i]!), [2, 2, 8, 8]);
    const full = await ops.toFloat32(await denoiser.predict(x, 300, { k: 0 }));
    for (const [j, k] of table.ks.entries()) {
      const skipped = await ops.toFloat32(await denoiser.predict(x, 300, { k, fill: meanFill }));
      const byHand = skipped.reduce((sum, v, i) => sum + (v - full[i]!) ** 2, 0) / 2;
      expect((table.fills[0] as CalibratedStatelessFill).epsilonError[0]![j]).toBeCloseTo(byHand, 4);
    }
    denoiser.dispose();
  });
});
