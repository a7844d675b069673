/**
 * DDPM ancestral sampling: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models"
 * (NeurIPS 2020), eq. 11 and Algorithm 2:
 *
 *   x_{t-1} = 1/√α_t · (x_t - β_t/√(1 - ᾱ_t) · ε_θ(x_t, t)) + σ_t z,   z ~ N(0, I), z = 0 at t = 0
 *
 * with σ_t² = β̃_t = (1 - ᾱ_{t-1})/(1 - ᾱ_t) · β_t ('fixed_small', the posterior variance of
 * eq. 7) or σ_t² = β_t ('fixed_large'); the paper found both equally good.
 *
 * Written, like 🤗 diffusers' DDPMScheduler, through the predicted x̂₀ and the posterior mean
 * (eq. 15, then eq. 7), which equals eq. 11 and lets `clipSample` clamp x̂₀:
 *
 *   x̂₀ = (x_t - √(1 - ᾱ_t) ε)/√ᾱ_t                                                  (eq. 15)
 *   μ̃_t = √ᾱ_s β̂_t/(1 - ᾱ_t) · x̂₀ + √α̂_t (1 - ᾱ_s)/(1 - ᾱ_t) · x_t                (eq. 7)
 *
 * Fewer steps than T (diffusers' approach): s is the next entry of the timestep list (s = -1,
 * ᾱ_s = 1, after the last), and the one-step α's are recomputed for the jump t → s:
 * α̂_t = ᾱ_t/ᾱ_s, β̂_t = 1 - α̂_t. With steps = T and the default spacing, s = t - 1 and this is
 * exactly Algorithm 2. Noise is added whenever t > 0 (as in diffusers), so with `stepsOffset`
 * the last step may add a little.
 */
import type { NoiseSchedule, TensorOps } from '@levelskip/core';
import { clippedX0 } from '../clip-sample.js';
import { epsilonTerms, linearCombinationWithNoise, type Term } from '../linear-combination.js';
import type { NoiseDraw, Sampler, SamplerRun } from '../sampler.js';
import {
  alphaCumprodAt,
  checkBoolean,
  checkChoice,
  checkInteger,
  checkNoiseSchedule,
  checkOptionKeys,
  checkPositive,
  checkSpacing,
} from '../sampler-options.js';
import { inferenceTimesteps, type TimestepSpacing } from '../timesteps.js';

/** σ_t² of the reverse step: β̃_t (posterior variance) or β_t. diffusers' `variance_type`. */
export type VarianceType = 'fixed_small' | 'fixed_large';

export const varianceTypes: readonly VarianceType[] = ['fixed_small', 'fixed_large'];

export interface DdpmOptions {
  /** Number of steps (diffusers' `num_inference_steps`); default T, the full chain of Algorithm 2. */
  readonly steps?: number;
  /** `'fixed_small'` (σ² = β̃_t, default, as diffusers) or `'fixed_large'` (σ² = β_t). */
  readonly varianceType?: VarianceType;
  /** Clamp x̂₀ to [-clipSampleRange, clipSampleRange] before the posterior mean. Default false (diffusers defaults to true, for images in [-1, 1]). */
  readonly clipSample?: boolean;
  /** Default 1. */
  readonly clipSampleRange?: number;
  /** Default `'leading'` (diffusers' default). */
  readonly timestepSpacing?: TimestepSpacing;
  /** Default 0. */
  readonly stepsOffset?: number;
  /** The schedule the model was trained with; default DDPM's linear schedule (T = 1000). */
  readonly noiseSchedule?: NoiseSchedule;
}

const NAME = 'ddpm';
const KEYS = ['steps', 'varianceType', 'clipSample', 'clipSampleRange', 'timestepSpacing', 'stepsOffset', 'noiseSchedule'];

/** The scalars of one step t → s; everything is float64 on the host. */
export interface DdpmCoefficients {
  /** x̂₀ = x0FromX·x_t - x0FromEps·ε (eq. 15). */
  readonly x0FromX: number;
  readonly x0FromEps: number;
  /** μ̃ = meanFromX0·x̂₀ + meanFromX·x_t (eq. 7). */
  readonly meanFromX0: number;
  readonly meanFromX: number;
  /** σ_t (0 at t = 0). */
  readonly sigma: number;
}

/** The coefficients of the jump t → s (s = -1 after the last step). */
export function ddpmCoefficients(schedule: NoiseSchedule, t: number, s: number, varianceType: VarianceType): DdpmCoefficients {
  const alphaBarT = alphaCumprodAt(schedule, t);
  const alphaBarS = alphaCumprodAt(schedule, s);
  const alphaHat = alphaBarT / alphaBarS;
  const betaHat = 1 - alphaHat;
  // diffusers clamps β̃ at 1e-20 so that its log (learned variances) stays finite; kept for parity.
  const variance = varianceType === 'fixed_small' ? Math.max(((1 - alphaBarS) / (1 - alphaBarT)) * betaHat, 1e-20) : betaHat;
  return {
    x0FromX: 1 / Math.sqrt(alphaBarT),
    x0FromEps: Math.sqrt(1 - alphaBarT) / Math.sqrt(alphaBarT),
    meanFromX0: (Math.sqrt(alphaBarS) * betaHat) / (1 - alphaBarT),
    meanFromX: (Math.sqrt(alphaHat) * (1 - alphaBarS)) / (1 - alphaBarT),
    sigma: t > 0 ? Math.sqrt(variance) : 0,
  };
}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2), with diffusers' handling of fewer steps.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when one is out of range or unknown.
 *
 * @example
 * ```ts
 * const sampler = ddpm({ varianceType: 'fixed_large' }); // 1000 steps, σ_t² = β_t
 * ```
 */
export function ddpm(options: DdpmOptions = {}): Sampler {
  checkOptionKeys(NAME, options, KEYS);
  const noiseSchedule = checkNoiseSchedule(NAME, options.noiseSchedule);
  const T = noiseSchedule.trainTimesteps;
  const steps = checkInteger(NAME, 'steps', options.steps ?? T, 1, T);
  const varianceType = checkChoice(NAME, 'varianceType', options.varianceType ?? 'fixed_small', varianceTypes);
  const clipSample = checkBoolean(NAME, 'clipSample', options.clipSample ?? false);
  const clipSampleRange = checkPositive(NAME, 'clipSampleRange', options.clipSampleRange ?? 1);
  const timestepSpacing = checkSpacing(NAME, options.timestepSpacing ?? 'leading');
  const stepsOffset = checkInteger(NAME, 'stepsOffset', options.stepsOffset ?? 0, 0);
  const timesteps = inferenceTimesteps({ trainTimesteps: T, steps, timestepSpacing, stepsOffset });
  const coefficients = timesteps.map((t, i) => ddpmCoefficients(noiseSchedule, t, timesteps[i + 1] ?? -1, varianceType));
  const clip = clipSample ? `, clipSample=${clipSampleRange}` : '';

  return Object.freeze({
    kind: NAME,
    description: `ddpm(steps=${steps}, varianceType=${varianceType}, spacing=${timestepSpacing}${clip})`,
    noiseSchedule,
    timesteps,
    createRun<T>(ops: TensorOps<T>): SamplerRun<T> {
      return {
        initialSample: (z) => ops.clone(z),
        modelInputScale: () => 1,
        async step(x: T, eps: T, index: number, noise: NoiseDraw<T>, epsilon?: readonly Term<T>[]): Promise<T> {
          const c = coefficients[index] as DdpmCoefficients;
          if (!clipSample) {
            // Eq. 15 substituted into eq. 7: μ̃ = (meanFromX0·x0FromX + meanFromX)·x_t - meanFromX0·x0FromEps·ε.
            const terms: Term<T>[] = [
              [c.meanFromX0 * c.x0FromX + c.meanFromX, x],
              ...epsilonTerms(-c.meanFromX0 * c.x0FromEps, eps, epsilon),
            ];
            return linearCombinationWithNoise(ops, terms, c.sigma, noise);
          }
          const clipped = clippedX0(ops, x, eps, c.x0FromX, c.x0FromEps, clipSampleRange, epsilon);
          try {
            const terms: Term<T>[] = [
              [c.meanFromX0, clipped],
              [c.meanFromX, x],
            ];
            return linearCombinationWithNoise(ops, terms, c.sigma, noise);
          } finally {
            ops.dispose(clipped);
          }
        },
        dispose() {},
      };
    },
  });
}
