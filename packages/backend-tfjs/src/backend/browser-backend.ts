/**
 * `createTfjsBackend` of the browser build: engines webgpu, webgl, wasm and cpu.
 */
import { selectEngine } from '../engine/select-browser-engine.js';
import { createTfjsBackendWith, type TfjsBackend, type TfjsBackendOptions } from './tfjs-backend.js';

/**
 * Creates a TensorFlow.js backend in a browser (or a web worker). Async because starting an
 * engine is (a GPU device, or downloading and compiling the wasm binary).
 *
 * @param options `engine` (default `auto`: the first of `webgpu`, `webgl`, `wasm`, `cpu` that
 *   starts), `wasmPaths` (where the page serves tfjs-backend-wasm's `.wasm` files; without it tfjs
 *   looks relative to the page) and `wasmThreads` (more than 1 needs a cross-origin-isolated page).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the requested engine (or, with `auto`, every
 *   engine) cannot start; the message lists each candidate and its real cause (`node` and
 *   `node-gpu` say they need Node.js). `INVALID_OPTION` for an unknown option, engine name or bad value.
 *
 * @example
 * const backend = await createTfjsBackend({ wasmPaths: '/tfjs-wasm/' }); // webgpu, webgl, wasm or cpu
 * console.log(backend.engine, backend.threads);
 */
export function createTfjsBackend(options: TfjsBackendOptions = {}): Promise<TfjsBackend> {
  return createTfjsBackendWith({ select: selectEngine, training: false }, options);
}
