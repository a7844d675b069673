/**
 * The wasm engine (`@tensorflow/tfjs-backend-wasm`: XNNPACK with SIMD, threaded where the page
 * allows), shared by Node and browsers. What differs by environment is injected: how the package
 * is imported (a literal `import()` a bundler can see, or a run-time one in Node), where the
 * binaries are by default, whether threads can run, and how to look at a binary that failed to load.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../gradients/register-wasm-gradients.js';
import type { EngineCandidate, EngineOptions, WasmBinaryName, WasmPaths } from './engines.js';
import { EngineStartError, isInitialized, messageOf } from './resolve-engine.js';

/** What the wasm engine needs from its environment. */
export interface WasmEnvironment {
  /** For messages: `page` or `process`. */
  readonly scope: string;
  /** Imports `@tensorflow/tfjs-backend-wasm` (which registers the `wasm` tfjs backend). */
  readonly importModule: () => Promise<unknown>;
  /** Where the binaries are when `wasmPaths` is not given; `undefined` leaves tfjs's default. */
  readonly defaultPaths: () => WasmPaths | undefined;
  /** Where tfjs looks for `name` when no paths are set at all, for messages and the probe. */
  readonly defaultLocation: (name: WasmBinaryName) => { readonly description: string; readonly url: string | undefined };
  /**
   * Whether to take the single-threaded binary when `wasmThreads` is not given: always in Node
   * (the threaded one cannot start there); in a browser where threads would not help.
   */
  readonly defaultSingleThreaded: () => boolean;
  /** Why more than one thread cannot run here, or `undefined` when it can. */
  readonly threadsUnavailable: () => Promise<string | undefined>;
  /** What is wrong with the binary at `location` (missing, not WebAssembly…), or `undefined` if nothing is seen. */
  readonly probeBinary: (location: string) => Promise<string | undefined>;
}

interface WasmModule {
  setWasmPaths(prefixOrFileMap: WasmPaths, usePlatformFetch?: boolean): void;
  setThreadsCount(numThreads: number): void;
  getThreadsCount(): number;
}

/** The package's functions, whether imported as ESM (named exports) or as CommonJS through `default`. */
function wasmExports(imported: unknown): WasmModule {
  const named = imported as Partial<WasmModule> & { default?: Partial<WasmModule> };
  const candidate = typeof named.setWasmPaths === 'function' ? named : named.default;
  if (typeof candidate?.setWasmPaths !== 'function' || typeof candidate.setThreadsCount !== 'function' || typeof candidate.getThreadsCount !== 'function') {
    throw new Error(`the package does not export setWasmPaths, setThreadsCount and getThreadsCount (is it version ${tf.version.tfjs}?)`);
  }
  return candidate as WasmModule;
}

/** True when `bytes` start with WebAssembly's magic number `\0asm`. */
export function isWasmBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

/** The binary tfjs-backend-wasm picks, from the same flags it reads at start-up. */
async function chosenBinary(): Promise<WasmBinaryName> {
  const [simd, threads] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  if (simd === true && threads === true) return 'tfjs-backend-wasm-threaded-simd.wasm';
  return simd === true ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
}

/** The wasm engine in one environment. */
export function createWasmCandidate(environment: WasmEnvironment): EngineCandidate {
  let module: WasmModule | undefined;
  return {
    packageName: '@tensorflow/tfjs-backend-wasm',
    tfBackend: 'wasm',
    async load(options: EngineOptions) {
      const wasm = wasmExports(await environment.importModule());
      module = wasm;
      // Training on wasm needs kernels tfjs-backend-wasm lacks (Conv2DBackpropFilter) or runs slowly;
      // registering is idempotent and cheap, so it happens on every load, before wasm initialises.
      registerWasmTrainingKernels(tf);
      const requested = options.wasmThreads;
      if (isInitialized('wasm')) {
        // Started earlier (by another backend or by the application, perhaps with its own paths):
        // the paths no longer matter, but the thread count is fixed for the life of the module.
        const running = wasm.getThreadsCount();
        if (requested !== undefined && requested !== running) {
          throw new EngineStartError(
            `wasmThreads is ${requested}, but the wasm engine already runs in this ${environment.scope} with ${running} thread(s), and tfjs-backend-wasm starts only once; pass wasmThreads: ${running} or leave it out`,
          );
        }
        return;
      }
      if (requested !== undefined && requested > 1) {
        const why = await environment.threadsUnavailable();
        if (why !== undefined) {
          throw new EngineStartError(`wasmThreads: ${requested} cannot run here: ${why}; pass wasmThreads: 1, or leave it out, to run single-threaded`);
        }
      }
      // tfjs decides between the single- and multi-threaded binary by this flag.
      if (requested === 1 || (requested === undefined && environment.defaultSingleThreaded())) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (requested !== undefined) wasm.setThreadsCount(requested);
      const paths = options.wasmPaths ?? environment.defaultPaths();
      if (paths === undefined) return;
      try {
        wasm.setWasmPaths(paths);
      } catch (error) {
        // tfjs-backend-wasm refuses new paths once a start has failed (module-global state).
        throw new EngineStartError(
          `an earlier start of the wasm engine failed in this ${environment.scope}, and tfjs-backend-wasm accepts no new wasmPaths after that (${messageOf(error)}); fix the cause of the first failure, then reload`,
          { cause: error },
        );
      }
    },
    threads: () => module?.getThreadsCount(),
    async diagnose(options: EngineOptions) {
      const name = await chosenBinary();
      const paths = options.wasmPaths ?? environment.defaultPaths();
      if (paths === undefined) {
        const { description, url } = environment.defaultLocation(name);
        const problem = url === undefined ? undefined : await environment.probeBinary(url);
        return (
          `tfjs looked for ${name} ${description}${problem === undefined ? '' : `: ${problem}`}; pass wasmPaths: a directory URL ending in "/" ` +
          `that serves the .wasm files of @tensorflow/tfjs-backend-wasm@${tf.version.tfjs} (its dist/ folder)`
        );
      }
      const location = typeof paths === 'string' ? `${paths}${name}` : paths[name];
      const problem = await environment.probeBinary(location);
      return `${name} at ${location}: ${problem ?? 'the file is there and is WebAssembly, so the failure is elsewhere (the console shows what tfjs logged)'}`;
    },
  };
}
