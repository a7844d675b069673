import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the Node.js build. browser: the browser build (package.json's "browser" export
  // condition), which reaches no Node built-in.
  entry: { index: 'src/index.ts', browser: 'src/browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // Syntax both Node 20 and current browsers run.
  target: ['node20', 'es2022'],
  tsconfig: 'tsconfig.build.json',
  // No `shims`: they inject `fileURLToPath(import.meta.url)` (node:url) into the ESM output, which
  // breaks the browser build at import. The code that needs its own location (select-engine.ts)
  // uses `__filename` in CommonJS and `import.meta.url` in ESM itself.
  esbuildOptions(options) {
    // That pattern leaves `import.meta.url` in an unevaluated branch of the CommonJS output, where
    // esbuild warns that import.meta is empty there.
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});
