/**
 * @levelskip/backend-onnx: level-skipping diffusion U-Nets compiled to ONNX graphs (one fused
 * graph per depth k) and run in onnxruntime-node on CUDA, WebGPU or CPU.
 */
export { createOnnxBackend, type OnnxBackend, type OnnxBackendOptions } from './backend/onnx-backend.js';
export { createOnnxDenoiser, type OnnxDenoiser, type OnnxDenoiserContext, type PrepareOptions } from './backend/onnx-denoiser.js';
export {
  executionProviders,
  selectExecutionProvider,
  type ExecutionProvider,
  type GraphOptimizationLevel,
  type ProviderFailure,
} from './backend/execution-providers.js';
export { createOnnxTensorOps, liveTensorCount, type OnnxTensor } from './ops/onnx-tensor-ops.js';
export { avgPoolHost, resizeHost } from './ops/host-kernels.js';
export { GraphBuilder, float, floats, onnxIrVersion, onnxOpset, type AttributeValue, type Dimension, type ElementType } from './graph/graph-builder.js';
export { UNetParts, type FeatureValue } from './graph/unet-parts.js';
export {
  buildUNetGraph,
  fillShape,
  graphKey,
  skipStackShapes,
  type GraphFill,
  type GraphValue,
  type GraphVariant,
  type UNetGraph,
} from './graph/unet-graphs.js';
export { exportOnnx, type ExportOnnxOptions, type OnnxExportManifest, type ExportedGraph } from './export/export-onnx.js';
