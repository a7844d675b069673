/**
 * `@levelskip/core/testing`: the float64 reference backend, tiny fixture models and the backend
 * conformance suite. Test-only: the conformance suite imports vitest.
 */
export * from './reference/index.js';
export * from './fixtures.js';
export * from './conformance/index.js';
