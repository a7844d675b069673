/**
 * Choosing and starting the TensorFlow.js engine in Node.js: `node-gpu` (libtensorflow with
 * CUDA), `node` (libtensorflow on the CPU), `wasm` (XNNPACK with SIMD, binaries from the
 * installed package) or `cpu` (plain JavaScript). `auto` tries them in that order and takes the
 * first that starts; when none does, the error lists why each candidate failed. `webgpu` and
 * `webgl` need a browser and fail at once with the reason.
 *
 * Node-only (node:module, node:fs): the browser build uses select-browser-engine.ts instead.
 * Training imports `selectEngine`, `ensureEngine` and `engineOrder` from this file.
 */
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  nodeEngineOrder,
  type EngineCandidates,
  type EngineOptions,
  type LoadedEngine,
  type TfjsEngine,
  type TfjsEngineChoice,
} from './engines.js';
import { messageOf, resolveEngine, unsupportedCandidate } from './resolve-engine.js';
import { createWasmCandidate, isWasmBinary } from './wasm-engine.js';

export { ensureEngine } from './resolve-engine.js';
export type { EngineCandidate, EngineCandidates, EngineOptions, LoadedEngine, TfjsEngine, TfjsEngineChoice, WasmPaths } from './engines.js';

/** Engines in the order `auto` tries them in Node.js. */
export const engineOrder: readonly TfjsEngine[] = nodeEngineOrder;

/**
 * `import()` of a specifier known only at run time, so bundlers neither resolve nor inline
 * optional packages (tfjs-node, tfjs-node-gpu) that may not be installed.
 */
function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

/**
 * A `require` anchored at this module, in both builds: the CJS build has `__filename`; the ESM
 * build has `import.meta.url` (never evaluated in the CJS build). `typeof require` would not do:
 * bundlers shim `require` in ESM output. Resolving from this package (not the working directory)
 * finds our own dependency even under strict layouts such as pnpm's.
 */
function moduleRequire(): NodeJS.Require {
  return createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
}

/** Directory (with trailing slash) holding the installed tfjs-backend-wasm's `.wasm` binaries (Node only). */
export function wasmBinaryDirectory(): string {
  const manifest = moduleRequire().resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return manifest.replace(/package\.json$/, 'dist/');
}

/** Reads the first bytes of a binary on disk: missing, unreadable or not WebAssembly. */
async function probeBinaryFile(path: string): Promise<string | undefined> {
  try {
    const file = await open(path, 'r');
    try {
      const head = new Uint8Array(4);
      await file.read(head, 0, 4, 0);
      return isWasmBinary(head) ? undefined : 'the file is not WebAssembly';
    } finally {
      await file.close();
    }
  } catch (error) {
    return messageOf(error);
  }
}

const inBrowserOnly = (what: string): string =>
  `runs only in a browser (${what}); this is the Node.js build of @levelskip/backend-tfjs (bundlers pick the browser build by the "browser" export condition); in Node.js use node-gpu, node, wasm or cpu`;

/** The engines as Node.js starts them. */
export const engineCandidates: EngineCandidates = {
  webgpu: unsupportedCandidate('@tensorflow/tfjs-backend-webgpu', 'webgpu', inBrowserOnly('it needs navigator.gpu')),
  webgl: unsupportedCandidate('@tensorflow/tfjs-backend-webgl', 'webgl', inBrowserOnly('it needs a WebGL canvas')),
  'node-gpu': {
    packageName: '@tensorflow/tfjs-node-gpu',
    tfBackend: 'tensorflow',
    load: async () => {
      await importOptional('@tensorflow/tfjs-node-gpu');
    },
  },
  node: {
    packageName: '@tensorflow/tfjs-node',
    tfBackend: 'tensorflow',
    load: async () => {
      await importOptional('@tensorflow/tfjs-node');
    },
  },
  wasm: createWasmCandidate({
    scope: 'process',
    importModule: () => importOptional('@tensorflow/tfjs-backend-wasm'),
    defaultPaths: wasmBinaryDirectory,
    defaultLocation: () => ({ description: 'in the installed package', url: undefined }),
    // The threaded build cannot start in Node (its pthread workers load from a blob: URL, which
    // Node's Worker rejects), so tfjs is told to take the single-threaded SIMD binary.
    defaultSingleThreaded: () => true,
    threadsUnavailable: () =>
      Promise.resolve(
        "Node.js runs the wasm engine single-threaded (tfjs's threaded binary starts its workers from blob: URLs, which Node rejects); use the node engine, or @levelskip/train-tfjs's train({ workers }) for data-parallel training",
      ),
    probeBinary: probeBinaryFile,
  }),
  // The cpu engine ships with the @tensorflow/tfjs umbrella package, already imported.
  cpu: { packageName: '@tensorflow/tfjs-backend-cpu', tfBackend: 'cpu', load: async () => undefined, threads: () => 1 },
};

/**
 * Starts the requested engine in Node.js, or with `auto` the first of node-gpu, node, wasm, cpu
 * that starts, and makes it tfjs's active backend.
 *
 * @param options `wasmPaths` (default: the installed package's dist/) and `wasmThreads` (only 1 in Node).
 * @param candidates How each engine starts (tests substitute failing ones).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming every candidate tried and its real cause
 *   (`webgpu`/`webgl` say they need a browser); `INVALID_OPTION` for an unknown engine name or a
 *   bad option.
 */
export function selectEngine(choice: TfjsEngineChoice = 'auto', options: EngineOptions = {}, candidates: EngineCandidates = engineCandidates): Promise<LoadedEngine> {
  return resolveEngine('selectEngine', choice, options, { name: 'Node.js', order: engineOrder, candidates });
}
