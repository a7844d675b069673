/**
 * The demo's sampling run, with no DOM: one shipped model, one engine, one skip configuration,
 * sampled beside a full-depth run on the same seed. The page (`main.ts`) draws what it returns;
 * the browser test runs the same function in Node for the reference images.
 */
import {
  constantSchedule,
  parseFill,
  powerSchedule,
  predictedTimeSaved,
  type Backend,
  type Denoiser,
  type FillStrategy,
  type LoadedCheckpoint,
  type SkipSchedule,
} from '@levelskip/core';
import { ddim, sample, type Sampler } from '@levelskip/samplers';

/** What to sample. */
export interface DemoSettings {
  /** `c` of the power schedule k(t) = min(N−1, ⌊N − N(1−t)^c⌋); 0 = full depth. Ignored when `cacheInterval` is set. */
  readonly c: number;
  /** DeepCache-style: k = N − 1 at every step, with the deep features of every m-th (full-depth) step reused. */
  readonly cacheInterval?: number;
  /** `zero`, `duplicate`, `interpolate` (side-path models only) for the power schedule. */
  readonly fill: string;
  readonly steps: number;
  readonly eta: number;
  readonly seed: number;
  readonly count: number;
  /** Also run the full-depth configuration on the same seed, for the time saved (default true). */
  readonly compareFullDepth?: boolean;
}

/** One step as it happens. */
export interface DemoStep {
  readonly run: 'skip' | 'full';
  readonly step: number;
  readonly total: number;
  readonly k: number;
  readonly elapsedMs: number;
}

/** One sampling run's result. */
export interface DemoRun {
  /** Images as bytes, NCHW: `count × 1 × size × size`, 0..255 (x ∈ [−1, 1] mapped linearly and rounded). */
  readonly pixels: Uint8Array;
  /** The raw samples in [−1, 1] (unclamped), NCHW float32. */
  readonly samples: Float32Array;
  readonly size: number;
  readonly ks: readonly number[];
  readonly wallMs: number;
}

export interface DemoResult {
  readonly skip: DemoRun;
  readonly full?: DemoRun;
  /** 1 − skip / full wall time, when the full-depth run was made. */
  readonly timeSavedMeasured?: number;
  /** 1 − FLOPs(schedule) / FLOPs(full depth), from core's FLOP model. */
  readonly timeSavedPredicted: number;
  /** What ran, e.g. `c = 2, zero` or `k = 3, cache:3`. */
  readonly label: string;
}

/** x ∈ [−1, 1] → byte, as the CLI's PNGs do. */
export function toPixels(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, (samples[i]! + 1) / 2)) * 255);
  return out;
}

/** The schedule and fill of `settings` for a model with `levels` levels, and their label. */
export function skipConfiguration(settings: DemoSettings, levels: number): { schedule: SkipSchedule; fill: FillStrategy; label: string } {
  if (settings.cacheInterval !== undefined && settings.cacheInterval > 0) {
    return { schedule: constantSchedule(levels - 1), fill: parseFill(`cache:${settings.cacheInterval}`), label: `k = ${levels - 1}, cache:${settings.cacheInterval}` };
  }
  return { schedule: powerSchedule({ c: settings.c }), fill: parseFill(settings.fill), label: settings.c === 0 ? 'full depth' : `c = ${settings.c}, ${settings.fill}` };
}

async function timedRun(
  denoiser: Denoiser<unknown>,
  settings: DemoSettings,
  schedule: SkipSchedule,
  fill: FillStrategy,
  run: DemoStep['run'],
  onStep?: (step: DemoStep) => void,
  signal?: AbortSignal,
): Promise<DemoRun> {
  const started = performance.now();
  const result = await sample({
    denoiser,
    sampler: samplerOf(settings),
    skip: schedule,
    fill,
    batch: settings.count,
    seed: settings.seed,
    ...(signal === undefined ? {} : { signal }),
    onProgress: (p) => onStep?.({ run, step: p.step, total: p.total, k: p.k, elapsedMs: p.elapsedMs }),
  });
  const wallMs = performance.now() - started;
  return { pixels: toPixels(result.images), samples: result.images, size: result.shape[3], ks: result.ks, wallMs };
}

/**
 * Samples `settings.count` digits of `model` on `backend` with the configured skipping, and (by
 * default) the same seed at full depth first, so the two wall times compare within one run.
 */
export async function runDemo(
  backend: Backend<unknown>,
  model: LoadedCheckpoint,
  settings: DemoSettings,
  hooks: { onStep?: (step: DemoStep) => void; signal?: AbortSignal } = {},
): Promise<DemoResult> {
  const levels = model.spec.channelMults.length;
  const { schedule, fill, label } = skipConfiguration(settings, levels);
  const denoiser = await backend.createDenoiser(model.spec, model.weights);
  try {
    // An untimed warm-up of both configurations (at most 10 steps each, which reaches every depth
    // the run uses), so neither timed run pays for graph compilation (ORT sessions, WebGL shaders,
    // WebGPU pipelines) that the other one reuses.
    const warmUp = { ...settings, steps: Math.min(settings.steps, 10) };
    if (settings.compareFullDepth !== false) await timedRun(denoiser, warmUp, constantSchedule(0), parseFill('zero'), 'full', undefined, hooks.signal);
    await timedRun(denoiser, warmUp, schedule, fill, 'skip', undefined, hooks.signal);

    const full = settings.compareFullDepth === false ? undefined : await timedRun(denoiser, settings, constantSchedule(0), parseFill('zero'), 'full', hooks.onStep, hooks.signal);
    const skip = await timedRun(denoiser, settings, schedule, fill, 'skip', hooks.onStep, hooks.signal);
    const predicted = predictedTimeSaved(model.spec, schedule, samplerOf(settings).timesteps, { fill });
    return {
      skip,
      ...(full === undefined ? {} : { full, timeSavedMeasured: 1 - skip.wallMs / full.wallMs }),
      timeSavedPredicted: predicted.fractionSaved,
      label,
    };
  } finally {
    denoiser.dispose();
  }
}

/** DDIM with `settings`' steps and η, clipping x̂₀ to [−1, 1] (the CLI demo's sampler). */
export function samplerOf(settings: Pick<DemoSettings, 'steps' | 'eta'>): Sampler {
  return ddim({ steps: settings.steps, eta: settings.eta, clipSample: true });
}

/** Median milliseconds of one `predict()` at each depth k (zero fill), for the engines table. */
export interface DepthTiming {
  readonly batch: number;
  /** `msPerPredict[k]`, k = 0..N−1. */
  readonly msPerPredict: readonly number[];
}

/**
 * Times `predict()` at every depth on `backend`: after `warmUp` untimed calls per depth (graph
 * compilation), `repeats` timed calls, depths interleaved round by round so a slow moment of the
 * machine hits every depth alike; the median per depth. The result is read back each time
 * (`toFloat32`), as a sampler does, so asynchronous engines (WebGL, WebGPU) are timed to
 * completion.
 */
export async function timeDepths(backend: Backend<unknown>, model: LoadedCheckpoint, { batch, repeats = 5, warmUp = 2 }: { batch: number; repeats?: number; warmUp?: number }): Promise<DepthTiming> {
  const levels = model.spec.channelMults.length;
  const denoiser = await backend.createDenoiser(model.spec, model.weights);
  const size = model.spec.imageSize;
  const input = new Float32Array(batch * model.spec.inChannels * size * size);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 12.9898) * 0.9; // any fixed non-trivial input
  const x = denoiser.ops.fromFloat32(input, [batch, model.spec.inChannels, size, size]);
  const fill = parseFill('zero');
  const once = async (k: number): Promise<number> => {
    const started = performance.now();
    const eps = await denoiser.predict(x, 700, { k, fill });
    await denoiser.ops.toFloat32(eps);
    denoiser.ops.dispose(eps);
    return performance.now() - started;
  };
  try {
    for (let k = 0; k < levels; k++) for (let i = 0; i < warmUp; i++) await once(k);
    const times: number[][] = Array.from({ length: levels }, () => []);
    for (let round = 0; round < repeats; round++) for (let k = 0; k < levels; k++) times[k]!.push(await once(k));
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return { batch, msPerPredict: times.map(median) };
  } finally {
    denoiser.ops.dispose(x);
    denoiser.dispose();
  }
}
