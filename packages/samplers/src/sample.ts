/**
 * The sampling loop: runs a `Sampler` with a level-skipping `Denoiser`, asking the model at each
 * step for its ε prediction at depth
 *
 *   k = skip.kAt(t / T, denoiser.levels)
 *
 * (t the step's diffusion timestep, T = denoiser.spec.trainTimesteps; Giladi et al. eq. 1 for the
 * power schedule). Everything is validated before step 1, so a bad combination fails at once,
 * not at step 700.
 *
 * Noise (identical on every backend, since it is drawn on the host by core's Philox `SeededRng`
 * and written in as float32):
 * - stream 0 of `seed`: x_T, the first B·C·H·W standard normals, in NCHW order;
 * - stream 1 of `seed`: the per-step noise, consumed in step order; a step that adds noise takes
 *   the next B·C·H·W values (DDPM: every step with t > 0; DDIM: every step with σ_t > 0, none
 *   for η = 0; annealed Langevin: every step; DPM-Solver++: none).
 *
 * What the model predicts (`prediction`: ε, v or x₀, diffusers' `prediction_type`) is converted to
 * ε̂ right after each model call (prediction-type.ts), so every sampler serves every type.
 *
 * Tensors stay on the backend (`denoiser.ops`) until the end; each step's intermediates are
 * disposed as soon as they are used, and on success, error or abort nothing is left alive.
 *
 * Finiteness: the model's prediction ε̂ is read back and scanned for NaN and ±Inf every
 * `checkFiniteEvery` steps (default every step: one read-back of ε̂, small beside a model call),
 * the final sample always; a non-finite value stops the run with `LevelskipError('NONFINITE')`
 * naming the step, timestep and k, so no black image is ever returned as a result.
 */
import {
  LevelskipError,
  SeededRng,
  cacheDepths,
  cutLevel,
  describeArchitecture,
  fillNeedsCache,
  stageForTime,
  resolveFill,
  zeroFill,
  type Denoiser,
  type FeatureCache,
  type FillStrategy,
  type ResolvedFill,
  type SkipSchedule,
  type TimingProfile,
  viewFloat32,
  writeFloat32,
} from '@levelskip/core';
import { firstNonFinite, nonFiniteError, type CheckPoint } from './finite-check.js';
import { checkPrediction, checkPredictionSchedule, epsilonFromModelOutput, predictionCoefficients, type PredictionType } from './prediction-type.js';
import type { Term } from './linear-combination.js';
import type { Sampler, SamplerRun } from './sampler.js';

/** One progress event, sent after each completed step. */
export interface SampleProgress {
  /** The step just completed, 1-based. */
  readonly step: number;
  /** Steps in the run. */
  readonly total: number;
  /** The diffusion timestep the model was evaluated at. */
  readonly timestep: number;
  /** Levels skipped at this step. */
  readonly k: number;
  /** Milliseconds since the run started (after validation). */
  readonly elapsedMs: number;
}

export interface SampleOptions<T> {
  /** The model, from `backend.createDenoiser(...)`. */
  readonly denoiser: Denoiser<T>;
  /** The algorithm: `ddpm(...)`, `ddim(...)`, `annealedLangevin(...)` or `dpmSolverPlusPlus(...)`. */
  readonly sampler: Sampler;
  /** How many deep levels to skip at each t; default: none (k = 0, the full network). */
  readonly skip?: SkipSchedule;
  /** What replaces the skipped features; default the zero fill. `cache` gets one per-run cache. */
  /** `NoInfer`: the denoiser decides T, so a portable fill (`customFill(name, fn)`) fits any backend's. */
  readonly fill?: FillStrategy<NoInfer<T>>;
  /** Image shape, [C, H, W] or [B, C, H, W]; optional, it must match the model's spec. */
  readonly shape?: readonly number[];
  /** Images to sample at once, an integer ≥ 1. Default 1. */
  readonly batch?: number;
  /** Seed of all the noise: a non-negative safe integer or a bigint below 2^64. */
  readonly seed: number | bigint;
  /** Called after every step. An exception thrown here stops the run (and is rethrown). */
  readonly onProgress?: (event: SampleProgress) => void;
  /** Cancels the run between steps: `sample` then rejects with `LevelskipError('ABORTED')`. */
  readonly signal?: AbortSignal;
  /** Also return the sample after every step (one device read-back per step). Default false. */
  readonly trajectory?: boolean;
  /**
   * Scan the model's prediction ε̂ for NaN and ±Inf every n steps (one read-back of ε̂ per check;
   * the last step is always checked), an integer ≥ 0; 0 checks only the final samples (and, with
   * `trajectory`, the sample after every step, which is read back anyway). Default 1: every step.
   * A non-finite value rejects with `LevelskipError('NONFINITE')` naming the step, timestep and k.
   */
  readonly checkFiniteEvery?: number;
  /**
   * What the model outputs (diffusers' `prediction_type`; default: what `denoiser.spec.prediction`
   * says, which diffusers checkpoints set from their scheduler config): `'epsilon'` the noise ε,
   * `'v_prediction'` v = √ᾱ_t ε - √(1 - ᾱ_t) x₀, `'sample'` the clean image x₀. Converted to ε
   * at each step with the sampler's ᾱ_t, so every sampler works with every type.
   */
  readonly prediction?: PredictionType;
  /**
   * Receives timing spans of the run (`predict` per step with its k, `sampler`, `noise`, `check`),
   * and is handed on to `denoiser.predict`, whose backend may add its own (`run`, `cacheStore`,
   * `cacheLoad`); see core's `TimingProfile`. Unset (the default), nothing reads the clock.
   */
  readonly profile?: TimingProfile;
}

export interface SampleResult {
  /** The final samples, NCHW, float32. */
  readonly images: Float32Array;
  /** [B, C, H, W]. */
  readonly shape: readonly [number, number, number, number];
  /** Levels skipped at each step: the schedule's k, except that the cache fill runs a step at full depth when its cache is empty or stale (core's `cacheDepths`). */
  readonly ks: number[];
  /** Diffusion timestep of each step. */
  readonly timesteps: number[];
  /**
   * With `trajectory: true`: the initial sample, then the sample after each step
   * (`stepsRun + 1` arrays, NCHW). For annealed Langevin these are in its data-scale variable x̃.
   */
  readonly trajectory?: Float32Array[];
  /** Steps completed (every step of the sampler, since an aborted run throws). */
  readonly stepsRun: number;
}

const ALLOWED = ['denoiser', 'sampler', 'skip', 'fill', 'shape', 'batch', 'seed', 'onProgress', 'signal', 'trajectory', 'checkFiniteEvery', 'prediction', 'profile'];

function invalid(field: string, message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' | 'INVALID_SCHEDULE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `sample: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

/**
 * Everything `sample` needs, checked once before step 1 (validate once): the steps pass these
 * typed values on and re-check nothing; `predict` finds the fill already resolved for its spec
 * and the stage already chosen.
 */
interface Plan<T> {
  readonly denoiser: Denoiser<T>;
  readonly sampler: Sampler;
  /** Checked against the model's spec once (`resolveFill`). */
  readonly fill: ResolvedFill<T>;
  /** Decoder stage of each step, chosen once from the denoiser's architecture. */
  readonly stages: readonly number[];
  readonly shape: readonly [number, number, number, number];
  readonly seed: number | bigint;
  readonly timesteps: readonly number[];
  readonly ks: readonly number[];
  readonly checkFiniteEvery: number;
  readonly prediction: PredictionType;
  readonly profile: TimingProfile | undefined;
}

function checkDenoiser<T>(denoiser: unknown): Denoiser<T> {
  const d = denoiser as Partial<Denoiser<T>> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.predict !== 'function' ||
    typeof d.spec !== 'object' ||
    typeof d.ops !== 'object' ||
    !Number.isInteger(d.levels)
  ) {
    throw invalid('denoiser', 'must be a Denoiser from backend.createDenoiser(spec, weights)');
  }
  return d as Denoiser<T>;
}

function checkSampler(sampler: unknown, trainTimesteps: number): Sampler {
  const s = sampler as Partial<Sampler> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.createRun !== 'function' ||
    !Array.isArray(s.timesteps) ||
    typeof s.noiseSchedule?.trainTimesteps !== 'number'
  ) {
    throw invalid('sampler', 'must be a Sampler such as ddpm(), ddim({ steps: 50 }), annealedLangevin() or dpmSolverPlusPlus()');
  }
  const T = s.noiseSchedule.trainTimesteps;
  if (T !== trainTimesteps) {
    throw invalid(
      'sampler',
      `uses a noise schedule with trainTimesteps = ${T} but the model was trained with trainTimesteps = ${trainTimesteps}; ` +
        `build the sampler with the model's schedule, e.g. ddim({ noiseSchedule: linearBetaSchedule({ trainTimesteps: ${trainTimesteps} }) })`,
    );
  }
  if (s.timesteps.length === 0 || !s.timesteps.every((t) => Number.isInteger(t) && t >= 0 && t <= T - 1)) {
    throw invalid('sampler', `timesteps must be a non-empty list of integers in [0, ${T - 1}]`);
  }
  return s as Sampler;
}

function checkShape(shape: unknown, batch: number, denoiser: Denoiser<unknown>): readonly [number, number, number, number] {
  const { inChannels, imageSize } = denoiser.spec;
  const expected: [number, number, number, number] = [batch, inChannels, imageSize, imageSize];
  if (shape === undefined) return expected;
  const given = Array.isArray(shape) ? (shape as unknown[]) : undefined;
  const matches =
    given !== undefined &&
    ((given.length === 3 && given.every((d, i) => d === expected[i + 1])) || (given.length === 4 && given.every((d, i) => d === expected[i])));
  if (!matches) {
    throw invalid(
      'shape',
      `${JSON.stringify(shape)} does not match the model: it samples [${inChannels}, ${imageSize}, ${imageSize}] images ` +
        `([C, H, W], or [B, C, H, W] = [${expected.join(', ')}] for batch = ${batch}); leave shape out to use the model's`,
      'INVALID_SHAPE',
    );
  }
  return expected;
}

function checkSeed(seed: unknown): number | bigint {
  if ((typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) || (typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n)) {
    return seed;
  }
  throw invalid('seed', `must be a non-negative safe integer or a bigint below 2^64, got ${String(seed)}`);
}

/** The k of every step, evaluated now so that a schedule that cannot serve this model fails before step 1. */
function plannedDepths(skip: SkipSchedule | undefined, timesteps: readonly number[], T: number, levels: number): number[] {
  if (skip === undefined) return timesteps.map(() => 0);
  if (typeof skip !== 'object' || skip === null || typeof skip.kAt !== 'function') {
    throw invalid('skip', 'must be a SkipSchedule such as powerSchedule({ c: 2 }), constantSchedule(k) or stageSchedule(table)', 'INVALID_SCHEDULE');
  }
  return timesteps.map((t) => {
    const k = skip.kAt(t / T, levels);
    if (!(Number.isInteger(k) && k >= 0 && k <= levels - 1)) {
      throw invalid('skip', `returned k = ${String(k)} at t = ${t / T}; k must be an integer in [0, ${levels - 1}] for this ${levels}-level model`, 'INVALID_SCHEDULE');
    }
    return k;
  });
}

function plan<T>(options: SampleOptions<T>): Plan<T> {
  if (typeof options !== 'object' || options === null) {
    throw new LevelskipError('INVALID_OPTION', 'sample: expected an options object { denoiser, sampler, seed, ... }');
  }
  for (const key of Object.keys(options)) {
    if (!ALLOWED.includes(key)) throw invalid(key, `is not an option of sample (allowed: ${ALLOWED.join(', ')})`);
  }
  const denoiser = checkDenoiser<T>(options.denoiser);
  const T = denoiser.spec.trainTimesteps;
  const sampler = checkSampler(options.sampler, T);
  const fill = resolveFill(denoiser.spec, options.fill ?? (zeroFill as FillStrategy<T>));
  const batch = options.batch ?? 1;
  if (!(typeof batch === 'number' && Number.isSafeInteger(batch) && batch >= 1)) {
    throw invalid('batch', `must be a positive integer (images per run), got ${String(batch)}`);
  }
  const shape = checkShape(options.shape, batch, denoiser as Denoiser<unknown>);
  const seed = checkSeed(options.seed);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw invalid('onProgress', 'must be a function (event) => void');
  }
  if (options.signal !== undefined && typeof (options.signal as Partial<AbortSignal> | null)?.aborted !== 'boolean') {
    throw invalid('signal', 'must be an AbortSignal, e.g. new AbortController().signal');
  }
  if (options.trajectory !== undefined && typeof options.trajectory !== 'boolean') {
    throw invalid('trajectory', 'must be true or false');
  }
  const profile = options.profile;
  if (profile !== undefined && typeof (profile as Partial<TimingProfile> | null)?.record !== 'function') {
    throw invalid('profile', 'must be a TimingProfile: an object with record(span), e.g. createTimingRecorder() from @levelskip/core');
  }
  const checkFiniteEvery = options.checkFiniteEvery ?? 1;
  if (!(typeof checkFiniteEvery === 'number' && Number.isSafeInteger(checkFiniteEvery) && checkFiniteEvery >= 0)) {
    throw invalid('checkFiniteEvery', `must be an integer ≥ 0 (steps between finiteness checks of the prediction; 0 = final samples only), got ${String(checkFiniteEvery)}`);
  }
  const timesteps = sampler.timesteps;
  const prediction = checkPrediction(options.prediction, denoiser.spec.prediction);
  checkPredictionSchedule(prediction, sampler.noiseSchedule.alphasCumprod, timesteps);
  // The architecture the denoiser derived when it was built (a hand-written one without it: derived
  // here, once per run); each step's decoder stage is chosen now and passed to predict.
  const arch = denoiser.architecture ?? describeArchitecture(denoiser.spec);
  const stages = timesteps.map((t) => stageForTime(arch, t / T));
  // The cache fill's refreshes are planned here, so `ks` (and progress events) say what really runs.
  const ks = cacheDepths(plannedDepths(options.skip, timesteps, T, denoiser.levels), fill, stages);
  return { denoiser, sampler, fill, stages, shape, seed, timesteps, ks, checkFiniteEvery, prediction, profile };
}

function abortError(signal: AbortSignal, step: number, total: number): LevelskipError {
  const where = step === 0 ? 'before step 1' : `after step ${step} of ${total}`;
  return new LevelskipError('ABORTED', `sampling was aborted ${where}; every tensor of the run has been released`, { cause: signal.reason });
}

/**
 * Samples images with a level-skipping denoiser.
 *
 * @returns the final samples (read back at the end; ε̂ is also read back for the finiteness
 *   checks) with the k and timestep of every step.
 * @throws LevelskipError before step 1 for any invalid option (`INVALID_OPTION`, `INVALID_SHAPE`,
 *   `INVALID_SCHEDULE`, `INVALID_FILL`, naming the option), `ABORTED` when `signal` fires,
 *   `NONFINITE` when the prediction or the sample holds NaN or ±Inf (naming the step, timestep and
 *   k; see `checkFiniteEvery`), and whatever the denoiser or `onProgress` throws. In every case
 *   all tensors of the run (samples, predictions, sampler state, the feature cache) are disposed.
 *
 * @example
 * ```ts
 * const { images, shape, ks } = await sample({ denoiser, sampler: ddim({ steps: 50 }), skip: powerSchedule({ c: 2 }), seed: 0 });
 * ```
 */
export async function sample<T>(options: SampleOptions<T>): Promise<SampleResult> {
  const { denoiser, sampler, fill, stages, shape, seed, timesteps, ks, checkFiniteEvery, prediction, profile } = plan(options);
  const alphasCumprod = sampler.noiseSchedule.alphasCumprod;
  const { signal, onProgress } = options;
  const ops = denoiser.ops;
  const total = timesteps.length;
  if (signal?.aborted) throw abortError(signal, 0, total);

  const started = performance.now();
  const stepNoise = new SeededRng(seed, 1);
  // Profile spans (none without a profile: then nothing reads the clock). `lap` charges the time
  // since the last lap to a phase, so the spans of a run add up to its loop's wall time; noise
  // drawn inside a sampler's update is its own span and excluded from that update's.
  let current = 0;
  let mark = 0;
  let noiseMs = 0;
  const lap =
    profile === undefined
      ? undefined
      : (phase: 'predict' | 'sampler' | 'check', step: number): void => {
          const now = performance.now();
          profile.record({ phase, ms: now - mark - (phase === 'sampler' ? noiseMs : 0), step, k: ks[step] as number });
          mark = now;
          noiseMs = 0;
        };
  // Drawn straight into the tensor's storage where the backend allows (no copy, and on a host
  // backend storage recycled from the tensors the run has disposed: no allocation per step).
  const draw = (data: Float32Array): void => void stepNoise.normalInto(data);
  const noise = (): T => {
    if (profile === undefined) return writeFloat32(ops, shape, draw);
    const began = performance.now();
    const z = writeFloat32(ops, shape, draw);
    const ms = performance.now() - began;
    noiseMs += ms;
    profile.record({ phase: 'noise', ms, step: current, k: ks[current] as number });
    return z;
  };
  const trajectory: Float32Array[] | undefined = options.trajectory ? [] : undefined;
  let run: SamplerRun<T> | undefined;
  let cache: FeatureCache<T> | undefined;
  let x: T | undefined;
  // The step of the last finiteness check that passed (0: the initial noise, finite by construction).
  let lastFiniteStep = 0;
  const checked = (what: 'prediction' | 'sample', data: Float32Array, at: CheckPoint): void => {
    if (firstNonFinite(data) >= 0) throw nonFiniteError(what, at, data, { lastFiniteStep, predictionsChecked: checkFiniteEvery > 0 });
    lastFiniteStep = at.step;
  };
  const checkPoint = (i: number): CheckPoint => ({ step: i + 1, total, timestep: timesteps[i] as number, k: ks[i] as number });
  try {
    run = sampler.createRun(ops);
    cache = fillNeedsCache(fill) ? denoiser.createFeatureCache() : undefined;
    // The cut levels the run's skipping steps read: a backend need not store the others.
    // Frozen: a backend may then check the list once per run rather than at every step.
    const cacheLevels = cache === undefined ? undefined : Object.freeze([...new Set(ks.filter((k) => k > 0).map((k) => cutLevel(denoiser.levels, k)))]);
    const initial = new SeededRng(seed, 0);
    const z = writeFloat32(ops, shape, (data) => void initial.normalInto(data));
    try {
      x = run.initialSample(z);
    } finally {
      ops.dispose(z);
    }
    if (trajectory) trajectory.push(await ops.toFloat32(x));

    if (profile !== undefined) mark = performance.now();
    for (let i = 0; i < total; i++) {
      if (signal?.aborted) throw abortError(signal, i, total);
      const t = timesteps[i] as number;
      const k = ks[i] as number;
      current = i;
      const scale = run.modelInputScale(i);
      const input = scale === 1 ? x : ops.scale(x, scale);
      let eps: T;
      let output: T;
      try {
        lap?.('sampler', i);
        output = await denoiser.predict(input, t, { k, fill, stage: stages[i] as number, ...(cache === undefined ? {} : { cache, cacheLevels }), ...(profile === undefined ? {} : { profile }) });
        lap?.('predict', i);
        try {
          // ε̂ from the model's output at what it saw (x_t = input); `output` itself for 'epsilon'.
          eps = epsilonFromModelOutput(ops, prediction, output, input, alphasCumprod[t] as number);
        } catch (error) {
          ops.dispose(output);
          throw error;
        }
      } finally {
        if (input !== x) ops.dispose(input);
      }
      // For a v- or x₀-predicting model, ε̂ exactly, as a combination of x (input = scale·x) and the
      // output, so that built-in samplers combine the coefficients of x in float64.
      const c = prediction === 'epsilon' ? undefined : predictionCoefficients(prediction, alphasCumprod[t] as number);
      const epsilon: Term<T>[] | undefined =
        c === undefined
          ? undefined
          : [
              [c.epsFromX * scale, x],
              [c.epsFromOutput, output],
            ];
      let next: T;
      try {
        // The model call is the long part; honour an abort that arrived during it.
        if (signal?.aborted) throw abortError(signal, i, total);
        if (checkFiniteEvery > 0 && ((i + 1) % checkFiniteEvery === 0 || i === total - 1)) {
          lap?.('sampler', i);
          // Read in place where the backend allows (scanned now, before eps is disposed).
          checked('prediction', await viewFloat32(ops, eps), checkPoint(i));
          lap?.('check', i);
        }
        next = await run.step(x, eps, i, noise, epsilon);
        lap?.('sampler', i);
      } finally {
        ops.dispose(eps);
        if (output !== eps) ops.dispose(output);
      }
      const previous = x;
      x = next;
      ops.dispose(previous);
      if (trajectory) {
        const data = await ops.toFloat32(x);
        checked('sample', data, checkPoint(i));
        trajectory.push(data);
      }
      onProgress?.({ step: i + 1, total, timestep: t, k, elapsedMs: performance.now() - started });
    }
    lap?.('sampler', total - 1);
    const images = await ops.toFloat32(x);
    checked('sample', images, checkPoint(total - 1));
    lap?.('check', total - 1);
    return {
      images,
      shape: [...shape] as [number, number, number, number],
      ks: [...ks],
      timesteps: [...timesteps],
      ...(trajectory ? { trajectory } : {}),
      stepsRun: total,
    };
  } finally {
    if (x !== undefined) ops.dispose(x);
    run?.dispose();
    cache?.dispose();
  }
}
