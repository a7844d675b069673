/**
 * The Node.js entry's environment: onnxruntime-node by default, and the CPU count from `node:os`.
 * Only `src/index.ts` (the package's `import`/`require` build) reaches this file; browser bundles
 * get `browser-environment.ts` instead.
 */
import { availableParallelism } from 'node:os';
import { loadOnnxRuntime, type RuntimeEnvironment } from './onnx-runtime.js';

export const nodeEnvironment: RuntimeEnvironment = {
  loadDefaultRuntime: () =>
    loadOnnxRuntime(
      'onnxruntime-node',
      () => import('onnxruntime-node'),
      'Install it next to @levelskip/backend-onnx: npm i onnxruntime-node (where its install script cannot download, e.g. offline: ' +
        'ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node; the CPU provider needs no download).',
    ),
  hardwareConcurrency: availableParallelism,
};
