import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'example-custom-schedule',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
  },
});
