import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const core = (path: string): string => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url));
const datasets = fileURLToPath(new URL('../datasets/src/index.ts', import.meta.url));

export default defineProject({
  resolve: {
    // Test against sibling sources, so tests need no prior build. @levelskip/datasets' loadMnist is
    // also the canonical test split the shipped classifier's accuracy is measured on.
    alias: [
      { find: /^@levelskip\/core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: core('index-node.ts') },
      { find: /^@levelskip\/datasets$/, replacement: datasets },
    ],
  },
  test: {
    name: 'metrics',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
