/**
 * Core's backend conformance suite on the cpu engine (plain JavaScript kernels).
 */
import { runBackendConformance } from '@levelskip/core/testing/vitest';
import { createTfjsBackend, liveTensorCount } from '../../src/index.js';

runBackendConformance('tfjs-cpu', () => createTfjsBackend({ engine: 'cpu' }), { liveTensors: liveTensorCount });
