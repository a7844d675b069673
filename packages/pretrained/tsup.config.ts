import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'index-browser': 'src/index-browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  // import.meta.url in the CJS build (the package finds its models/ directory from it).
  shims: true,
});
