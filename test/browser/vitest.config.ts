import { defineProject } from 'vitest/config';

// Browser checks: the packages bundled as a web app would bundle them, and the demo page driven in
// headless Chromium. They run on the built packages (dist/), like an app that installed them.
export default defineProject({
  test: {
    name: 'browser',
    include: ['**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
