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
    ],
  },
  test: {
    name: 'backend-onnx',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
