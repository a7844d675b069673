import { defineConfig } from 'tsup';

export default defineConfig({
  // The training worker is an entry of its own: train({ workers }) starts it as a worker thread
  // from dist/training-worker.js (ESM) or .cjs (CommonJS), beside the running build.
  entry: { index: 'src/index.ts', 'training-worker': 'src/training/training-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  shims: true,
});
