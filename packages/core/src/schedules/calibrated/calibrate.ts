/**
 * Calibration: measures, on the model itself, what each depth k and fill does to its ε prediction
 * and what it costs, as the calibration table that `optimalSchedule` plans with.
 *
 * For each calibrated timestep t, held-out images x₀ are noised to x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε
 * (one draw of ε per image, reused at every t, so the rows differ by t, not by noise), and the
 * prediction at depth k is compared with the full-depth one at the same x_t:
 * mean ‖ε_k − ε_0‖², and (1 − ᾱ_t)/ᾱ_t times that for x̂₀.
 *
 * The cache fill: its error depends on how old the cached deep features are. For each age a (in
 * steps of the sampler's spacing Δ = ⌊T/steps⌋), the same image is noised to t + aΔ with the same ε,
 * a full-depth prediction there fills a fresh cache, and the prediction at x_t reads it. Holding ε
 * fixed follows the path x_t of an ideal deterministic sampler (DDIM η = 0 with the true ε moves
 * along exactly this path), a documented simplification for stochastic samplers.
 *
 * Models that predict v or x₀ (the spec's `prediction`) are compared in ε all the same: at a fixed
 * x_t, ε = √ᾱ v + √(1 − ᾱ) x_t and ε = (x_t − √ᾱ x₀)/√(1 − ᾱ), so an output error δ is an ε error of
 * √ᾱ δ (v) or −√ᾱ/√(1 − ᾱ) δ (x₀), and the squared distances are scaled by ᾱ and ᾱ/(1 − ᾱ).
 *
 * Cost per prediction: measured (the fastest of a few timed predicts at the batch size, after a
 * warm-up, on the denoiser's backend; the depths timed in turn) or taken from core's FLOP model (FLOPs per sample, averaged
 * over the calibrated timesteps' decoder stages).
 */
import type { Denoiser } from '../../backend/denoiser.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import type { FeatureCache } from '../../fills/feature-cache.js';
import { assertFillSupported, cacheFill, defaultCalibrationFills, parseFill, zeroFill, type BuiltinFill } from '../../fills/fill-registry.js';
import { describeArchitecture, stageForTime } from '../../geometry/architecture.js';
import { flopTable, flopsAtDepth } from '../../geometry/flops.js';
import { linearBetaSchedule, type NoiseSchedule } from '../../noise/noise-schedule.js';
import { SeededRng } from '../../random/seeded-rng.js';
import { calibratedFillKinds, parseCalibrationTable, type CalibratedFill, type CalibratedFillKind, type CalibrationTable } from './calibration-table.js';

/** Progress of `calibrate`: `done` of `total` predictions. */
export interface CalibrationProgress {
  readonly done: number;
  readonly total: number;
  /** What is being measured, e.g. `t=420 cache age 3`, `cost k=2 zero`. */
  readonly what: string;
}

export interface CalibrateOptions {
  /** Held-out images, NCHW float32 in the model's data range (e.g. [−1, 1]): count × C × H × W values. */
  readonly data: Float32Array;
  /** How many of the images to use (default: all of them, at most 32). */
  readonly samples?: number;
  /** Diffusion timesteps to calibrate, or how many (default 8), spread evenly over the grid of `steps`. */
  readonly timesteps?: number | readonly number[];
  /** Depths to calibrate (default every k in 1 … N − 1). */
  readonly ks?: readonly number[];
  /** Fills to calibrate (default zero, interpolate when the model has side paths, and cache). */
  readonly fills?: readonly CalibratedFillKind[];
  /** The sampler step count whose spacing ⌊T/steps⌋ the cache ages count in, and whose grid default timesteps lie on (default 50). */
  readonly steps?: number;
  /** Cache ages to measure, in steps (default 1, 2, 3, 4, 6, 8). */
  readonly ages?: readonly number[];
  /** Seed of the noise ε (default 0). */
  readonly seed?: number;
  /** Images per prediction (default min(samples, 32)); also the batch the costs are timed at. */
  readonly batch?: number;
  /** `measured`: ms per predict on this denoiser (default); `flops`: core's FLOP model. */
  readonly cost?: 'measured' | 'flops';
  /** Timed predictions per depth and fill, after one warm-up (default 5; the fastest is kept). */
  readonly costRepeats?: number;
  /** The noise schedule the model was trained with (default DDPM's linear schedule over the spec's T). */
  readonly noiseSchedule?: NoiseSchedule;
  readonly onProgress?: (progress: CalibrationProgress) => void;
  /** Stops between predictions; the promise rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

const defaultAges = [1, 2, 3, 4, 6, 8] as const;
const fillStrategies: Readonly<Record<CalibratedFillKind, BuiltinFill>> = Object.fromEntries(calibratedFillKinds.map((kind) => [kind, parseFill(kind)])) as Record<
  CalibratedFillKind,
  BuiltinFill
>;
const allowedKeys = ['data', 'samples', 'timesteps', 'ks', 'fills', 'steps', 'ages', 'seed', 'batch', 'cost', 'costRepeats', 'noiseSchedule', 'onProgress', 'signal'];

function invalid(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `calibrate: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

const isIntegerIn = (value: unknown, min: number, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** Evenly spread `count` of the leading grid ⌊T/steps⌋·i, i = 0 … steps − 1 (always its ends). */
function defaultTimesteps(count: number, steps: number, T: number): number[] {
  const spacing = Math.floor(T / steps);
  if (count === 1) return [spacing * (steps - 1)];
  const picked = new Set<number>();
  for (let j = 0; j < count; j++) picked.add(spacing * Math.round((j * (steps - 1)) / (count - 1)));
  return [...picked].sort((a, b) => a - b);
}

interface Checked {
  readonly samples: number;
  readonly timesteps: readonly number[];
  readonly ks: readonly number[];
  readonly fills: readonly CalibratedFillKind[];
  readonly spacing: number;
  readonly ages: readonly number[];
  readonly seed: number;
  readonly batch: number;
  readonly cost: 'measured' | 'flops';
  readonly repeats: number;
  readonly noiseSchedule: NoiseSchedule;
}

function check<T>(denoiser: Denoiser<T>, options: CalibrateOptions): Checked {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object { data, timesteps?, ks?, fills?, samples?, seed? }');
  for (const key of Object.keys(options)) if (!allowedKeys.includes(key)) throw invalid(key, `is not an option of calibrate (allowed: ${allowedKeys.join(', ')})`);
  const { spec, levels } = denoiser;
  const T = spec.trainTimesteps;
  const dimensions = spec.inChannels * spec.imageSize * spec.imageSize;
  const { data } = options;
  if (!(data instanceof Float32Array) || data.length === 0 || data.length % dimensions !== 0) {
    throw invalid('data', `must be a Float32Array of NCHW images, a multiple of C·H·W = ${spec.inChannels}·${spec.imageSize}·${spec.imageSize} = ${dimensions} values, got ${data instanceof Float32Array ? `${data.length} values` : String(data)}`);
  }
  const count = data.length / dimensions;
  const samples = options.samples ?? Math.min(count, 32);
  if (!isIntegerIn(samples, 1, count)) throw invalid('samples', `must be an integer in [1, ${count}] (the images in data), got ${String(samples)}`);
  const steps = options.steps ?? Math.min(50, T);
  if (!isIntegerIn(steps, 1, T)) throw invalid('steps', `must be an integer in [1, ${T}] (the sampler's step count), got ${String(steps)}`);
  const given = options.timesteps ?? 8;
  let timesteps: readonly number[];
  if (typeof given === 'number') {
    if (!isIntegerIn(given, 1, steps)) throw invalid('timesteps', `as a count must be an integer in [1, ${steps}] (at most one per step of the grid), got ${given}`);
    timesteps = defaultTimesteps(given, steps, T);
  } else {
    if (!Array.isArray(given) || given.length === 0 || !given.every((t, i) => isIntegerIn(t, 0, T - 1) && (i === 0 || t > given[i - 1]!))) {
      throw invalid('timesteps', `must be a count or an increasing list of integer timesteps in [0, ${T - 1}]`);
    }
    timesteps = given;
  }
  const ks = options.ks ?? Array.from({ length: levels - 1 }, (_, i) => i + 1);
  if (!Array.isArray(ks) || !ks.every((k, i) => isIntegerIn(k, 1, levels - 1) && (i === 0 || k > ks[i - 1]!))) {
    throw invalid('ks', `must be an increasing list of depths in [1, ${levels - 1}] for this ${levels}-level U-Net`);
  }
  if (ks.length === 0) throw invalid('ks', `is empty: a ${levels}-level U-Net has no level to skip, so there is nothing to calibrate`);
  const fills = options.fills ?? defaultCalibrationFills(spec);
  if (!Array.isArray(fills) || fills.length === 0 || new Set(fills).size !== fills.length || !fills.every((f) => (calibratedFillKinds as readonly string[]).includes(f))) {
    throw invalid('fills', `must list distinct fills from ${calibratedFillKinds.join(', ')}`);
  }
  for (const fill of fills as readonly CalibratedFillKind[]) assertFillSupported(spec, fillStrategies[fill]);
  const ages = options.ages ?? defaultAges;
  if (!Array.isArray(ages) || ages.length === 0 || !ages.every((a, i) => isIntegerIn(a, 1, 64) && (i === 0 || a > ages[i - 1]!))) {
    throw invalid('ages', 'must be an increasing list of cache ages in steps, integers in [1, 64]');
  }
  const seed = options.seed ?? 0;
  if (!isIntegerIn(seed, 0, Number.MAX_SAFE_INTEGER)) throw invalid('seed', `must be a non-negative safe integer, got ${String(seed)}`);
  const batch = options.batch ?? Math.min(samples, 32);
  if (!isIntegerIn(batch, 1, 4096)) throw invalid('batch', `must be an integer in [1, 4096], got ${String(batch)}`);
  const cost = options.cost ?? 'measured';
  if (cost !== 'measured' && cost !== 'flops') throw invalid('cost', `must be "measured" or "flops", got ${JSON.stringify(cost)}`);
  const repeats = options.costRepeats ?? 5;
  if (!isIntegerIn(repeats, 1, 100)) throw invalid('costRepeats', `must be an integer in [1, 100], got ${String(repeats)}`);
  const noiseSchedule = options.noiseSchedule ?? linearBetaSchedule({ trainTimesteps: T });
  if (noiseSchedule.trainTimesteps !== T) throw invalid('noiseSchedule', `has T = ${noiseSchedule.trainTimesteps}, but the model was trained with T = ${T}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalid('onProgress', 'must be a function');
  return { samples, timesteps, ks, fills, spacing: Math.floor(T / steps), ages, seed, batch, cost, repeats, noiseSchedule };
}


/** Σ over the batch of ‖a − b‖², in float64. */
function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

/**
 * Measures a model's calibration table (see the file comment): for every calibrated timestep, depth
 * and fill the mean ‖ε_k − ε_0‖² (and for the cache fill, per cache age), and the cost per
 * prediction of every depth.
 *
 * Predictions: timesteps × batches × (1 + fills·ks, plus ages·(1 + ks) for the cache), and for
 * measured costs (1 + repeats) per depth and fill.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option (data of the wrong size, a depth the
 *   model lacks, unknown options), `INVALID_FILL` for a fill the model cannot run, `ABORTED` when
 *   `signal` fires, and whatever the denoiser throws.
 *
 * @example
 * ```ts
 * const table = await calibrate(denoiser, { data: heldOut.images, samples: 32, timesteps: 8, fills: ['zero', 'cache'], seed: 0 });
 * const skip = optimalSchedule(table, { sampler: 'ddim', steps: 50, budget: 0.4, fill: 'cache' });
 * ```
 */
export async function calibrate<T>(denoiser: Denoiser<T>, options: CalibrateOptions): Promise<CalibrationTable> {
  const started = performance.now();
  const plan = check(denoiser, options);
  const { spec, ops, levels } = denoiser;
  const { samples, timesteps, ks, fills, spacing, ages, batch, noiseSchedule } = plan;
  const T = spec.trainTimesteps;
  const dimensions = spec.inChannels * spec.imageSize * spec.imageSize;
  const arch = describeArchitecture(spec);
  const stageOfTimestep = (t: number): number => stageForTime(arch, t / T);
  const statelessFills = fills.filter((f) => f !== 'cache');
  const withCache = fills.includes('cache');
  const chunks = Math.ceil(samples / batch);
  const perTimestep = 1 + statelessFills.length * ks.length + (withCache ? ages.length * (1 + ks.length) : 0);
  const costPredictions = plan.cost === 'measured' ? (1 + plan.repeats) * (1 + fills.length * ks.length) : 0;
  const total = timesteps.length * chunks * perTimestep + costPredictions;
  let done = 0;
  const progress = (what: string): void => {
    done += 1;
    options.onProgress?.({ done, total, what });
  };
  const checkAbort = (): void => {
    if (options.signal?.aborted) throw new LevelskipError('ABORTED', `calibration was aborted after ${done} of ${total} predictions`, { cause: options.signal.reason });
  };

  const images = options.data.subarray(0, samples * dimensions);
  // s²: per-pixel variance over the images, averaged over pixels (1 when a single image gives no spread).
  let dataVariance = 1;
  if (samples > 1) {
    let sum = 0;
    for (let p = 0; p < dimensions; p++) {
      let mean = 0;
      for (let n = 0; n < samples; n++) mean += images[n * dimensions + p]!;
      mean /= samples;
      let squares = 0;
      for (let n = 0; n < samples; n++) squares += (images[n * dimensions + p]! - mean) ** 2;
      sum += squares / (samples - 1);
    }
    dataVariance = sum / dimensions > 0 ? sum / dimensions : 1;
  }
  const noise = new SeededRng(plan.seed).normal(samples * dimensions);
  /** x_t of images [first, first + size) with the shared ε. */
  const noised = (t: number, first: number, size: number): T => {
    const a = noiseSchedule.sqrtAlphasCumprod[t]!;
    const s = noiseSchedule.sqrtOneMinusAlphasCumprod[t]!;
    const out = new Float32Array(size * dimensions);
    const offset = first * dimensions;
    for (let i = 0; i < out.length; i++) out[i] = a * images[offset + i]! + s * noise[offset + i]!;
    return ops.fromFloat32(out, [size, spec.inChannels, spec.imageSize, spec.imageSize]);
  };
  const predict = async (x: T, t: number, k: number, fill: BuiltinFill, cache?: FeatureCache<T>): Promise<Float32Array> => {
    checkAbort();
    const eps = await denoiser.predict(x, t, { k, fill, ...(cache === undefined ? {} : { cache }) });
    try {
      return await ops.toFloat32(eps);
    } finally {
      ops.dispose(eps);
    }
  };

  // Sums of ‖ε_k − ε_0‖² over the images: stateless[f][i][j], cached[i][j][a] (null: no full-depth step there).
  const stateless = statelessFills.map(() => timesteps.map(() => ks.map(() => 0)));
  const cached = timesteps.map((t) =>
    ks.map(() => ages.map((age) => (t + age * spacing <= T - 1 && stageOfTimestep(t + age * spacing) === stageOfTimestep(t) ? 0 : null) as number | null)),
  );

  for (const [i, t] of timesteps.entries()) {
    for (let c = 0; c < chunks; c++) {
      const first = c * batch;
      const size = Math.min(batch, samples - first);
      const x = noised(t, first, size);
      try {
        const full = await predict(x, t, 0, zeroFill);
        progress(`t=${t} full depth`);
        for (const [f, fill] of statelessFills.entries()) {
          for (const [j, k] of ks.entries()) {
            stateless[f]![i]![j]! += squaredDistance(await predict(x, t, k, fillStrategies[fill]), full);
            progress(`t=${t} k=${k} ${fill}`);
          }
        }
        if (!withCache) continue;
        for (const [a, age] of ages.entries()) {
          const source = t + age * spacing;
          if (cached[i]![0]![a] === null) {
            // Not measurable (the full-depth step would lie beyond T − 1 or in another decoder stage): counted as done.
            done += ks.length;
            progress(`t=${t} cache age ${age}: not measurable`);
            continue;
          }
          const cache = denoiser.createFeatureCache();
          try {
            const xSource = noised(source, first, size);
            try {
              await predict(xSource, source, 0, cacheFill, cache);
            } finally {
              ops.dispose(xSource);
            }
            progress(`t=${t} cache age ${age}: full depth at t=${source}`);
            // Deepest skip first: a step at k rewrites the cache only below its own cut, which the larger k's already read.
            for (let j = ks.length - 1; j >= 0; j--) {
              const row = cached[i]![j]!;
              row[a] = row[a]! + squaredDistance(await predict(x, t, ks[j]!, cacheFill, cache), full);
              progress(`t=${t} k=${ks[j]} cache age ${age}`);
            }
          } finally {
            cache.dispose();
          }
        }
      } finally {
        ops.dispose(x);
      }
    }
  }

  const costs = await measureCosts(denoiser, plan, noised, predict, progress, arch);
  const x0Factor = (t: number): number => (1 - noiseSchedule.alphasCumprod[t]!) / noiseSchedule.alphasCumprod[t]!;
  // Squared distances between model outputs → between the ε they imply (see the file comment).
  const toEpsilon = (t: number): number => {
    const alphaBar = noiseSchedule.alphasCumprod[t]!;
    return spec.prediction === 'v' ? alphaBar : spec.prediction === 'sample' ? alphaBar / (1 - alphaBar) : 1;
  };
  const entries: CalibratedFill[] = fills.map((fill) => {
    if (fill === 'cache') {
      const epsilonError = cached.map((row, i) => row.map((byAge) => byAge.map((sum) => (sum === null ? null : (toEpsilon(timesteps[i]!) * sum) / samples))));
      return {
        fill,
        stepSpacing: spacing,
        ages: [...ages],
        cost: costs[fill]!,
        epsilonError,
        x0Error: epsilonError.map((row, i) => row.map((byAge) => byAge.map((e) => (e === null ? null : x0Factor(timesteps[i]!) * e)))),
      };
    }
    const epsilonError = stateless[statelessFills.indexOf(fill)]!.map((row, i) => row.map((sum) => (toEpsilon(timesteps[i]!) * sum) / samples));
    return { fill, cost: costs[fill]!, epsilonError, x0Error: epsilonError.map((row, i) => row.map((e) => x0Factor(timesteps[i]!) * e)) };
  });
  const table: CalibrationTable = {
    format: 'levelskip-calibration',
    version: 1,
    levels,
    noiseSchedule: noiseSchedule.config,
    stageEnds: arch.decoders.slice(0, -1).map((decoder) => decoder.tEnd),
    dimensions,
    samples,
    seed: plan.seed,
    dataVariance,
    timesteps: [...timesteps],
    ks: [...ks],
    costUnit: plan.cost === 'measured' ? 'ms' : 'flops',
    ...(plan.cost === 'measured' ? { costBatch: Math.min(batch, samples) } : {}),
    fills: entries,
    backend: denoiser.backend,
    seconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
  };
  // The same checks as a table read from a file: what is written can be read back.
  return parseCalibrationTable(table, 'the measured calibration table');
}

/** Cost per prediction of every fill at [full depth, ...ks]: the fastest timed ms, or mean FLOPs per sample over the calibrated timesteps. */
async function measureCosts<T>(
  denoiser: Denoiser<T>,
  plan: Checked,
  noised: (t: number, first: number, size: number) => T,
  predict: (x: T, t: number, k: number, fill: BuiltinFill, cache?: FeatureCache<T>) => Promise<Float32Array>,
  progress: (what: string) => void,
  arch: ReturnType<typeof describeArchitecture>,
): Promise<Record<string, number[]>> {
  const { ks, fills, timesteps } = plan;
  const T = denoiser.spec.trainTimesteps;
  const out: Record<string, number[]> = {};
  if (plan.cost === 'flops') {
    const table = flopTable(arch);
    const mean = (k: number, fill: string): number =>
      timesteps.reduce((sum, t) => sum + flopsAtDepth(table, k, { stage: stageForTime(arch, t / T), fill }), 0) / timesteps.length;
    for (const fill of fills) out[fill] = [mean(0, fill), ...ks.map((k) => mean(k, fill))];
    return out;
  }
  // Timed at the middle calibrated timestep on the first batch of images. The variants are timed
  // round-robin and the fastest run of each is kept: on a shared machine, load comes in bursts that
  // only slow predictions down, so the minimum is the estimate least disturbed by them.
  const t = timesteps[Math.floor(timesteps.length / 2)]!;
  const size = Math.min(plan.batch, plan.samples);
  const x = noised(t, 0, size);
  const caches = new Map<string, FeatureCache<T>>();
  try {
    const variants: { readonly k: number; readonly fill: CalibratedFillKind | undefined }[] = [{ k: 0, fill: undefined }];
    for (const fill of fills) {
      if (fill === 'cache') {
        // Filled at full depth first (untimed), as a sampling run's refresh step fills it.
        const cache = denoiser.createFeatureCache();
        caches.set(fill, cache);
        await predict(x, t, 0, cacheFill, cache);
      }
      // Deepest skip first, as above: each k's cut level stays as the full-depth step left it.
      for (let j = ks.length - 1; j >= 0; j--) variants.push({ k: ks[j]!, fill });
    }
    const run = async (variant: (typeof variants)[number]): Promise<number> => {
      const start = performance.now();
      await predict(x, t, variant.k, variant.fill === undefined ? zeroFill : fillStrategies[variant.fill], variant.fill === undefined ? undefined : caches.get(variant.fill));
      return performance.now() - start;
    };
    const label = (variant: (typeof variants)[number]): string => `cost k=${variant.k} ${variant.fill ?? 'full depth'}`;
    for (const variant of variants) {
      await run(variant);
      progress(`${label(variant)} (warm-up)`);
    }
    const fastest = variants.map(() => Number.POSITIVE_INFINITY);
    for (let r = 0; r < plan.repeats; r++) {
      for (const [v, variant] of variants.entries()) {
        fastest[v] = Math.min(fastest[v]!, await run(variant));
        progress(label(variant));
      }
    }
    const costOf = (k: number, fill: CalibratedFillKind): number => fastest[variants.findIndex((v) => v.k === k && (k === 0 || v.fill === fill))]!;
    for (const fill of fills) out[fill] = [costOf(0, fill), ...ks.map((k) => costOf(k, fill))];
  } finally {
    denoiser.ops.dispose(x);
    for (const cache of caches.values()) cache.dispose();
  }
  return out;
}
