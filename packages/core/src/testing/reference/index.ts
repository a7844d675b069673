/**
 * The float64 reference implementation of the level-skipping U-Net: plain-loop kernels, the
 * reference `TensorOps`, blocks and backend. It is the oracle other backends are tested against.
 */
export { referenceTensor, referenceFromHost, type ReferenceTensor } from './reference-tensor.js';
export { conv2dReference, type Conv2dOptions, type Conv2dPadding } from './conv2d.js';
export { groupNormReference } from './group-norm.js';
export { linearReference } from './linear.js';
export { siluReference } from './activation.js';
export { softmaxAttentionReference } from './attention.js';
export { timestepEmbeddingReference, type TimestepEmbeddingOptions } from './time-embedding.js';
export {
  resizeReference,
  bicubicResizeReference,
  bilinearResizeReference,
  nearestUpsample2xReference,
} from './resize.js';
export { avgPoolReference } from './avg-pool.js';
export { referenceOps } from './reference-ops.js';
export { createReferenceBlocks } from './reference-blocks.js';
export { createReferenceBackend } from './reference-backend.js';
