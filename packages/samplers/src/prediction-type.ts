/**
 * What the model predicts (🤗 diffusers' `prediction_type`), and the one place where its output is
 * turned into the ε prediction every sampler in this package is written for.
 *
 * With x_t = √ᾱ_t x₀ + √(1 - ᾱ_t) ε (ᾱ_t the model's timestep's cumulative α):
 *
 *   'epsilon'       the model outputs ε̂ (Ho et al. 2020): ε̂ as is.
 *   'v_prediction'  the model outputs v̂, v = √ᾱ_t ε - √(1 - ᾱ_t) x₀ (Salimans & Ho, "Progressive
 *                   Distillation for Fast Sampling of Diffusion Models", ICLR 2022, §4; Imagen
 *                   Video §2.4):  x̂₀ = √ᾱ_t x_t - √(1 - ᾱ_t) v̂,   ε̂ = √(1 - ᾱ_t) x_t + √ᾱ_t v̂.
 *   'sample'        the model outputs x̂₀:  ε̂ = (x_t - √ᾱ_t x̂₀)/√(1 - ᾱ_t).
 *
 * These are diffusers' conversions (v0.31.0, src/diffusers/schedulers/scheduling_ddim.py,
 * `DDIMScheduler.step`, lines 412-420; the DDPM and DPM-Solver schedulers repeat them). Every
 * sampler here (DDPM, DDIM, annealed Langevin, DPM-Solver++) is a function of ε̂ and x_t alone,
 * and x̂₀ = (x_t - √(1 - ᾱ_t) ε̂)/√ᾱ_t is the same affine map for all three types, so converting
 * to ε̂ once, before the sampler's update, gives each sampler every prediction type. Annealed
 * Langevin included: its score s_θ = -ε̂/σ_t comes from ε̂ at the model's input x_t = √ᾱ_t x̃.
 */
import { LevelskipError, predictionTypeOf, predictionTypes, type PredictionType, type SpecPrediction, type TensorOps } from '@levelskip/core';
import { linearCombination } from './linear-combination.js';

// What the model outputs, in diffusers' spelling: core's `PredictionType`, re-exported for this package's users.
export { predictionTypes, type PredictionType };

/**
 * The affine maps from (x_t, model output m) to the predictions at one timestep:
 * ε̂ = epsFromX·x_t + epsFromOutput·m and x̂₀ = x0FromX·x_t + x0FromOutput·m.
 */
export interface PredictionCoefficients {
  readonly epsFromX: number;
  readonly epsFromOutput: number;
  readonly x0FromX: number;
  readonly x0FromOutput: number;
}

/**
 * The coefficients of the file comment for `prediction` at cumulative α `alphaBar` ∈ (0, 1).
 * Computed in float64.
 */
export function predictionCoefficients(prediction: PredictionType, alphaBar: number): PredictionCoefficients {
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  switch (prediction) {
    case 'epsilon':
      return { epsFromX: 0, epsFromOutput: 1, x0FromX: 1 / a, x0FromOutput: -s / a };
    case 'v_prediction':
      return { epsFromX: s, epsFromOutput: a, x0FromX: a, x0FromOutput: -s };
    case 'sample':
      return { epsFromX: 1 / s, epsFromOutput: -a / s, x0FromX: 0, x0FromOutput: 1 };
  }
}

/** diffusers' `prediction_type` of a spec's `prediction` (`eps`, `v`, `sample`): core's `predictionTypeOf`. */
export function predictionTypeOfSpec(prediction: SpecPrediction): PredictionType {
  return predictionTypeOf(prediction);
}

/**
 * Checks the `prediction` option; absent, it is what the model's spec says it outputs
 * (`spec.prediction`, default ε).
 *
 * @throws LevelskipError `INVALID_OPTION` naming `prediction`, the allowed values and the value given.
 */
export function checkPrediction(value: unknown, fromSpec: SpecPrediction = 'eps'): PredictionType {
  if (value === undefined) return predictionTypeOfSpec(fromSpec);
  if (typeof value === 'string' && (predictionTypes as readonly string[]).includes(value)) return value as PredictionType;
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const message =
    `must be one of ${predictionTypes.map((p) => `'${p}'`).join(', ')} (what the model outputs: ε, v or x₀; ` +
    `diffusers' scheduler_config.json "prediction_type"), got ${shown}`;
  return failPrediction(message);
}

function failPrediction(message: string): never {
  throw new LevelskipError('INVALID_OPTION', `sample: prediction ${message}`, { issues: [{ path: ['prediction'], message }] });
}

/**
 * Checks that `prediction` can be converted at every timestep of a run: 'sample' divides by
 * √(1 - ᾱ_t), so a schedule with ᾱ_t = 1 at a sampled timestep cannot serve an x₀-predicting model.
 *
 * @throws LevelskipError `INVALID_OPTION` naming `prediction` and the timestep.
 */
export function checkPredictionSchedule(prediction: PredictionType, alphasCumprod: Float64Array, timesteps: readonly number[]): void {
  if (prediction !== 'sample') return;
  for (const t of timesteps) {
    const alphaBar = alphasCumprod[t] as number;
    if (!(alphaBar < 1)) {
      failPrediction(
        `'sample' needs ᾱ_t < 1 at every sampled timestep (ε̂ = (x_t - √ᾱ_t x̂₀)/√(1 - ᾱ_t)), but the noise schedule has ᾱ_${t} = ${alphaBar}; ` +
          'use a schedule whose betas are all > 0',
      );
    }
  }
}

/**
 * The ε prediction from the model's `output` at input `xt` (what the model saw) and cumulative α
 * `alphaBar`. For 'epsilon' this is `output` itself (no copy); otherwise a new tensor, and
 * neither input is disposed.
 */
export function epsilonFromModelOutput<T>(ops: TensorOps<T>, prediction: PredictionType, output: T, xt: T, alphaBar: number): T {
  if (prediction === 'epsilon') return output;
  const c = predictionCoefficients(prediction, alphaBar);
  return linearCombination(ops, [
    [c.epsFromX, xt],
    [c.epsFromOutput, output],
  ]);
}
