/**
 * @levelskip/train-tfjs: skip-aware training of level-skipping diffusion U-Nets on TensorFlow.js
 * in Node.js (Giladi et al.'s uniform and schedule-aware schemes, full-depth training and
 * distillation), with Adam, warm-up, clipping, an EMA of the weights, exact resume from
 * checkpoints and data-parallel worker threads. The model it trains is @levelskip/backend-tfjs's
 * U-Net (the same blocks that serve inference), on the engine backend-tfjs selects.
 *
 * Node.js only: training starts worker_threads and writes checkpoints with fs.
 */
export { train, type TrainResult, type TrainStats } from './train/train.js';
export { liveTrainingWorkerCount } from './parallel/training-workers.js';
export { planTraining, trainingLimits, type TeacherOptions, type TrainNotice, type TrainOptions, type TrainProgress, type TrainingPlan } from './train/train-options.js';
export { estimateTrainingMemory, type TrainingMemoryEstimate } from './train/training-memory.js';
export {
  createTimestepSampler,
  timestepsByDepth,
  trainingSchemes,
  type DepthAndTimesteps,
  type TimestepSampler,
  type TimestepSamplerOptions,
  type TrainingScheme,
} from './schemes/timestep-sampler.js';
export type { DataPosition, InMemoryDataset, TrainingBatch, TrainingData } from './data/batch-source.js';
export { adamUpdate, clipByGlobalNorm, createAdamSlot, defaultAdamOptions, type AdamOptions, type AdamSlot } from './optimizer/adam.js';
export { emaDecay, emaUpdate } from './optimizer/ema.js';
export { defaultFeatureParameters, timestepFeatureParameters, timestepGradientFeatures, type FeatureParameters, type TimestepFeatureOptions } from './features/timestep-features.js';
export { warmupLearningRate } from './optimizer/learning-rate.js';
export { checkpointDirectoryName, listTrainingCheckpoints, readTrainingCheckpoint } from './checkpoints/training-checkpoints.js';
