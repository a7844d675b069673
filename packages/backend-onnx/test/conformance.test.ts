import { runBackendConformance } from '@levelskip/core/testing/vitest';
import { createOnnxBackend, liveTensorCount } from '../src/index.js';

runBackendConformance('onnx-cpu', () => createOnnxBackend({ executionProviders: ['cpu'] }), {
  liveTensors: liveTensorCount,
});
