import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'example-feature-caching',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
  },
});
