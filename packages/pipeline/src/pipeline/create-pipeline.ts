/**
 * The one-call API, in the spirit of 🤗 diffusers' `DiffusionPipeline` and transformers.js's
 * `pipeline()`: a model and a backend in, a pipeline out, whose `generate` samples images with
 * the model's recommended settings unless told otherwise.
 *
 *   const pipe = await createPipeline({ model: 'mnist-full' });
 *   const result = await pipe.generate({ count: 16, seed: 0 });
 *
 * Under the hood it is exactly the explicit path (load the checkpoint, create the backend and the
 * denoiser, build a sampler, `sample()`), so its images equal that path's for the same settings.
 * Before a run's first step, the depths and fill it uses are prepared (`Denoiser.prepare`: ONNX
 * sessions opened, kernels compiled), once per pipeline.
 */
import {
  LevelskipError,
  fillLabel,
  fillNeedsCache,
  resolveFill,
  type Backend,
  type Denoiser,
  type FetchCheckpointOptions,
  type FillStrategy,
  type PrepareOptions,
} from '@levelskip/core';
import { sample } from '@levelskip/samplers';
import { imageBatch, type ImageBatch } from '../images/image-batch.js';
import { checkBackendOption, resolveBackend } from './backend-source.js';
import { resolveModel, type PipelineModel, type PipelineModelInfo } from './model-source.js';
import type { PipelineEnvironment } from './pipeline-environment.js';
import { optionError, shown } from './pipeline-errors.js';
import { modelSampling, resolveSampling, type ModelSampling, type ResolvedSampling, type SamplingChoices, type SamplingSettings } from './sampling-settings.js';

/**
 * One progress event. `download`: bytes of the model's files (URLs; `total` undefined when the
 * server sends no length); `load`: the model read, the backend started, the denoiser built (3
 * units); `prepare`: variants (depth × fill) made ready; `sample`: steps of the run, over all batches.
 */
export type PipelineProgress =
  | { readonly phase: 'download'; readonly done: number; readonly total: number | undefined; readonly what: string }
  | { readonly phase: 'load' | 'prepare'; readonly done: number; readonly total: number; readonly what: string }
  | {
      readonly phase: 'sample';
      readonly done: number;
      readonly total: number;
      readonly what: string;
      /** Levels skipped at the step just run. */
      readonly k: number;
      /** 0-based batch of the run. */
      readonly batch: number;
    };

export interface CreatePipelineOptions<T = unknown> {
  /**
   * The model: a shipped model's name (`'mnist-full'`, see `@levelskip/pretrained`), a checkpoint
   * directory (Node) or file: URL, an http(s) URL of a served checkpoint directory, or
   * `{ spec, weights }` (e.g. what `loadCheckpoint` returns).
   */
  readonly model: string | URL | PipelineModel;
  /**
   * `'onnx'` (default) or `'tfjs'`: the pipeline imports `@levelskip/backend-onnx` or
   * `@levelskip/backend-tfjs` (install the one you use), creates the backend with
   * `backendOptions` and disposes it with the pipeline. Or a backend instance, which stays yours.
   */
  readonly backend?: 'onnx' | 'tfjs' | Backend<T>;
  /** Options for `createOnnxBackend` / `createTfjsBackend`, e.g. `{ executionProviders: ['cuda', 'cpu'] }` or `{ engine: 'wasm' }`. */
  readonly backendOptions?: object;
  /** Where `@levelskip/pretrained`'s `models/` directory is served, for shipped names in browsers (`loadPretrained`'s `baseUrl`). */
  readonly baseUrl?: string | URL;
  /** The fetch for URLs (default `globalThis.fetch`). */
  readonly fetch?: FetchCheckpointOptions['fetch'];
  /** Progress of loading (`download`, `load` phases). */
  readonly onProgress?: (progress: PipelineProgress) => void;
  /** Cancels loading; the promise rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

export interface GenerateOptions<T = unknown> extends SamplingChoices<T> {
  /** Images to generate, an integer in [1, 1000000] (default 1). */
  readonly count?: number;
  /** Seed of all the noise (default 0): a non-negative safe integer or a bigint below 2^64. Batch b of the run uses seed + b. */
  readonly seed?: number | bigint;
  /** Images per `sample()` call (default min(count, 16)); the images depend on it, as batch b uses seed + b. */
  readonly batch?: number;
  /** Progress of the run (`prepare`, `sample` phases). */
  readonly onProgress?: (progress: PipelineProgress) => void;
  /** Cancels the run between steps; the promise rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** The settings of one `generate` call. */
export interface GenerateSettings extends SamplingSettings {
  readonly count: number;
  readonly batch: number;
  readonly seed: number | bigint;
}

/** What `generate` returns: the images with their conversions, the settings used and what ran. */
export interface GenerateResult extends ImageBatch {
  readonly settings: GenerateSettings;
  /** Levels skipped at each step (the same for every batch). */
  readonly ks: readonly number[];
  /** Diffusion timestep of each step. */
  readonly timesteps: readonly number[];
  /** Milliseconds spent preparing (0 when everything was ready) and sampling. */
  readonly timing: { readonly prepareMs: number; readonly sampleMs: number };
}

export interface Pipeline<T = unknown> {
  readonly model: PipelineModelInfo;
  /** The backend the pipeline runs on (disposed with the pipeline when the pipeline created it). */
  readonly backend: Backend<T>;
  readonly denoiser: Denoiser<T>;
  /** The settings `generate()` uses without options: the model's recommendation, else the defaults. */
  readonly settings: SamplingSettings;
  /** Samples images. Calls run one at a time, in call order. */
  generate(options?: GenerateOptions<T>): Promise<GenerateResult>;
  /** Prepares what `generate(options)` would use (also done by `generate` itself), e.g. while a page loads. */
  prepare(options?: GenerateOptions<T>): Promise<void>;
  /** Releases the denoiser and, if the pipeline created it, the backend. Calling it twice is harmless. */
  dispose(): void;
  /** `dispose()`, for `using pipe = await createPipeline(…)`. */
  [Symbol.dispose](): void;
  /** Waits for running calls to finish, then disposes: `await using pipe = await createPipeline(…)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const createKeys = ['model', 'backend', 'backendOptions', 'baseUrl', 'fetch', 'onProgress', 'signal'];
const generateKeys = ['count', 'seed', 'batch', 'sampler', 'steps', 'eta', 'clip', 'noiseLevels', 'schedule', 'fill', 'onProgress', 'signal'];

function checkKeys(where: 'createPipeline' | 'generate', options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LevelskipError('INVALID_OPTION', `${where}: expected an options object, got ${shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw optionError(where, key, `is not an option of ${where} (allowed: ${allowed.join(', ')})`);
  }
}

function checkCallbacks(where: 'createPipeline' | 'generate', options: { onProgress?: unknown; signal?: unknown }): void {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw optionError(where, 'onProgress', `must be a function (progress) => void, got ${shown(options.onProgress)}`);
  if (options.signal !== undefined && typeof (options.signal as Partial<AbortSignal> | null)?.aborted !== 'boolean') {
    throw optionError(where, 'signal', 'must be an AbortSignal, e.g. new AbortController().signal');
  }
}

function disposedError(): LevelskipError {
  return new LevelskipError('DISPOSED', 'this pipeline has been disposed; create a new one with createPipeline()');
}

function aborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new LevelskipError('ABORTED', `${what} was aborted`, { cause: signal.reason });
}

/** A generate call's options, checked. */
interface RunPlan<T> {
  readonly count: number;
  readonly batch: number;
  readonly seed: number | bigint;
  readonly sampling: ResolvedSampling<T>;
  /** The schedule's k at each step, before the cache fill's refreshes. */
  readonly depths: readonly number[];
  readonly onProgress: ((progress: PipelineProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

class LevelskipPipeline<T> implements Pipeline<T> {
  /** Variants prepared so far: `k/fill/batch`. */
  private readonly prepared = new Set<string>();
  private tail: Promise<unknown> = Promise.resolve();
  private closing = false;
  private disposed = false;

  constructor(
    readonly model: PipelineModelInfo,
    readonly backend: Backend<T>,
    readonly denoiser: Denoiser<T> & { prepare?: (options?: PrepareOptions<T>) => Promise<void> },
    private readonly ownsBackend: boolean,
    private readonly modelDefaults: ModelSampling,
    readonly settings: SamplingSettings,
  ) {}

  /** For new calls: refused once disposal has begun. */
  private checkOpen(): void {
    if (this.disposed || this.closing) throw disposedError();
  }

  /** For calls already queued: they finish unless the pipeline was disposed at once (`dispose()`). */
  private checkAlive(): void {
    if (this.disposed) throw disposedError();
  }

  /** Runs `work` after every earlier call has settled. */
  private exclusive<R>(work: () => Promise<R>): Promise<R> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private plan(options: GenerateOptions<T>): RunPlan<T> {
    checkKeys('generate', options, generateKeys);
    checkCallbacks('generate', options);
    const count = options.count ?? 1;
    if (!(typeof count === 'number' && Number.isSafeInteger(count) && count >= 1 && count <= 1_000_000)) {
      throw optionError('generate', 'count', `must be an integer in [1, 1000000] (images to generate), got ${shown(count)}`);
    }
    const batchOption = options.batch ?? Math.min(count, 16);
    if (!(typeof batchOption === 'number' && Number.isSafeInteger(batchOption) && batchOption >= 1 && batchOption <= 65_536)) {
      throw optionError('generate', 'batch', `must be an integer in [1, 65536] (images per sampling call), got ${shown(batchOption)}`);
    }
    const batch = Math.min(batchOption, count);
    const seed = options.seed ?? 0;
    const batches = Math.ceil(count / batch);
    const seedOk =
      (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0 && seed + batches - 1 <= Number.MAX_SAFE_INTEGER) ||
      (typeof seed === 'bigint' && seed >= 0n && seed + BigInt(batches - 1) < 1n << 64n);
    if (!seedOk) throw optionError('generate', 'seed', `must be a non-negative safe integer or a bigint below 2^64 (batch b uses seed + b, here up to seed + ${batches - 1}), got ${shown(seed)}`);
    const resolved = resolveSampling<T>(this.modelDefaults, options);
    const { spec, levels } = this.denoiser;
    // Validate once: the fill is checked against the model here, and the checked value is what
    // sample() (every batch) and predict (every step) receive, so neither checks it again.
    let sampling: ResolvedSampling<T>;
    try {
      sampling = { ...resolved, fill: resolveFill(spec, resolved.fill) };
    } catch (error) {
      if (!LevelskipError.is(error)) throw error;
      throw new LevelskipError(error.code, `generate: fill ${resolved.settings.fill}: ${error.message}`, { cause: error, issues: [{ path: ['fill'], message: error.message }] });
    }
    const T = spec.trainTimesteps;
    const depths = sampling.sampler.timesteps.map((t) => {
      let k: number;
      try {
        k = sampling.schedule.kAt(t / T, levels);
      } catch (error) {
        throw optionError('generate', 'schedule', `${sampling.schedule.description} cannot serve this ${levels}-level model: ${(error as Error).message}`, 'INVALID_SCHEDULE', error);
      }
      if (!(Number.isInteger(k) && k >= 0 && k <= levels - 1)) {
        throw optionError('generate', 'schedule', `${sampling.schedule.description} returned k = ${shown(k)} at t = ${t / T}; k must be an integer in [0, ${levels - 1}] for this ${levels}-level model`, 'INVALID_SCHEDULE');
      }
      return k;
    });
    return { count, batch, seed, sampling, depths, onProgress: options.onProgress, signal: options.signal };
  }

  /** Prepares the variants of `plan` not prepared yet; returns the milliseconds it took. */
  private async prepareRun(plan: RunPlan<T>): Promise<number> {
    const prepare = this.denoiser.prepare;
    if (typeof prepare !== 'function') return 0;
    const { fill } = plan.sampling;
    const key = (k: number): string => `${k}/${k === 0 ? '' : fillLabel(fill)}/${plan.batch}`;
    const ks = [...new Set(plan.depths)].filter((k) => !this.prepared.has(key(k))).sort((a, b) => a - b);
    if (fillNeedsCache(fill) && !ks.includes(0) && !this.prepared.has(key(0))) ks.unshift(0);
    if (ks.length === 0) return 0;
    const started = performance.now();
    await prepare.call(this.denoiser, {
      ks,
      fills: [fill as FillStrategy<T>],
      batch: plan.batch,
      ...(plan.signal === undefined ? {} : { signal: plan.signal }),
      onProgress: ({ done, total, what }) => plan.onProgress?.({ phase: 'prepare', done, total, what }),
    });
    for (const k of ks) this.prepared.add(key(k));
    return performance.now() - started;
  }

  prepare(options: GenerateOptions<T> = {}): Promise<void> {
    try {
      this.checkOpen();
      const plan = this.plan(options);
      return this.exclusive(async () => {
        this.checkAlive();
        aborted(plan.signal, 'prepare');
        await this.prepareRun(plan);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  generate(options: GenerateOptions<T> = {}): Promise<GenerateResult> {
    try {
      this.checkOpen();
      const plan = this.plan(options);
      return this.exclusive(() => this.run(plan));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async run(plan: RunPlan<T>): Promise<GenerateResult> {
    this.checkAlive();
    aborted(plan.signal, 'generate');
    const { count, batch, seed, sampling, onProgress, signal } = plan;
    const prepareMs = await this.prepareRun(plan);
    const { inChannels, imageSize } = this.denoiser.spec;
    const perImage = inChannels * imageSize * imageSize;
    const images = new Float32Array(count * perImage);
    const batches = Math.ceil(count / batch);
    const steps = sampling.sampler.timesteps.length;
    let ks: readonly number[] = [];
    let timesteps: readonly number[] = [];
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      this.checkAlive();
      const size = Math.min(batch, count - b * batch);
      const result = await sample({
        denoiser: this.denoiser,
        sampler: sampling.sampler,
        skip: sampling.schedule,
        fill: sampling.fill,
        batch: size,
        seed: typeof seed === 'bigint' ? seed + BigInt(b) : seed + b,
        ...(signal === undefined ? {} : { signal }),
        ...(onProgress === undefined
          ? {}
          : {
              onProgress: ({ step, k }) =>
                onProgress({ phase: 'sample', done: b * steps + step, total: batches * steps, what: `batch ${b + 1}/${batches} step ${step}/${steps} k=${k}`, k, batch: b }),
            }),
      });
      images.set(result.images, b * batch * perImage);
      ks = result.ks;
      timesteps = result.timesteps;
    }
    const sampleMs = performance.now() - started;
    const batchOfImages = imageBatch({ images, shape: [count, inChannels, imageSize, imageSize] });
    const settings: GenerateSettings = { ...sampling.settings, count, batch, seed };
    return Object.assign(batchOfImages, { settings, ks, timesteps, timing: { prepareMs, sampleMs } });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.denoiser.dispose();
    } finally {
      if (this.ownsBackend) this.backend.dispose();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closing = true;
    await this.tail;
    this.dispose();
  }
}

/**
 * Creates a pipeline (see `createPipelineIn`'s callers: the package's Node and browser entries).
 *
 * @throws LevelskipError as `createPipeline` documents.
 */
export async function createPipelineIn<T = unknown>(environment: PipelineEnvironment, options: CreatePipelineOptions<T>): Promise<Pipeline<T>> {
  checkKeys('createPipeline', options, createKeys);
  if (options.model === undefined) throw optionError('createPipeline', 'model', `is required: a shipped model name (${environment.pretrainedNames.join(', ')}), a checkpoint directory, a URL or { spec, weights }`);
  checkCallbacks('createPipeline', options);
  const backendChoice = options.backend ?? 'onnx';
  checkBackendOption(backendChoice, options.backendOptions);
  const { onProgress, signal } = options;
  aborted(signal, 'createPipeline');

  const loaded = await resolveModel(environment, options.model, {
    baseUrl: options.baseUrl,
    signal,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(onProgress === undefined ? {} : { onDownload: ({ file, loaded: done, total }) => onProgress({ phase: 'download', done, total, what: file }) }),
  });
  const { info } = loaded;
  const where = info.source === 'object' ? 'createPipeline: model' : `model.json of ${info.name}`;
  const defaults = modelSampling(info.spec, info.recommended, info.training, where, loaded.errorCode);
  let initial: ResolvedSampling<T>;
  try {
    initial = resolveSampling<T>(defaults, {});
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError(loaded.errorCode, `${where}: the recommended sampling settings do not fit the model (${error.message})`, { cause: error });
  }
  onProgress?.({ phase: 'load', done: 1, total: 3, what: `model ${info.name}` });
  aborted(signal, 'createPipeline');

  const { backend, owned } = await resolveBackend<T>(environment, backendChoice, options.backendOptions);
  let denoiser: Denoiser<T>;
  try {
    onProgress?.({ phase: 'load', done: 2, total: 3, what: `backend ${backend.name}` });
    aborted(signal, 'createPipeline');
    // The model's default fill is checked against the model now (interpolate needs side paths).
    denoiser = await backend.createDenoiser(info.spec, loaded.weights, { fill: initial.fill });
  } catch (error) {
    if (owned) backend.dispose();
    throw error;
  }
  onProgress?.({ phase: 'load', done: 3, total: 3, what: `denoiser on ${denoiser.backend}` });
  return new LevelskipPipeline<T>(info, backend, denoiser, owned, defaults, initial.settings);
}
