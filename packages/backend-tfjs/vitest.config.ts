import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const core = (path: string): string => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url));

export default defineProject({
  resolve: {
    // Test against sibling sources, so tests need no prior build.
    alias: [
      { find: /^@levelskip\/core\/testing\/vitest$/, replacement: core('testing/vitest.ts') },
      { find: /^@levelskip\/core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: core('index-node.ts') },
      { find: /^@levelskip\/datasets$/, replacement: fileURLToPath(new URL('../datasets/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    name: 'backend-tfjs',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/quiet-tfjs.ts'],
    testTimeout: 120_000,
  },
});
