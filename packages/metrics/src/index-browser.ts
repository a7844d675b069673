/**
 * @levelskip/metrics in browsers: FD-LeNet and the recognisable rate, with the classifier built
 * from the bytes of `weights/lenet.safetensors` (`lenetFromSafetensors`); the Node entry also reads
 * the shipped classifier and the MNIST reference digits from disk.
 */
export { createFdLenetReference } from './fd-lenet/fd-lenet.js';
export * from './shared-exports.js';
