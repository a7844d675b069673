/**
 * The contract between the `sample()` loop and a sampling algorithm.
 *
 * A `Sampler` is plain configuration (built by a factory such as `ddim({ steps: 50 })`): its
 * timestep list and noise schedule. For each run, `sample()` asks it for a `SamplerRun`, which
 * holds the per-run state (e.g. DPM-Solver++'s previous data prediction) over the denoiser's
 * `TensorOps`, so one sampler object can drive many runs, on any backend, even concurrently.
 *
 * Ownership: every tensor a run returns is new and belongs to the caller; a run never disposes
 * the tensors it is given, and disposes whatever it keeps in `dispose()`.
 */
import type { NoiseSchedule, TensorOps } from '@levelskip/core';
import type { Term } from './linear-combination.js';

/** Standard normal noise of the sample's shape: the next values of the run's step-noise stream. */
export type NoiseDraw<T> = () => T;

/** One run of a sampler: its state lives here, so runs never share anything. */
export interface SamplerRun<T> {
  /**
   * The starting sample from standard normal noise `z` (shape [B, C, H, W]): `z` itself for the
   * variance-preserving samplers, `z / √ᾱ` for annealed Langevin's variance-exploding variable.
   * Returns a new tensor.
   */
  initialSample(z: T): T;
  /**
   * What the sample is multiplied by before the denoiser sees it at step `step` (diffusers'
   * `scale_model_input`): 1 for DDPM, DDIM and DPM-Solver++, √ᾱ_t for annealed Langevin.
   */
  modelInputScale(step: number): number;
  /**
   * One update: from the sample `x` and the denoiser's ε prediction at `timesteps[step]` to the
   * next sample (`sample()` has already converted a v- or x₀-predicting model's output to ε̂;
   * prediction-type.ts). Draws noise only through `noise`, in a fixed order, so runs are reproducible.
   * For such a model `epsilon` also gives ε̂ exactly, as a combination of `x` and the model's output
   * (ε̂ = Σ cᵢ·tensorᵢ): a sampler that builds its update from linear combinations should use it
   * in place of `eps` (`epsilonTerms`), so that the coefficients of `x` combine in float64 (at
   * ᾱ ≈ 0 the float32 ε̂ has lost x̂₀); `eps` stays equal to that combination, for other uses.
   * Does not dispose `x`, `eps` or `epsilon`'s tensors; resolves to a new tensor. Asynchronous because an update may
   * read data back; steps must be run in order, once each.
   */
  step(x: T, eps: T, step: number, noise: NoiseDraw<T>, epsilon?: readonly Term<T>[]): Promise<T>;
  /** Releases the run's state. Calling it twice is harmless. */
  dispose(): void;
}

/** A sampling algorithm with its configuration. Build one with `ddpm`, `ddim`, `annealedLangevin` or `dpmSolverPlusPlus`. */
export interface Sampler {
  /** Which algorithm, e.g. `'ddim'`. */
  readonly kind: string;
  /** Human-readable configuration for tables and logs, e.g. `ddim(steps=50, eta=0, spacing=leading)`. */
  readonly description: string;
  /** The noise schedule the model was trained with; its `trainTimesteps` must match the model's. */
  readonly noiseSchedule: NoiseSchedule;
  /** The diffusion timestep of each step's denoiser call, in step order (one entry per step). */
  readonly timesteps: readonly number[];
  /** Creates the per-run state over a backend's ops. */
  createRun<T>(ops: TensorOps<T>): SamplerRun<T>;
}
