/**
 * @levelskip/backend-tfjs, browser build (the "browser" export condition): level-skipping
 * diffusion U-Nets on TensorFlow.js with the webgpu, webgl, wasm and cpu engines.
 *
 * The Node.js build's API without what needs Node: `loadMnist` (reads the `mnist` package's files)
 * and `wasmBinaryDirectory`. (Training, which needs worker_threads and fs, is
 * @levelskip/train-tfjs, a Node.js package of its own.) Nothing reachable from here imports a Node built-in
 * (scripts/browser-bundle.mjs at the repository root checks it).
 */
export { createTfjsBackend } from './backend/browser-backend.js';
export { engineOrder, ensureEngine, selectEngine } from './engine/select-browser-engine.js';
export * from './shared-exports.js';
