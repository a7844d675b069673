/**
 * @levelskip/samplers: DDPM, DDIM, annealed Langevin and DPM-Solver++ for level-skipping U-Nets,
 * and the `sample()` loop (progress events, seeds, cancellation). Depends only on
 * `@levelskip/core`, so every sampler runs on every backend, skip schedule and fill.
 */
export { sample, type SampleOptions, type SampleProgress, type SampleResult } from './sample.js';
export type { NoiseDraw, Sampler, SamplerRun } from './sampler.js';
export {
  dpmSolverTimesteps,
  inferenceTimesteps,
  timestepSpacings,
  type TimestepOptions,
  type TimestepSpacing,
} from './timesteps.js';
export { ddpm, ddpmCoefficients, varianceTypes, type DdpmCoefficients, type DdpmOptions, type VarianceType } from './samplers/ddpm.js';
export { ddim, ddimCoefficients, type DdimCoefficients, type DdimOptions } from './samplers/ddim.js';
export {
  annealedLangevin,
  langevinLevels,
  type AnnealedLangevinOptions,
  type LangevinLevel,
} from './samplers/annealed-langevin.js';
export {
  dpmSolverPlusPlus,
  dpmSolverSteps,
  finalSigmasTypes,
  type DpmSolverPlusPlusOptions,
  type DpmSolverStep,
  type FinalSigmasType,
} from './samplers/dpm-solver-plus-plus.js';
export {
  checkPrediction,
  epsilonFromModelOutput,
  predictionCoefficients,
  predictionTypes,
  predictionTypeOfSpec,
  type PredictionCoefficients,
  type PredictionType,
} from './prediction-type.js';
export { linearCombination, linearCombinationWithNoise, type Term } from './linear-combination.js';
export { measurePropagation, type MeasurePropagationOptions } from './calibration/measure-propagation.js';
