/**
 * The conformance suite run on the float64 reference backend itself: this exercises the suite's
 * plumbing (every check must pass against the implementation it compares with), and, through a
 * live-tensor-tracking wrapper, that the suite disposes every tensor it creates.
 */
import { createReferenceBackend, type ReferenceTensor } from '../../src/testing/reference/index.js';
import { runBackendConformance } from '../../src/testing/vitest.js';
import { trackedReferenceBackend } from './wrapped-backends.js';

runBackendConformance('reference', () => createReferenceBackend());

const live = new Set<ReferenceTensor>();
runBackendConformance('reference with a live-tensor count', () => trackedReferenceBackend(live), {
  liveTensors: () => live.size,
  batch: 3,
  specs: ['sidePaths'],
});
