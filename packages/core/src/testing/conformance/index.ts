/**
 * The backend conformance suite (see `suite.ts`).
 */
export {
  failedChecks,
  skippedChecks,
  formatConformanceReport,
  type ConformanceCheck,
  type ConformanceFeatures,
  type ConformanceOptions,
  type ConformanceReport,
} from './report.js';
export { checkBackendConformance } from './suite.js';
export { smoothedDuplicateFill } from './context.js';
