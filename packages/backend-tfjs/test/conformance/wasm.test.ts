/**
 * Core's backend conformance suite on the wasm engine: tensor ops, predictions on every fixture
 * spec at every depth and fill, errors, determinism and leaks, against the float64 reference.
 */
import { runBackendConformance } from '@levelskip/core/testing/vitest';
import { createTfjsBackend, liveTensorCount } from '../../src/index.js';

runBackendConformance('tfjs-wasm', () => createTfjsBackend({ engine: 'wasm' }), { liveTensors: liveTensorCount });
