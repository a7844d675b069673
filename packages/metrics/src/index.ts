/**
 * @levelskip/metrics: FD-LeNet, the Fréchet distance between generated and real MNIST digits in
 * the feature space of a small LeNet classifier trained by levelskip (not Inception FID), with
 * the real-vs-real floor at the same sample size.
 */
export * from './shared-exports.js';
export { createFdLenetReference } from './fd-lenet/fd-lenet-node.js';
export { lenetWeightsDirectory, loadLenet, type LoadLenetOptions } from './lenet/lenet-files.js';
export { loadMnistReference, loadMnistReferenceImages, type LabelledImageSet, type MnistReferenceImages } from './fd-lenet/mnist-reference.js';
