import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two test files at a time even on 2 cores (vitest's default there is one): many files wait on
    // child processes, kill loops, a browser or I/O, so a second file fills the idle core. Measured on
    // the 2-core CI machine, 2026-12-07: the suite took 834 s against 1,066 s with one worker.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: ['packages/*', 'examples/*/vitest.config.ts', 'bench/vitest.config.ts', 'test/browser/vitest.config.ts', 'test/packed/vitest.config.ts', 'test/lint/vitest.config.ts', 'test/integration/vitest.config.ts', 'test/diffusers/vitest.config.ts'],
  },
});
