/**
 * Annealed Langevin dynamics: Song & Ermon, "Generative Modeling by Estimating Gradients of the
 * Data Distribution" (NeurIPS 2019), Algorithm 1 — the NCSN lineage the level-skipping paper
 * builds on:
 *
 *   for i = 1..L (noise levels σ_1 > … > σ_L):
 *     α_i = ε · σ_i² / σ_L²                                           (step size)
 *     repeat T times (`stepsPerLevel`):
 *       x̃ ← x̃ + (α_i/2) · s_θ(x̃, σ_i) + √α_i · z,   z ~ N(0, I)
 *
 * Variance-exploding ↔ variance-preserving correspondence. NCSN perturbs data as
 * x̃ = x₀ + σ n (variance exploding); our models are ε-predictors trained on the variance-
 * preserving x_t = √ᾱ_t x₀ + √(1-ᾱ_t) ε. Dividing by √ᾱ_t gives x_t/√ᾱ_t = x₀ + σ_t ε with
 *
 *   σ_t = √((1 - ᾱ_t)/ᾱ_t),
 *
 * so each diffusion timestep t is an NCSN noise level σ_t, and the Langevin variable is
 * x̃ = x_t/√ᾱ_t (data scale). The scores correspond by the change of variables x_t = √ᾱ_t x̃:
 *
 *   ∇_{x_t} log p_t(x_t) = -ε_θ(x_t, t)/√(1 - ᾱ_t)                      (VP score)
 *   s_θ(x̃, σ_t) = ∇_x̃ log q_{σ_t}(x̃) = √ᾱ_t · ∇_{x_t} log p_t(√ᾱ_t x̃) = -ε_θ(√ᾱ_t x̃, t)/σ_t   (VE score)
 *
 * The dynamics run on x̃ with the VE score, which is what Algorithm 1's α_i ∝ σ_i² is tuned for
 * (it keeps α_i/σ_i², the step relative to the level's variance, constant); the model sees
 * √ᾱ_t x̃ (`modelInputScale`). The noise levels are the timesteps of `timestepSpacing` over
 * `noiseLevels` levels (default linspace: t = 999 … 0, σ ≈ 157 … 0.01 for the linear schedule,
 * whose σ_L ≈ 0.01 matches the paper's). x̃ starts at z/√ᾱ_{t_1}, i.e. x_{t_1} = z ~ N(0, I),
 * whose VE variance 1/ᾱ = σ² + 1 ≈ σ_1² is the prior of Song et al.'s VE SDE. The output is the
 * final x̃ (data scale), without an extra denoising step, as in Algorithm 1.
 */
import type { NoiseSchedule, TensorOps } from '@levelskip/core';
import { epsilonTerms, linearCombinationWithNoise, type Term } from '../linear-combination.js';
import type { NoiseDraw, Sampler, SamplerRun } from '../sampler.js';
import { alphaCumprodAt, checkInteger, checkNoiseSchedule, checkOptionKeys, checkPositive, checkSpacing } from '../sampler-options.js';
import { inferenceTimesteps, type TimestepSpacing } from '../timesteps.js';

export interface AnnealedLangevinOptions {
  /** L, the number of noise levels, in [1, T]. Default 10 (the paper's). */
  readonly noiseLevels?: number;
  /** T of Algorithm 1: Langevin steps (model evaluations) per level. Default 100 (the paper's). */
  readonly stepsPerLevel?: number;
  /** ε of Algorithm 1: the step size at the last level, α_L = ε. Default 2e-5 (the paper's, for σ_L = 0.01). */
  readonly stepSize?: number;
  /** How the levels' timesteps are spread; default `'linspace'` (from T - 1 down to 0). */
  readonly timestepSpacing?: TimestepSpacing;
  /** Default 0. */
  readonly stepsOffset?: number;
  /** The schedule the model was trained with; default DDPM's linear schedule (T = 1000). */
  readonly noiseSchedule?: NoiseSchedule;
}

const NAME = 'annealedLangevin';
const KEYS = ['noiseLevels', 'stepsPerLevel', 'stepSize', 'timestepSpacing', 'stepsOffset', 'noiseSchedule'];

/** One noise level of the annealing. */
export interface LangevinLevel {
  /** The diffusion timestep t standing for the level. */
  readonly timestep: number;
  /** √ᾱ_t: x_t = √ᾱ_t x̃ is what the model sees. */
  readonly inputScale: number;
  /** σ_t = √((1 - ᾱ_t)/ᾱ_t), the VE noise level. */
  readonly sigma: number;
  /** α_i = ε σ_i²/σ_L². */
  readonly stepSize: number;
}

/** The levels of Algorithm 1 for diffusion timesteps `levelTimesteps` (largest first) and step size ε. */
export function langevinLevels(schedule: NoiseSchedule, levelTimesteps: readonly number[], stepSize: number): readonly LangevinLevel[] {
  const sigmaOf = (t: number): number => {
    const alphaBar = alphaCumprodAt(schedule, t);
    return Math.sqrt((1 - alphaBar) / alphaBar);
  };
  const sigmaLast = sigmaOf(levelTimesteps[levelTimesteps.length - 1] as number);
  return levelTimesteps.map((timestep) => {
    const sigma = sigmaOf(timestep);
    return { timestep, inputScale: Math.sqrt(alphaCumprodAt(schedule, timestep)), sigma, stepSize: (stepSize * sigma * sigma) / (sigmaLast * sigmaLast) };
  });
}

/**
 * Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) driven by an ε-predicting model
 * through the VP → VE correspondence of the file comment.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when one is out of range or unknown.
 *
 * @example
 * ```ts
 * const sampler = annealedLangevin({ noiseLevels: 10, stepsPerLevel: 100, stepSize: 2e-5 });
 * ```
 */
export function annealedLangevin(options: AnnealedLangevinOptions = {}): Sampler {
  checkOptionKeys(NAME, options, KEYS);
  const noiseSchedule = checkNoiseSchedule(NAME, options.noiseSchedule);
  const T = noiseSchedule.trainTimesteps;
  const noiseLevels = checkInteger(NAME, 'noiseLevels', options.noiseLevels ?? 10, 1, T);
  const stepsPerLevel = checkInteger(NAME, 'stepsPerLevel', options.stepsPerLevel ?? 100, 1, 1_000_000);
  const stepSize = checkPositive(NAME, 'stepSize', options.stepSize ?? 2e-5);
  const timestepSpacing = checkSpacing(NAME, options.timestepSpacing ?? 'linspace');
  const stepsOffset = checkInteger(NAME, 'stepsOffset', options.stepsOffset ?? 0, 0);
  const levelTimesteps = inferenceTimesteps({ trainTimesteps: T, steps: noiseLevels, timestepSpacing, stepsOffset });
  const levels = langevinLevels(noiseSchedule, levelTimesteps, stepSize);
  const timesteps = Object.freeze(levelTimesteps.flatMap((t) => new Array<number>(stepsPerLevel).fill(t)));
  const levelOf = (step: number): LangevinLevel => levels[Math.floor(step / stepsPerLevel)] as LangevinLevel;

  return Object.freeze({
    kind: 'annealed-langevin',
    description: `annealedLangevin(noiseLevels=${noiseLevels}, stepsPerLevel=${stepsPerLevel}, stepSize=${stepSize}, spacing=${timestepSpacing})`,
    noiseSchedule,
    timesteps,
    createRun<T>(ops: TensorOps<T>): SamplerRun<T> {
      return {
        // x_{t_1} = z, so x̃ = z/√ᾱ_{t_1}.
        initialSample: (z) => ops.scale(z, 1 / (levels[0] as LangevinLevel).inputScale),
        modelInputScale: (step) => levelOf(step).inputScale,
        async step(x: T, eps: T, index: number, noise: NoiseDraw<T>, epsilon?: readonly Term<T>[]): Promise<T> {
          const { sigma, stepSize: alpha } = levelOf(index);
          // x̃ + (α/2)·s_θ + √α·z with s_θ = -ε̂/σ.
          const terms: Term<T>[] = [
            [1, x],
            ...epsilonTerms(-alpha / (2 * sigma), eps, epsilon),
          ];
          return linearCombinationWithNoise(ops, terms, Math.sqrt(alpha), noise);
        },
        dispose() {},
      };
    },
  });
}
