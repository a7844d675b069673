import { defineProject } from 'vitest/config';

// Tests of the repository's own lint rules (eslint/), run through ESLint's Node API with eslint.config.js.
export default defineProject({
  test: {
    name: 'lint',
    include: ['*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
