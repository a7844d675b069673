import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// Parity with the real 🤗 diffusers code: fixtures written by scripts/dev/diffusers-fixtures.py
// (diffusers v0.31.0, torch), loaded by levelskip and run on both backends. Like bench/, this
// folder is not a package, so the workspace packages are imported from their built dist/ (what
// their `exports` maps point at; `pnpm build` first). @levelskip/core resolves through the root's
// own dependency on it, to the same dist/ the other packages import.
const built = (path: string): string => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url));

export default defineProject({
  resolve: {
    alias: [
      { find: /^@levelskip\/samplers$/, replacement: built('samplers/dist/index.js') },
      { find: /^@levelskip\/backend-onnx$/, replacement: built('backend-onnx/dist/index.js') },
      { find: /^@levelskip\/backend-tfjs$/, replacement: built('backend-tfjs/dist/index.js') },
    ],
  },
  test: {
    name: 'diffusers',
    include: ['*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
