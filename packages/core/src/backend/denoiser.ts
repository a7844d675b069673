/**
 * The model-facing contract: a denoiser predicts ε at a chosen depth. Samplers and user
 * code see only this interface, so any sampler runs on any backend, schedule and fill.
 */
import type { FeatureCache } from '../fills/feature-cache.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import type { TensorOps } from './tensor-ops.js';

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
}

export interface Denoiser<T> {
  readonly specificationVersion: SpecificationVersion;
  /** The validated spec the model was built from. */
  readonly spec: UNetSpec;
  /** Number of levels N (valid k are 0..N-1). */
  readonly levels: number;
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
  /** Releases every resource the denoiser holds. Calling it twice is harmless. */
  dispose(): void;
}
