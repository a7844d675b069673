import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // Browsers too: nothing here imports a Node built-in (the mnist package is imported by name).
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
});
