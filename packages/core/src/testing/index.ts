/**
 * `@levelskip/core/testing`: the float64 reference backend, tiny fixture models and the backend
 * conformance suite (`checkBackendConformance`, which needs no test runner: it runs in a script or
 * a browser page). Its vitest binding, `runBackendConformance`, is `@levelskip/core/testing/vitest`.
 */
export * from './reference/index.js';
export * from './fixtures.js';
export * from './conformance/index.js';
export * from './errors.js';
