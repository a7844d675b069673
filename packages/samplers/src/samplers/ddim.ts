/**
 * DDIM: Song, Meng & Ermon, "Denoising Diffusion Implicit Models" (ICLR 2021), eq. 12 with the
 * noise level of eq. 16:
 *
 *   x_s = √ᾱ_s · x̂₀  +  √(1 - ᾱ_s - σ_t²) · ε_θ(x_t, t)  +  σ_t z,        z ~ N(0, I)
 *         "predicted x₀"   "direction pointing to x_t"      random noise
 *   x̂₀  = (x_t - √(1 - ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t
 *   σ_t = η · √((1 - ᾱ_s)/(1 - ᾱ_t)) · √(1 - ᾱ_t/ᾱ_s)                                  (eq. 16)
 *
 * (the paper writes α for our ᾱ). η = 0 is the deterministic DDIM; η = 1 is DDPM's ancestral
 * sampler with σ² = β̃.
 *
 * s is the *next entry of the timestep list*, not t - T/n as in diffusers' DDIMScheduler, so the
 * `linspace` and `trailing` spacings (whose steps are not all T/n apart) take exactly the jumps
 * their lists describe; for `leading` the two agree. After the last entry, ᾱ_s = 1 (diffusers'
 * `set_alpha_to_one = True`): the final step returns x̂₀ itself, and has σ = 0 whatever η.
 */
import type { NoiseSchedule, TensorOps } from '@levelskip/core';
import { clippedX0 } from '../clip-sample.js';
import { epsilonTerms, linearCombinationWithNoise, type Term } from '../linear-combination.js';
import type { NoiseDraw, Sampler, SamplerRun } from '../sampler.js';
import { alphaCumprodAt, checkBoolean, checkInteger, checkNoiseSchedule, checkOptionKeys, checkPositive, checkSpacing, optionError } from '../sampler-options.js';
import { inferenceTimesteps, type TimestepSpacing } from '../timesteps.js';

export interface DdimOptions {
  /** Number of steps (diffusers' `num_inference_steps`), in [1, T]. Default 50. */
  readonly steps?: number;
  /** η ∈ [0, 1]: 0 = deterministic DDIM (default), 1 = DDPM-like ancestral noise. */
  readonly eta?: number;
  /** Default `'leading'` (diffusers' default). */
  readonly timestepSpacing?: TimestepSpacing;
  /** Default 0. */
  readonly stepsOffset?: number;
  /** Clamp x̂₀ to [-clipSampleRange, clipSampleRange]. Default false. */
  readonly clipSample?: boolean;
  /** Default 1. */
  readonly clipSampleRange?: number;
  /** The schedule the model was trained with; default DDPM's linear schedule (T = 1000). */
  readonly noiseSchedule?: NoiseSchedule;
}

const NAME = 'ddim';
const KEYS = ['steps', 'eta', 'timestepSpacing', 'stepsOffset', 'clipSample', 'clipSampleRange', 'noiseSchedule'];

/** The scalars of one DDIM step t → s. */
export interface DdimCoefficients {
  /** x̂₀ = x0FromX·x_t - x0FromEps·ε. */
  readonly x0FromX: number;
  readonly x0FromEps: number;
  /** √ᾱ_s, the weight of x̂₀. */
  readonly nextFromX0: number;
  /** √(1 - ᾱ_s - σ²), the weight of ε in the direction pointing to x_t. */
  readonly nextFromEps: number;
  /** σ_t of eq. 16. */
  readonly sigma: number;
}

/** Eq. 12 and 16 for the jump t → s (s = -1 after the last step: ᾱ_s = 1). */
export function ddimCoefficients(schedule: NoiseSchedule, t: number, s: number, eta: number): DdimCoefficients {
  const alphaBarT = alphaCumprodAt(schedule, t);
  const alphaBarS = alphaCumprodAt(schedule, s);
  const sigma = eta * Math.sqrt((1 - alphaBarS) / (1 - alphaBarT)) * Math.sqrt(1 - alphaBarT / alphaBarS);
  return {
    x0FromX: 1 / Math.sqrt(alphaBarT),
    x0FromEps: Math.sqrt(1 - alphaBarT) / Math.sqrt(alphaBarT),
    nextFromX0: Math.sqrt(alphaBarS),
    // 1 - ᾱ_s - σ² ≥ 0 for η ≤ 1; the max only absorbs rounding at η = 1.
    nextFromEps: Math.sqrt(Math.max(0, 1 - alphaBarS - sigma * sigma)),
    sigma,
  };
}

/**
 * DDIM sampling (Song et al. 2021, eq. 12) over the timestep list of `timestepSpacing`.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when one is out of range or unknown.
 *
 * @example
 * ```ts
 * const sampler = ddim({ steps: 50, eta: 0, timestepSpacing: 'trailing' });
 * ```
 */
export function ddim(options: DdimOptions = {}): Sampler {
  checkOptionKeys(NAME, options, KEYS);
  const noiseSchedule = checkNoiseSchedule(NAME, options.noiseSchedule);
  const T = noiseSchedule.trainTimesteps;
  const steps = checkInteger(NAME, 'steps', options.steps ?? 50, 1, T);
  const eta = options.eta ?? 0;
  if (!(typeof eta === 'number' && eta >= 0 && eta <= 1)) {
    throw optionError(NAME, 'eta', 'a number in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like)', eta);
  }
  const timestepSpacing = checkSpacing(NAME, options.timestepSpacing ?? 'leading');
  const stepsOffset = checkInteger(NAME, 'stepsOffset', options.stepsOffset ?? 0, 0);
  const clipSample = checkBoolean(NAME, 'clipSample', options.clipSample ?? false);
  const clipSampleRange = checkPositive(NAME, 'clipSampleRange', options.clipSampleRange ?? 1);
  const timesteps = inferenceTimesteps({ trainTimesteps: T, steps, timestepSpacing, stepsOffset });
  const coefficients = timesteps.map((t, i) => ddimCoefficients(noiseSchedule, t, timesteps[i + 1] ?? -1, eta));
  const clip = clipSample ? `, clipSample=${clipSampleRange}` : '';

  return Object.freeze({
    kind: NAME,
    description: `ddim(steps=${steps}, eta=${eta}, spacing=${timestepSpacing}${clip})`,
    noiseSchedule,
    timesteps,
    createRun<T>(ops: TensorOps<T>): SamplerRun<T> {
      return {
        initialSample: (z) => ops.clone(z),
        modelInputScale: () => 1,
        async step(x: T, eps: T, index: number, noise: NoiseDraw<T>, epsilon?: readonly Term<T>[]): Promise<T> {
          const c = coefficients[index] as DdimCoefficients;
          if (!clipSample) {
            // x̂₀ substituted into eq. 12, so the step is two scales and an add (plus the noise).
            const terms: Term<T>[] = [
              [c.nextFromX0 * c.x0FromX, x],
              ...epsilonTerms(c.nextFromEps - c.nextFromX0 * c.x0FromEps, eps, epsilon),
            ];
            return linearCombinationWithNoise(ops, terms, c.sigma, noise);
          }
          // As diffusers with use_clipped_model_output = False: the clipped x̂₀, the model's own ε.
          const x0 = clippedX0(ops, x, eps, c.x0FromX, c.x0FromEps, clipSampleRange, epsilon);
          try {
            const terms: Term<T>[] = [
              [c.nextFromX0, x0],
              ...epsilonTerms(c.nextFromEps, eps, epsilon),
            ];
            return linearCombinationWithNoise(ops, terms, c.sigma, noise);
          } finally {
            ops.dispose(x0);
          }
        },
        dispose() {},
      };
    },
  });
}
