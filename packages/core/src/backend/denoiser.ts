/**
 * The model-facing contract: a denoiser predicts ε at a chosen depth. Samplers and user
 * code see only this interface, so any sampler runs on any backend, schedule and fill.
 */
import type { FeatureCache } from '../fills/feature-cache.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { Architecture } from '../geometry/architecture.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import type { TensorOps } from './tensor-ops.js';
import type { TimingProfile } from './timing-profile.js';

/** Version of the Backend/Denoiser contract this core defines. */
export const specificationVersion = 'v1' as const;
export type SpecificationVersion = typeof specificationVersion;

export interface PredictOptions<T> {
  /** Levels to skip, 0..N-1 (default 0 = the full network). */
  readonly k?: number;
  /** What replaces the skipped deep features (default zero). */
  readonly fill?: FillStrategy<T>;
  /** Per-run deep-feature store; required by the `cache` fill. */
  readonly cache?: FeatureCache<T>;
  /** Decoder stage of a multi-decoder U-Net; by default chosen from the timesteps. */
  readonly stage?: number;
  /** Receives the backend's own timing spans (inference call, cache store and load); see `TimingProfile`. Predictions are the same with or without it. */
  readonly profile?: TimingProfile;
  /**
   * With a `cache`: the decoder levels whose stored features a later step of the run will read
   * (the cut levels N − 1 − k of its skipping steps; `sample()` passes them). A backend may store
   * only these (the ONNX backend then fetches fewer outputs of its graph, each a copy of a feature
   * map); default: every level. The prediction is the same either way.
   */
  readonly cacheLevels?: readonly number[];
}

/** Progress of `Denoiser.prepare`: `done` of `total` variants (depth × fill × stage) are ready. */
export interface PrepareProgress {
  readonly done: number;
  readonly total: number;
  /** The variant just prepared, e.g. `k=2 fill=zero stage=0`. */
  readonly what: string;
}

/** What a run will use, so that `prepare` builds or warms it before the first step. */
export interface PrepareOptions<T> {
  /** Depths the run will use (default: every k in 0..N−1). */
  readonly ks?: readonly number[];
  /** Fills the run will use at k > 0 (default: zero). A `cache` fill also prepares the full-depth steps that fill its cache. */
  readonly fills?: readonly FillStrategy<T>[];
  /** Decoder stages (default: every stage). */
  readonly stages?: readonly number[];
  /** Batch size of the run (default 1); shape-specialising engines (WebGL, WebGPU) compile per shape. */
  readonly batch?: number;
  /** Called after each variant is ready (in the spirit of transformers.js's `progress_callback`). */
  readonly onProgress?: (progress: PrepareProgress) => void;
  /** Stops preparing between variants; the promise rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

export interface Denoiser<T> {
  readonly specificationVersion: SpecificationVersion;
  /** The validated spec the model was built from. */
  readonly spec: UNetSpec;
  /** Number of levels N (valid k are 0..N-1). */
  readonly levels: number;
  /**
   * The architecture `describeArchitecture(spec)` gives, derived once when the denoiser was built
   * (every backend's denoiser has it). Callers that need it (`sample()` picks each step's decoder
   * stage with it) read it here instead of deriving it again; optional for hand-written denoisers.
   */
  readonly architecture?: Architecture;
  /** Name of the backend (and engine) running it, e.g. `tfjs-wasm`, `onnx-cpu`, `reference`. */
  readonly backend: string;
  readonly ops: TensorOps<T>;
  /**
   * Predicts ε for a batch `x` of shape [B, C, H, W] at diffusion `timesteps`
   * (one per sample, or one for all), skipping `options.k` levels.
   * Does not take ownership of `x`; the result is the caller's to dispose.
   */
  predict(x: T, timesteps: number | readonly number[], options?: PredictOptions<T>): Promise<T>;
  /** A new, empty per-run cache for the `cache` fill. */
  createFeatureCache(): FeatureCache<T>;
  /**
   * Builds, compiles or warms up what the given depths and fills need (ONNX sessions, GPU
   * shaders), so that the first sampling steps do not pay for it. Optional for hand-written
   * denoisers; every backend's denoiser has it. Predictions are the same with or without it.
   */
  prepare?(options?: PrepareOptions<T>): Promise<void>;
  /** Releases every resource the denoiser holds. Calling it twice is harmless. */
  dispose(): void;
}

/**
 * A denoiser as backends create it: with `prepare`, and `Disposable`, so `using denoiser = await
 * backend.createDenoiser(…)` (or `await using`) disposes it at the end of the scope.
 * Functions that only use a denoiser (samplers, wrappers) take the plain `Denoiser`.
 */
export interface DisposableDenoiser<T> extends Denoiser<T> {
  prepare(options?: PrepareOptions<T>): Promise<void>;
  /** `dispose()`. */
  [Symbol.dispose](): void;
}
