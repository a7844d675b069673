/**
 * Choosing and starting the TensorFlow.js engine (tfjs "backend"): `node-gpu` (libtensorflow
 * with CUDA), `node` (libtensorflow on the CPU), `wasm` (XNNPACK with SIMD) or `cpu` (plain
 * JavaScript). `auto` tries them in that order and takes the first that starts; when none does,
 * the error lists why each candidate failed (like onnxruntime-common's backend resolver).
 *
 * tfjs keeps its active engine in process-global state (`tf.setBackend`), so one process runs
 * one engine at a time; `ensureEngine` switches back cheaply before work when several levelskip
 * backends with different engines coexist.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { LevelskipError } from '@levelskip/core';
import { registerWasmTrainingKernels } from '../gradients/register-wasm-gradients.js';

/** A tfjs engine levelskip can run on. */
export type TfjsEngine = 'node-gpu' | 'node' | 'wasm' | 'cpu';
/** An engine, or `auto`: the first of node-gpu, node, wasm, cpu that starts. */
export type TfjsEngineChoice = TfjsEngine | 'auto';

/** Engines in the order `auto` tries them. */
export const engineOrder: readonly TfjsEngine[] = ['node-gpu', 'node', 'wasm', 'cpu'];

/** A started engine. */
export interface LoadedEngine {
  readonly engine: TfjsEngine;
  /** The name tfjs registers it under (`tf.getBackend()`): `tensorflow`, `wasm` or `cpu`. */
  readonly tfBackend: string;
}

/** How to start one engine (exported for tests of the resolution logic). */
export interface EngineCandidate {
  /** npm package that provides the engine. */
  readonly packageName: string;
  readonly tfBackend: string;
  /** Imports and registers the engine; throws when it cannot. */
  readonly load: () => Promise<void>;
}

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

/** Directory (with trailing slash) holding tfjs-backend-wasm's `.wasm` binaries. */
export function wasmBinaryDirectory(): string {
  const manifest = moduleRequire().resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return manifest.replace(/package\.json$/, 'dist/');
}

/**
 * Whether tfjs has an initialised instance of `tfBackend`. Not `tf.findBackend`: that starts
 * initialising a registered backend as a side effect (for wasm, before its paths are set).
 */
function isInitialized(tfBackend: string): boolean {
  return Object.prototype.hasOwnProperty.call(tf.engine().registry, tfBackend);
}

interface WasmModule {
  setWasmPaths(prefixOrFileMap: string, usePlatformFetch?: boolean): void;
}

async function loadWasm(): Promise<void> {
  const wasm = (await importOptional('@tensorflow/tfjs-backend-wasm')) as Partial<WasmModule> & { default?: Partial<WasmModule> };
  // Training on wasm needs kernels tfjs-backend-wasm lacks (Conv2DBackpropFilter) or runs slowly;
  // registering is idempotent and cheap, so it happens on every load, before wasm initialises.
  registerWasmTrainingKernels(tf);
  // Already started (by an earlier backend or by the application, perhaps with its own paths).
  if (isInitialized('wasm')) return;
  const setWasmPaths = wasm.setWasmPaths ?? wasm.default?.setWasmPaths;
  if (typeof setWasmPaths !== 'function') throw new Error('the package does not export setWasmPaths (is it version 4.x?)');
  // The threaded build cannot start in Node (its workers load from a blob: URL Node rejects),
  // so ask for the single-threaded SIMD binary.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(wasmBinaryDirectory());
}

/** The real engines. */
export const engineCandidates: Readonly<Record<TfjsEngine, EngineCandidate>> = {
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
  wasm: { packageName: '@tensorflow/tfjs-backend-wasm', tfBackend: 'wasm', load: loadWasm },
  // The cpu engine ships with the @tensorflow/tfjs umbrella package, already imported.
  cpu: { packageName: '@tensorflow/tfjs-backend-cpu', tfBackend: 'cpu', load: async () => undefined },
};

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /cannot find (package|module)|could not resolve|failed to (load|resolve)/i.test(message)) &&
    message.includes(packageName)
  );
}

/** Why a candidate failed, in a form that says what to do. */
function failureReason(candidate: EngineCandidate, error: unknown): string {
  const { packageName } = candidate;
  if (isModuleNotFound(error, packageName)) {
    return `${packageName} is not installed (install it with \`npm install ${packageName}@${tf.version.tfjs}\` to use it)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${packageName} failed to start: ${message.split('\n')[0]}`;
}

/** Loads one engine and makes it tfjs's active backend; throws (not a LevelskipError) on failure. */
async function startEngine(engine: TfjsEngine, candidate: EngineCandidate): Promise<LoadedEngine> {
  await candidate.load();
  if (tf.findBackendFactory(candidate.tfBackend) === null) {
    throw new Error(`importing it registered no tfjs backend named "${candidate.tfBackend}" (is a second copy of @tensorflow/tfjs-core installed?)`);
  }
  // setBackend resolves false (rather than throwing) when initialisation fails.
  const ok = await tf.setBackend(candidate.tfBackend);
  if (!ok || tf.getBackend() !== candidate.tfBackend) {
    throw new Error(`tf.setBackend('${candidate.tfBackend}') could not initialise it`);
  }
  await tf.ready();
  return { engine, tfBackend: candidate.tfBackend };
}

/**
 * Starts the requested engine, or with `auto` the first of node-gpu, node, wasm, cpu that starts,
 * and makes it tfjs's active backend.
 *
 * @param candidates How each engine starts (tests substitute failing ones).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming every candidate tried and why it failed;
 *   `INVALID_OPTION` for an unknown engine name.
 */
export async function selectEngine(
  choice: TfjsEngineChoice = 'auto',
  candidates: Readonly<Record<TfjsEngine, EngineCandidate>> = engineCandidates,
): Promise<LoadedEngine> {
  if (choice !== 'auto' && !engineOrder.includes(choice)) {
    throw new LevelskipError('INVALID_OPTION', `unknown tfjs engine "${String(choice)}": use auto, ${engineOrder.join(', ')}`);
  }
  const tried = choice === 'auto' ? engineOrder : [choice];
  const failures: string[] = [];
  const causes: unknown[] = [];
  for (const engine of tried) {
    try {
      return await startEngine(engine, candidates[engine]);
    } catch (error) {
      failures.push(`  ${engine}: ${failureReason(candidates[engine], error)}`);
      causes.push(error);
    }
  }
  const what = choice === 'auto' ? 'no tfjs engine could start' : `the tfjs engine "${choice}" could not start`;
  throw new LevelskipError(
    'BACKEND_UNAVAILABLE',
    `${what}:\n${failures.join('\n')}\n` +
      (choice === 'auto' ? 'Install one of the packages above, or' : 'Choose another engine (auto, node-gpu, node, wasm, cpu), or') +
      ' fix the error shown.',
    { cause: causes.length === 1 ? causes[0] : new AggregateError(causes, what) },
  );
}

/**
 * Makes `tfBackend` tfjs's active backend again if another one took over. Cheap when it is
 * already active; synchronous because the backend was initialised by `selectEngine`
 * (tf.setBackend switches at once for an initialised backend).
 */
export function ensureEngine(tfBackend: string): void {
  if (tf.getBackend() === tfBackend) return;
  if (!isInitialized(tfBackend)) {
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `the tfjs engine "${tfBackend}" was removed from tfjs (tf.removeBackend?); create a new backend with createTfjsBackend()`,
    );
  }
  void tf.setBackend(tfBackend);
}
