import { defineConfig } from 'tsup';

export default defineConfig({
  // index: Node (directories, file: URLs); index-browser: the `browser` export condition (no Node built-in).
  entry: { index: 'src/index.ts', 'index-browser': 'src/index-browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: ['node20', 'es2022'],
  tsconfig: 'tsconfig.build.json',
});
