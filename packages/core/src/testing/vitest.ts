/**
 * `@levelskip/core/testing/vitest`: the conformance suite as vitest tests
 * (`runBackendConformance`). Kept out of `@levelskip/core/testing` so that the reference backend,
 * the fixtures and `checkBackendConformance` load without vitest (in a browser page, in a script).
 */
export { runBackendConformance } from './conformance/vitest-suite.js';
