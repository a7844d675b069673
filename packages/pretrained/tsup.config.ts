import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'index-browser': 'src/index-browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: ['node20', 'es2022'],
  tsconfig: 'tsconfig.build.json',
  // No `shims`: they put `fileURLToPath(import.meta.url)` (node:url) into chunks the browser
  // entry shares. The code that finds this package's own files uses `__filename` in CommonJS and
  // `import.meta.url` in ESM itself, which leaves an unevaluated import.meta in the CJS output.
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});
