/**
 * What both builds export: the environment-neutral parts (the backend's types, engine names,
 * tensor ops, model blocks and parameter layouts). `index.ts` (Node) and `browser.ts` add their
 * own `createTfjsBackend` and engine selection.
 */
export { liveTensorCount, type TfjsBackend, type TfjsBackendOptions } from './backend/tfjs-backend.js';
/** The tensor type of this backend's ops, denoisers and fills (`CustomFill<TfjsTensor>`): tfjs's `Tensor`. */
export type { Tensor as TfjsTensor } from '@tensorflow/tfjs';
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
