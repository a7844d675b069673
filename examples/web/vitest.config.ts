import { defineProject } from 'vitest/config';

// The demo page in headless Chromium (Debian's chromium, driven by puppeteer-core), against the
// built packages. One file: the browser and the page are started once for every check.
export default defineProject({
  test: {
    name: 'example-web',
    include: ['test/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
