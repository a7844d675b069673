/**
 * @levelskip/metrics: FD-LeNet, the Fréchet distance between generated and real MNIST digits in
 * the feature space of a small LeNet classifier trained by levelskip (not Inception FID), with
 * the real-vs-real floor at the same sample size.
 */
export { createLenet, loadLenet, lenetWeightsDirectory, type Lenet, type LoadLenetOptions } from './lenet/lenet.js';
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
  createFdLenetReference,
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
export { loadMnistReference, loadMnistReferenceImages, type LabelledImageSet, type MnistReferenceImages } from './fd-lenet/mnist-reference.js';
