/**
 * Choosing and starting the TensorFlow.js engine in a browser (or a web worker): `webgpu`
 * (`@tensorflow/tfjs-backend-webgpu`, an optional peer imported only when tried, so a browser
 * without WebGPU never downloads it), `webgl` (registered by the `@tensorflow/tfjs` umbrella),
 * `wasm` (`@tensorflow/tfjs-backend-wasm`; binaries located by `wasmPaths`; threaded in a
 * cross-origin-isolated page) or `cpu` (plain JavaScript). `auto` tries them in that order.
 * `node-gpu` and `node` are native Node addons and fail at once with the reason.
 *
 * The packages are imported with literal `import()` so an application's bundler sees them and
 * splits them into chunks of their own; this file must import no Node built-in.
 */
import * as tf from '@tensorflow/tfjs';
import {
  browserEngineOrder,
  type EngineCandidates,
  type EngineOptions,
  type LoadedEngine,
  type TfjsEngine,
  type TfjsEngineChoice,
  type WasmBinaryName,
} from './engines.js';
import { EngineStartError, messageOf, resolveEngine, unsupportedCandidate } from './resolve-engine.js';
import { createWasmCandidate, isWasmBinary } from './wasm-engine.js';

/** Engines in the order `auto` tries them in a browser. */
export const engineOrder: readonly TfjsEngine[] = browserEngineOrder;

/** An import failure, said as what to do: in a browser it means the bundler did not include the package. */
async function importPackage(packageName: string, importer: () => Promise<unknown>): Promise<unknown> {
  try {
    return await importer();
  } catch (error) {
    throw new EngineStartError(
      `${packageName} could not be imported (${messageOf(error).split('\n')[0]}); install it (\`npm install ${packageName}@${tf.version.tfjs}\`) so your bundler includes it`,
      { cause: error },
    );
  }
}

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** The page's WebGPU entry point, if any (no DOM types here: the package compiles against ES2023). */
function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/** Why this page cannot run the threaded wasm binary, or `undefined` when it can. */
async function threadsUnavailable(): Promise<string | undefined> {
  const page = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (page.crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated (crossOriginIsolated is false); serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
  }
  if (typeof page.SharedArrayBuffer !== 'function') return 'this browser has no SharedArrayBuffer';
  if ((await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) !== true) return "this browser lacks WebAssembly SIMD, which tfjs's threaded binary needs";
  if ((await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) !== true) return 'tfjs-backend-wasm finds no WebAssembly thread support in this browser';
  return undefined;
}

/**
 * Without `wasmPaths`, tfjs-backend-wasm (Emscripten) resolves the binary against the location
 * of the page (of the worker, in a worker), not of the script, as measured in Chromium.
 */
function defaultLocation(name: WasmBinaryName): { readonly description: string; readonly url: string | undefined } {
  const href = (globalThis as { location?: { href?: string } }).location?.href;
  if (href === undefined) return { description: "relative to the page (tfjs's default without wasmPaths)", url: undefined };
  const url = new URL(name, href).href;
  return { description: `relative to the page, at ${url} (tfjs's default without wasmPaths)`, url };
}

/**
 * Whether the threaded binary would run a single thread anyway: tfjs-backend-wasm 4.22 caps
 * XNNPACK's threads at half of `navigator.hardwareConcurrency` (and at 8; src/cc/backend.cc), so
 * with fewer than 4 logical cores the single-threaded binary does the same work without starting
 * the threaded build's 8 pthread workers (measured in Chromium: 80 ms to start instead of 380).
 */
function threadsWouldNotHelp(): boolean {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.floor(cores / 2) <= 1;
}

/**
 * Fetches a `.wasm` URL to tell why tfjs could not load it: an HTTP error, a blocked fetch, or a
 * page served in its place (a single-page app's fallback answers unknown paths with index.html).
 */
export async function probeWasmUrl(location: string): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(location);
  } catch (error) {
    return (
      `fetching it failed (${messageOf(error)}): check the URL; from another origin the server must send CORS headers ` +
      '(and Cross-Origin-Resource-Policy when the page is cross-origin isolated)'
    );
  }
  if (!response.ok) return `the server answered ${response.status} ${response.statusText}`.trimEnd();
  const head = new Uint8Array(await response.arrayBuffer()).subarray(0, 4);
  if (!isWasmBinary(head)) {
    return `the server answered with ${response.headers.get('content-type') ?? 'a response'} that is not WebAssembly (a page served for unknown paths?)`;
  }
  return undefined;
}

const inNodeOnly = (packageName: string, what: string): string =>
  `runs only in Node.js: ${packageName} is a native addon (${what}); in a browser use webgpu, webgl, wasm or cpu`;

/** The engines as a browser starts them. */
export const engineCandidates: EngineCandidates = {
  webgpu: {
    packageName: '@tensorflow/tfjs-backend-webgpu',
    tfBackend: 'webgpu',
    async load() {
      // Checked before importing, so a browser without WebGPU neither downloads the package nor
      // gets tfjs's vaguer errors (the package registers no backend when navigator.gpu is missing).
      const gpu = navigatorGpu();
      if (gpu === undefined) {
        throw new EngineStartError(
          'this browser exposes no WebGPU: navigator.gpu is undefined (WebGPU needs a secure context, https:// or http://localhost, and a browser with WebGPU enabled)',
        );
      }
      if ((await gpu.requestAdapter()) === null) {
        throw new EngineStartError('navigator.gpu.requestAdapter() found no GPU adapter (no usable GPU, or the browser blocks WebGPU on it)');
      }
      await importPackage('@tensorflow/tfjs-backend-webgpu', () => import('@tensorflow/tfjs-backend-webgpu'));
    },
  },
  webgl: {
    packageName: '@tensorflow/tfjs-backend-webgl',
    tfBackend: 'webgl',
    async load() {
      // The @tensorflow/tfjs umbrella registers webgl as it loads, where it sees a page or a worker.
      if (tf.findBackendFactory('webgl') === null) {
        throw new EngineStartError('@tensorflow/tfjs registered no webgl backend: it does so only in a page or a web worker (window.document or WorkerGlobalScope)');
      }
    },
  },
  'node-gpu': unsupportedCandidate('@tensorflow/tfjs-node-gpu', 'tensorflow', inNodeOnly('@tensorflow/tfjs-node-gpu', 'libtensorflow with CUDA')),
  node: unsupportedCandidate('@tensorflow/tfjs-node', 'tensorflow', inNodeOnly('@tensorflow/tfjs-node', 'libtensorflow')),
  wasm: createWasmCandidate({
    scope: 'page',
    importModule: () => importPackage('@tensorflow/tfjs-backend-wasm', () => import('@tensorflow/tfjs-backend-wasm')),
    // No default: where a bundler puts the binaries is the application's business (wasmPaths).
    defaultPaths: () => undefined,
    defaultLocation,
    defaultSingleThreaded: threadsWouldNotHelp,
    threadsUnavailable,
    probeBinary: probeWasmUrl,
  }),
  cpu: { packageName: '@tensorflow/tfjs-backend-cpu', tfBackend: 'cpu', load: async () => undefined, threads: () => 1 },
};

/**
 * Starts the requested engine in a browser, or with `auto` the first of webgpu, webgl, wasm, cpu
 * that starts, and makes it tfjs's active backend.
 *
 * @param options `wasmPaths` (where the `.wasm` files are served) and `wasmThreads`.
 * @param candidates How each engine starts (tests substitute failing ones).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming every candidate tried and its real cause
 *   (`node`/`node-gpu` say they need Node.js); `INVALID_OPTION` for an unknown engine name or a
 *   bad option.
 */
export function selectEngine(choice: TfjsEngineChoice = 'auto', options: EngineOptions = {}, candidates: EngineCandidates = engineCandidates): Promise<LoadedEngine> {
  return resolveEngine('selectEngine', choice, options, { name: 'a browser', order: engineOrder, candidates });
}

export { ensureEngine } from './resolve-engine.js';
