import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineProject({
  resolve: {
    // README examples import the package by name; test them against the sources.
    alias: [
      { find: /^@levelskip\/core\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: src('index-node.ts') },
    ],
  },
  test: {
    name: 'core',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
