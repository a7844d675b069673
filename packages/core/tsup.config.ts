import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'index-node': 'src/index-node.ts', 'testing/index': 'src/testing/index.ts', 'testing/vitest': 'src/testing/vitest.ts', 'testing/faults/index': 'src/testing/faults/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
  external: ['vitest', 'esbuild'],
});
