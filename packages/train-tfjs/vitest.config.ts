import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const sibling = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

export default defineProject({
  resolve: {
    // Test against sibling sources, so tests need no prior build. (A worker thread cannot use
    // these aliases: test/helpers/source-worker.ts bundles the worker script with the same ones.)
    alias: [
      { find: /^@levelskip\/core\/testing\/vitest$/, replacement: sibling('core/src/testing/vitest.ts') },
      { find: /^@levelskip\/core\/testing$/, replacement: sibling('core/src/testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: sibling('core/src/index-node.ts') },
      { find: /^@levelskip\/datasets$/, replacement: sibling('datasets/src/index.ts') },
      { find: /^@levelskip\/backend-tfjs$/, replacement: sibling('backend-tfjs/src/index.ts') },
    ],
  },
  test: {
    name: 'train-tfjs',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/quiet-tfjs.ts'],
    testTimeout: 120_000,
  },
});
