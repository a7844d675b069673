/**
 * @levelskip/backend-tfjs, browser build (the "browser" export condition): level-skipping
 * diffusion U-Nets on TensorFlow.js with the webgpu, webgl, wasm and cpu engines.
 *
 * The Node.js build's API without what needs Node: training (`train` and its helpers start
 * worker_threads and write checkpoints with fs), `loadMnist` (reads the `mnist` package's files)
 * and `wasmBinaryDirectory`. Nothing reachable from here imports a Node built-in
 * (scripts/browser-bundle.mjs at the repository root checks it).
 */
export { createTfjsBackend } from './backend/browser-backend.js';
export { liveTensorCount, type TfjsBackend, type TfjsBackendOptions } from './backend/tfjs-backend.js';
export {
  browserEngineOrder,
  nodeEngineOrder,
  tfjsEngines,
  wasmBinaryNames,
  type EngineCandidate,
  type EngineOptions,
  type LoadedEngine,
  type TfjsEngine,
  type TfjsEngineChoice,
  type WasmBinaryName,
  type WasmPaths,
} from './engine/engines.js';
export { engineOrder, ensureEngine, selectEngine } from './engine/select-browser-engine.js';
export { createTfjsTensorOps } from './ops/tfjs-tensor-ops.js';
export { bicubicMatrix, resizeBicubic } from './ops/bicubic.js';
export { nchwToNhwc, nhwcToNchw } from './ops/layout.js';
export { createTfjsBlocks, type TfjsBlockOptions } from './model/unet-blocks.js';
export { createLayers, groupNormalize, type ConvOptions, type ConvPadding, type LayerOptions, type Layers } from './model/layers.js';
export {
  exportParameters,
  fromTfjsLayout,
  loadParameters,
  toTfjsLayout,
  type ParameterSource,
} from './model/parameters.js';
export { sinusoidalEmbedding, type SinusoidalEmbeddingOptions } from './model/time-embedding.js';
