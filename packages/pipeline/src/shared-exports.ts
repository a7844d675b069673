/** What the Node and browser entries both export. */
export {
  type CreatePipelineOptions,
  type GenerateOptions,
  type GenerateResult,
  type GenerateSettings,
  type Pipeline,
  type PipelineProgress,
} from './pipeline/create-pipeline.js';
export { type ModelSourceKind, type PipelineModel, type PipelineModelInfo } from './pipeline/model-source.js';
export { backendNames, backendPackages, type BackendName } from './pipeline/backend-source.js';
export { samplerNames, type SamplerName, type SamplingChoices, type SamplingSettings, type SettingOrigin } from './pipeline/sampling-settings.js';
export { imageBatch, toByte, type ImageBatch, type ImageDataLike, type ImageDataType, type ImageGridOptions } from './images/image-batch.js';
export { encodePng, type EncodePngOptions, type PixelImage } from './images/png-encoder.js';
export { crc32 } from './images/crc32.js';
