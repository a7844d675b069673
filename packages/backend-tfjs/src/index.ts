/**
 * @levelskip/backend-tfjs, Node.js build: level-skipping diffusion U-Nets on TensorFlow.js
 * (engines tfjs-node-gpu, tfjs-node, wasm or cpu). Training moved to @levelskip/train-tfjs (which
 * depends on this package, so nothing of it can be re-exported here). The MNIST loader moved to
 * @levelskip/datasets; `loadMnist` is re-exported here, deprecated, for one release.
 *
 * Bundlers targeting browsers get browser.ts instead (the "browser" export condition): the same
 * API without MNIST and wasmBinaryDirectory, with the webgpu, webgl, wasm and cpu engines.
 */
export { createTfjsBackend } from './backend/node-backend.js';
export { engineOrder, ensureEngine, selectEngine, wasmBinaryDirectory } from './engine/select-engine.js';
export * from './shared-exports.js';
// Deprecated: moved to @levelskip/datasets; re-exported for one release.
export { loadMnist, mnistTestPerDigit, type MnistDataset, type MnistOptions } from './data/mnist.js';
