import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const sibling = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

export default defineProject({
  resolve: {
    // Unit tests run against sibling sources, so they need no prior build. (Integration tests spawn
    // bin/levelskip.js, which runs the built dist/ of this package and its siblings.)
    alias: [
      { find: /^@levelskip\/core\/testing$/, replacement: sibling('core/src/testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: sibling('core/src/index-node.ts') },
      { find: /^@levelskip\/samplers$/, replacement: sibling('samplers/src/index.ts') },
      { find: /^@levelskip\/datasets$/, replacement: sibling('datasets/src/index.ts') },
      { find: /^@levelskip\/backend-tfjs$/, replacement: sibling('backend-tfjs/src/index.ts') },
      { find: /^@levelskip\/train-tfjs$/, replacement: sibling('train-tfjs/src/index.ts') },
      { find: /^@levelskip\/backend-onnx$/, replacement: sibling('backend-onnx/src/index.ts') },
      { find: /^@levelskip\/pretrained$/, replacement: sibling('pretrained/src/index.ts') },
      { find: /^@levelskip\/metrics$/, replacement: sibling('metrics/src/index.ts') },
    ],
  },
  test: {
    name: 'cli',
    include: ['test/**/*.test.ts'],
    // tfjs's banner and warnings stay out of the test log: in-process runs with --engine cpu would
    // print "Hi, looks like you are running TensorFlow.js in Node.js". backend-tfjs's own setup
    // file does it (only backend packages may import tfjs; the same tfjs module instance is shared).
    setupFiles: [sibling('backend-tfjs/test/setup/quiet-tfjs.ts')],
    testTimeout: 120_000,
    // Integration tests spawn the CLI; one file at a time keeps the CPU load modest.
    fileParallelism: false,
    hookTimeout: 120_000,
  },
});
