/**
 * The tfjs engines levelskip knows, the order `auto` tries them in each environment, and the
 * shapes shared by the Node (select-engine.ts) and browser (select-browser-engine.ts) engine
 * selection. Environment-neutral: no Node built-in and no DOM global is touched here.
 */

/** Every engine name, in either environment. */
export const tfjsEngines = ['webgpu', 'webgl', 'node-gpu', 'node', 'wasm', 'cpu'] as const;

/**
 * A tfjs engine (tfjs "backend"): `webgpu` and `webgl` (GPU, browser), `node-gpu` and `node`
 * (libtensorflow, Node.js), `wasm` (XNNPACK, both), `cpu` (plain JavaScript, both).
 */
export type TfjsEngine = (typeof tfjsEngines)[number];

/** An engine, or `auto`: the first engine of this environment's order that starts. */
export type TfjsEngineChoice = TfjsEngine | 'auto';

/** The order `auto` tries engines in Node.js: native GPU, native CPU, then WebAssembly and plain JS. */
export const nodeEngineOrder: readonly TfjsEngine[] = Object.freeze(['node-gpu', 'node', 'wasm', 'cpu']);

/** The order `auto` tries engines in a browser: fastest first. */
export const browserEngineOrder: readonly TfjsEngine[] = Object.freeze(['webgpu', 'webgl', 'wasm', 'cpu']);

/** The three binaries of `@tensorflow/tfjs-backend-wasm`; tfjs picks one by the browser's SIMD and thread support. */
export const wasmBinaryNames = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
export type WasmBinaryName = (typeof wasmBinaryNames)[number];

/**
 * Where the wasm engine finds its binaries (tfjs's `setWasmPaths`): a directory prefix ending in
 * `/` (a URL in a browser, a path in Node) that holds all three files, or one location per file.
 */
export type WasmPaths = string | Readonly<Record<WasmBinaryName, string>>;

/** Options of engine start-up (the engine-specific part of `createTfjsBackend`'s options). */
export interface EngineOptions {
  /**
   * Where the `.wasm` binaries are, passed to tfjs's `setWasmPaths` before the wasm engine starts.
   * Default: in Node, the installed `@tensorflow/tfjs-backend-wasm/dist/`; in a browser, tfjs's own
   * default (the file name resolved against the page's URL), so a bundled page usually needs this,
   * e.g. `'/assets/tfjs-wasm/'` where the app copies the package's `dist/*.wasm`, or a CDN URL of
   * the same version.
   */
  readonly wasmPaths?: WasmPaths;
  /**
   * Threads of the wasm engine (tfjs's `setThreadsCount`). `1` takes the single-threaded binary.
   * More takes tfjs's threaded binary, which only a cross-origin-isolated page can start (response
   * headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
   * require-corp`); elsewhere the engine fails with that reason. tfjs-backend-wasm caps the count
   * at half of `navigator.hardwareConcurrency` and at 8, so read `backend.threads` for the count in
   * use. Node.js runs wasm single-threaded and accepts only 1.
   * Default: in a cross-origin-isolated page with at least 4 logical cores, the threaded binary with
   * tfjs's default count (half the logical cores, at most 8); otherwise the single-threaded binary.
   */
  readonly wasmThreads?: number;
}

/** A started engine. */
export interface LoadedEngine {
  readonly engine: TfjsEngine;
  /** The name tfjs registers it under (`tf.getBackend()`): `webgpu`, `webgl`, `tensorflow`, `wasm` or `cpu`. */
  readonly tfBackend: string;
  /**
   * CPU threads the engine computes on: for wasm the thread count XNNPACK runs with
   * (`tf.wasm.getThreadsCount()`; 1 for the single-threaded binary), for cpu 1; `undefined` for
   * the GPU engines and libtensorflow, which manage their own parallelism.
   */
  readonly threads: number | undefined;
}

/** How to start one engine in one environment (exported for tests of the resolution logic). */
export interface EngineCandidate {
  /** The npm package that provides the engine. */
  readonly packageName: string;
  readonly tfBackend: string;
  /**
   * Set when the engine cannot run in this environment at all (e.g. `node-gpu` in a browser):
   * why, and what to use instead. `load` is then never called.
   */
  readonly unsupported?: string;
  /** Imports and registers the engine and prepares it for `tf.setBackend`; throws when it cannot. */
  readonly load: (options: EngineOptions) => Promise<void>;
  /** The engine's thread count once started (see `LoadedEngine.threads`). */
  readonly threads?: () => number | undefined;
  /**
   * Called when tfjs failed to initialise the registered backend, to find a cause tfjs reports
   * only vaguely (wasm: "Make sure the server can serve the `.wasm` file"); returns a sentence.
   */
  readonly diagnose?: (options: EngineOptions) => Promise<string | undefined>;
}

/** One candidate per engine name: what an environment can start, and why it cannot start the rest. */
export type EngineCandidates = Readonly<Record<TfjsEngine, EngineCandidate>>;
