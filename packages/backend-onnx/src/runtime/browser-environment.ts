/**
 * The browser entry's environment: onnxruntime-web by default, and the CPU count from
 * `navigator.hardwareConcurrency`. No Node built-in is imported here, so web bundlers need no
 * polyfills or aliases.
 */
import { loadOnnxRuntime, type RuntimeEnvironment } from './onnx-runtime.js';

export const browserEnvironment: RuntimeEnvironment = {
  loadDefaultRuntime: () =>
    loadOnnxRuntime(
      'onnxruntime-web',
      () => import('onnxruntime-web'),
      'Install it next to @levelskip/backend-onnx: npm i onnxruntime-web (your bundler must also serve its .wasm files; see its README).',
    ),
  hardwareConcurrency: () => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 0,
};
