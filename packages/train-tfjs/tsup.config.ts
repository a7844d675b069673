import { defineConfig } from 'tsup';

export default defineConfig({
  // Node.js only (training starts worker_threads and writes checkpoints with fs). The training
  // worker is an entry of its own: train({ workers }) starts it as a worker thread from
  // dist/training-worker.js (ESM) or .cjs (CommonJS), beside the running build
  // (src/parallel/training-workers.ts).
  entry: { index: 'src/index.ts', 'training-worker': 'src/parallel/training-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  // No `shims`: training-workers.ts finds its own location with `__filename` in CommonJS and
  // `import.meta.url` in ESM itself; that pattern leaves `import.meta.url` in an unevaluated
  // branch of the CommonJS output, where esbuild warns that import.meta is empty there.
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});
