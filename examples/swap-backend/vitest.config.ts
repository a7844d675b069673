import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'example-swap-backend',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
  },
});
