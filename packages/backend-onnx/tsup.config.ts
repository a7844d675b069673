import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the Node.js build (default runtime onnxruntime-node, exportOnnx); browser: the build the
  // `browser` export condition picks (default runtime onnxruntime-web, no Node.js built-ins).
  entry: { index: 'src/index.ts', browser: 'src/browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // ES2022 runs in Node.js 20 and in every browser with WebAssembly threads or WebGPU.
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
});
