/**
 * @levelskip/backend-onnx for browsers (the package's `browser` export condition): the same API as
 * the Node.js build, with onnxruntime-web as the default runtime and no `exportOnnx` (use
 * `exportOnnxFiles`, which returns bytes). Nothing reachable from here imports a Node.js built-in.
 */
import { createOnnxBackendIn, type OnnxBackend, type OnnxBackendOptions } from './backend/onnx-backend.js';
import { browserEnvironment } from './runtime/browser-environment.js';

export * from './shared-entry.js';

/**
 * Creates an ONNX Runtime backend, trying `options.executionProviders` (default `['wasm']`) in
 * order, e.g. `['webgpu', 'wasm']`. The runtime is `options.ort` if given, else `onnxruntime-web`,
 * imported on first use (a separate chunk in most bundlers).
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when onnxruntime-web cannot be loaded (the import
 *   error is the `cause`), when `options.ort` is not an ONNX Runtime module, or when no provider
 *   starts (each provider's failure listed); `INVALID_OPTION` for malformed options.
 *
 * @example
 * import * as ort from 'onnxruntime-web';
 * const backend = await createOnnxBackend({ ort, executionProviders: ['webgpu', 'wasm'] });
 */
export function createOnnxBackend(options?: OnnxBackendOptions): Promise<OnnxBackend> {
  return createOnnxBackendIn(browserEnvironment, options);
}
