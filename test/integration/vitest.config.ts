import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// Cross-backend tests: the only place where both backends, or a backend and the samplers, meet
// (backend packages may not import each other or the samplers: eslint's levelskip/backends-stand-alone).
// Like the packages' own tests they run against the sibling sources, so they need no prior build.
const source = (path: string): string => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url));

export default defineProject({
  resolve: {
    alias: [
      { find: /^@levelskip\/core\/testing\/vitest$/, replacement: source('core/src/testing/vitest.ts') },
      { find: /^@levelskip\/core\/testing$/, replacement: source('core/src/testing/index.ts') },
      { find: /^@levelskip\/core$/, replacement: source('core/src/index-node.ts') },
      { find: /^@levelskip\/samplers$/, replacement: source('samplers/src/index.ts') },
      { find: /^@levelskip\/backend-tfjs$/, replacement: source('backend-tfjs/src/index.ts') },
      { find: /^@levelskip\/backend-onnx$/, replacement: source('backend-onnx/src/index.ts') },
      // backend-tfjs's deprecated loadMnist re-export reaches it.
      { find: /^@levelskip\/datasets$/, replacement: source('datasets/src/index.ts') },
    ],
  },
  test: {
    name: 'integration',
    include: ['*.test.ts'],
    setupFiles: [source('backend-tfjs/test/setup/quiet-tfjs.ts')],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
