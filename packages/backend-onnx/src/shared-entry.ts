/**
 * What both entry points export: everything but `createOnnxBackend` (each entry binds its own
 * default runtime) and `exportOnnx` (Node.js only: it writes files).
 */
export type { OnnxBackend, OnnxBackendOptions, OnnxLogLevel } from './backend/onnx-backend.js';
export { createOnnxDenoiser, type OnnxDenoiser, type OnnxDenoiserContext, type OnnxPrepareOptions } from './backend/onnx-denoiser.js';
export {
  executionProviders,
  webExecutionProviders,
  resolveExecutionProviders,
  selectExecutionProvider,
  type ExecutionProvider,
  type GraphOptimizationLevel,
  type ProviderFailure,
} from './backend/execution-providers.js';
export { asOnnxRuntime, onnxRuntimeName, type OnnxRuntime, type OnnxRuntimeName } from './runtime/onnx-runtime.js';
export { createOnnxTensorOps, liveTensorCount, type OnnxTensor } from './ops/onnx-tensor-ops.js';
export { avgPoolHost, resizeHost } from './ops/host-kernels.js';
export { GraphBuilder, float, floats, onnxIrVersion, onnxOpset, type AttributeValue, type Dimension, type ElementType } from './graph/graph-builder.js';
export { encodeModel, type ModelMessage } from './graph/onnx-model-encoder.js';
export { UNetParts, type FeatureValue } from './graph/unet-parts.js';
export { fillEmitters, type FillEmitter, type FillSite } from './graph/fill-emitters.js';
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
export {
  defaultExportFills,
  exportOnnxFiles,
  type ExportFill,
  type ExportOnnxOptions,
  type ExportedGraph,
  type OnnxExportFile,
  type OnnxExportManifest,
} from './export/onnx-export-files.js';
