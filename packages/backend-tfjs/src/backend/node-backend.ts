/**
 * `createTfjsBackend` of the Node.js build: engines node-gpu, node, wasm and cpu.
 */
import { selectEngine } from '../engine/select-engine.js';
import { createTfjsBackendWith, type TfjsBackend, type TfjsBackendOptions } from './tfjs-backend.js';

/**
 * Creates a TensorFlow.js backend in Node.js. Async because starting an engine is (loading
 * libtensorflow or the wasm binary).
 *
 * @param options `engine` (default `auto`: the first of `node-gpu`, `node`, `wasm`, `cpu` that
 *   starts), `wasmPaths` (default: the installed `@tensorflow/tfjs-backend-wasm/dist/`) and
 *   `wasmThreads` (only 1 in Node.js: tfjs's threaded wasm binary cannot start there).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the requested engine (or, with `auto`, every
 *   engine) cannot start; the message lists each candidate and its real cause (`webgpu` and `webgl`
 *   say they need a browser). `INVALID_OPTION` for an unknown option, engine name or bad value.
 *
 * @example
 * const backend = await createTfjsBackend({ engine: 'wasm' });
 * const denoiser = await backend.createDenoiser(spec, weights);
 */
export function createTfjsBackend(options: TfjsBackendOptions = {}): Promise<TfjsBackend> {
  return createTfjsBackendWith({ select: selectEngine, training: true }, options);
}
