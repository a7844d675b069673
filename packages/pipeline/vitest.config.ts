import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const sibling = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

export default defineProject({
  resolve: {
    // Test against sibling sources, so tests need no prior build. The pipeline imports the
    // backends at run time by package name; these aliases serve those imports too.
    alias: [
      { find: /^@levelskip\/core\/testing$/, replacement: sibling('core/src/testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: sibling('core/src/index-node.ts') },
      { find: /^@levelskip\/samplers$/, replacement: sibling('samplers/src/index.ts') },
      { find: /^@levelskip\/datasets$/, replacement: sibling('datasets/src/index.ts') },
      { find: /^@levelskip\/pretrained$/, replacement: sibling('pretrained/src/index.ts') },
      { find: /^@levelskip\/backend-onnx$/, replacement: sibling('backend-onnx/src/index.ts') },
      { find: /^@levelskip\/backend-tfjs$/, replacement: sibling('backend-tfjs/src/index.ts') },
      { find: /^@levelskip\/pipeline$/, replacement: sibling('pipeline/src/index.ts') },
    ],
  },
  test: {
    name: 'pipeline',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The files start ONNX Runtime and tfjs sessions: one file at a time keeps 2 cores responsive.
    fileParallelism: false,
  },
});
