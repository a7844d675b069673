/**
 * @levelskip/backend-onnx for Node.js (the package's `import`/`require` build, and `./node`):
 * level-skipping diffusion U-Nets compiled to ONNX graphs (one fused graph per depth k), run on an
 * injected ONNX Runtime — onnxruntime-node (CPU, CUDA, WebGPU) unless another is given — plus
 * `exportOnnx`, which writes graphs to disk. Browser bundles get `browser.ts` instead.
 */
import { createOnnxBackendIn, type OnnxBackend, type OnnxBackendOptions } from './backend/onnx-backend.js';
import { nodeEnvironment } from './runtime/node-environment.js';

export * from './shared-entry.js';
export { exportOnnx } from './export/export-onnx.js';

/**
 * Creates an ONNX Runtime backend, trying `options.executionProviders` (default `['cpu']`) in order.
 * The runtime is `options.ort` if given (e.g. `import * as ort from 'onnxruntime-web'`), else
 * `onnxruntime-node`, imported on first use.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when onnxruntime-node is not installed (the message
 *   says how to install it; the import error is the `cause`), when `options.ort` is not an ONNX
 *   Runtime module, or when no provider starts (each provider's failure listed); `INVALID_OPTION`
 *   for malformed options.
 *
 * @example
 * const backend = await createOnnxBackend({ executionProviders: ['cuda', 'cpu'] });
 * const denoiser = await backend.createDenoiser(spec, weights);
 */
export function createOnnxBackend(options?: OnnxBackendOptions): Promise<OnnxBackend> {
  return createOnnxBackendIn(nodeEnvironment, options);
}
