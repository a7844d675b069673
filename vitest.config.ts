import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*/vitest.config.ts', 'bench/vitest.config.ts', 'test/browser/vitest.config.ts', 'test/packed/vitest.config.ts', 'test/lint/vitest.config.ts', 'test/integration/vitest.config.ts', 'test/diffusers/vitest.config.ts'],
  },
});
