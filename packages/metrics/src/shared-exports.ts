/**
 * What both builds of @levelskip/metrics export: the classifier from bytes, FD-LeNet and the
 * recognisable rate. `index.ts` (Node) adds the shipped classifier and MNIST read from disk.
 */
export { createLenet, lenetFromSafetensors, lenetWeightsFileName, type Lenet } from './lenet/lenet.js';
export {
  lenetClasses,
  lenetFeatureDim,
  lenetImageSize,
  lenetInputChannels,
  lenetKernelSize,
  lenetTensorShapes,
} from './lenet/lenet-architecture.js';
export { lenetImageValues } from './lenet/image-batch.js';
export { maxClassProbabilities, recognisableRate } from './lenet/recognisable.js';
export { featureStatistics, type FeatureStatistics } from './frechet/feature-statistics.js';
export { frechetDistance } from './frechet/frechet-distance.js';
export {
  createFdLenetReferenceWith,
  fdLenet,
  fdLenetFloor,
  fdLenetFloorMaxBlocks,
  type CreateFdLenetReferenceOptions,
  type FdLenetOptions,
  type FdLenetReference,
  type FdLenetFloor,
  type FdLenetResult,
  type ImageSet,
} from './fd-lenet/fd-lenet.js';
