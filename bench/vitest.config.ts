import { defineProject } from 'vitest/config';

// The benchmarks' pure parts (flags, configurations, chart geometry, report rendering). No timing is asserted.
export default defineProject({
  test: {
    name: 'bench',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
