import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library (grids, model resolution, progress, commands); cli: what bin/levelskip.js runs.
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
});
