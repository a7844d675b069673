/**
 * @levelskip/backend-tfjs, Node.js build: level-skipping diffusion U-Nets on TensorFlow.js
 * (engines tfjs-node-gpu, tfjs-node, wasm or cpu) and skip-aware training. The MNIST loader moved
 * to @levelskip/datasets; `loadMnist` is re-exported here, deprecated, for one release.
 *
 * Bundlers targeting browsers get browser.ts instead (the "browser" export condition): the same
 * API without training and MNIST, with the webgpu, webgl, wasm and cpu engines.
 */
export { createTfjsBackend } from './backend/node-backend.js';
export { engineOrder, ensureEngine, selectEngine, wasmBinaryDirectory } from './engine/select-engine.js';
export * from './shared-exports.js';
export { train, type TrainResult, type TrainStats } from './training/train.js';
export { liveTrainingWorkerCount } from './training/training-workers.js';
export { planTraining, trainingLimits, type TeacherOptions, type TrainNotice, type TrainOptions, type TrainProgress, type TrainingPlan } from './training/train-options.js';
export { estimateTrainingMemory, type TrainingMemoryEstimate } from './training/training-memory.js';
export {
  createTimestepSampler,
  timestepsByDepth,
  trainingSchemes,
  type DepthAndTimesteps,
  type TimestepSampler,
  type TimestepSamplerOptions,
  type TrainingScheme,
} from './training/timestep-sampler.js';
export type { DataPosition, InMemoryDataset, TrainingBatch, TrainingData } from './training/batch-source.js';
export { adamUpdate, clipByGlobalNorm, createAdamSlot, defaultAdamOptions, type AdamOptions, type AdamSlot } from './training/adam.js';
export { emaDecay, emaUpdate } from './training/ema.js';
export { defaultFeatureParameters, timestepFeatureParameters, timestepGradientFeatures, type FeatureParameters, type TimestepFeatureOptions } from './training/timestep-features.js';
export { warmupLearningRate } from './training/learning-rate.js';
export { checkpointDirectoryName, listTrainingCheckpoints, readTrainingCheckpoint } from './training/training-checkpoints.js';
// Deprecated: moved to @levelskip/datasets; re-exported for one release.
export { loadMnist, mnistTestPerDigit, type MnistDataset, type MnistOptions } from './data/mnist.js';
