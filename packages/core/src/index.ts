/**
 * @levelskip/core: the backend-neutral core of levelskip. This entry runs in browsers and Node
 * alike (no Node built-ins); `index-node.ts` adds checkpoint directories on disk.
 */
export * from './errors/levelskip-error.js';
export type { Either } from './errors/either.js';
export * from './spec/unet-spec.js';
export * from './spec/presets.js';
export * from './spec/activation-memory.js';
export * from './geometry/architecture.js';
export * from './geometry/parameter-layout.js';
export * from './geometry/flops.js';
export * from './geometry/level-geometry.js';
export * from './geometry/predicted-time-saved.js';
export * from './backend/tensor-ops.js';
export * from './backend/denoiser.js';
export * from './backend/backend.js';
export * from './backend/denoiser-inputs.js';
export * from './backend/prepare-denoiser.js';
export * from './fills/fill-strategy.js';
export * from './fills/feature-cache.js';
export * from './fills/deep-cache.js';
export * from './schedules/skip-schedule.js';
export * from './schedules/power-schedule.js';
export * from './schedules/constant-schedule.js';
export * from './schedules/stage-schedule.js';
export * from './schedules/custom-schedule.js';
export * from './schedules/schedule-from-json.js';
export * from './stages/cluster-timesteps.js';
export * from './noise/noise-schedule.js';
export * from './random/philox.js';
export * from './random/seeded-rng.js';
export * from './composition/predict-arguments.js';
export * from './composition/level-skipping-unet.js';
export * from './resize/resize-taps.js';
export * from './checkpoint/safetensors.js';
export { parseStrictJson, StrictJsonError, type StrictJsonOptions } from './checkpoint/strict-json.js';
export * from './checkpoint/checkpoint-format.js';
export * from './checkpoint/fetch-checkpoint.js';
export * from './checkpoint/validate-weights.js';
export * from './weights/random-weights.js';
