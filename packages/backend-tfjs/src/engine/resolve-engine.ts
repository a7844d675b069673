/**
 * Engine resolution shared by Node and browsers: start the requested engine, or with `auto` the
 * first of an environment's order that starts, and when none does, fail with every candidate's
 * real cause (like onnxruntime-common's backend resolver). The environment supplies the order and
 * the candidates (select-engine.ts for Node, select-browser-engine.ts for browsers).
 *
 * tfjs keeps its active engine in process-global state (`tf.setBackend`), so one process (or page)
 * runs one engine at a time; `ensureEngine` switches back cheaply before work when several
 * levelskip backends with different engines coexist.
 */
import * as tf from '@tensorflow/tfjs';
import { LevelskipError } from '@levelskip/core';
import {
  tfjsEngines,
  wasmBinaryNames,
  type EngineCandidate,
  type EngineCandidates,
  type EngineOptions,
  type LoadedEngine,
  type TfjsEngine,
  type TfjsEngineChoice,
} from './engines.js';

/** What an environment offers to `resolveEngine`. */
export interface EngineEnvironment {
  /** For messages: `Node.js` or `a browser`. */
  readonly name: string;
  /** The engines `auto` tries, in order. */
  readonly order: readonly TfjsEngine[];
  readonly candidates: EngineCandidates;
}

/** The option names engine start-up takes (`createTfjsBackend` adds `engine`). */
export const engineOptionNames: readonly (keyof EngineOptions)[] = ['wasmPaths', 'wasmThreads'];

/** An `INVALID_OPTION` error naming `caller` and `field`. */
export function invalidEngineOption(caller: string, field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `${caller}: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? 'an object' : String(value);
}

/** Checks an engine name; unknown names fail with `INVALID_OPTION` listing the valid ones. */
export function checkEngineChoice(caller: string, choice: unknown): TfjsEngineChoice {
  if (choice === 'auto' || (tfjsEngines as readonly unknown[]).includes(choice)) return choice as TfjsEngineChoice;
  throw invalidEngineOption(caller, 'engine', `must be auto, ${tfjsEngines.join(', ')}; got ${describeValue(choice)}`);
}

/** Validates `wasmPaths` and `wasmThreads` (the values; unknown keys are the caller's to reject). */
export function checkEngineOptions(caller: string, options: EngineOptions): EngineOptions {
  const { wasmPaths, wasmThreads } = options;
  if (wasmThreads !== undefined && !(typeof wasmThreads === 'number' && Number.isSafeInteger(wasmThreads) && wasmThreads >= 1)) {
    throw invalidEngineOption(caller, 'wasmThreads', `must be an integer ≥ 1 (1 = the single-threaded wasm binary), got ${describeValue(wasmThreads)}`);
  }
  if (wasmPaths === undefined) return options;
  if (typeof wasmPaths === 'string') {
    // tfjs appends the file name to the prefix, so 'https://cdn/dist' would fetch 'https://cdn/disttfjs-backend-wasm.wasm'.
    if (!wasmPaths.endsWith('/')) {
      throw invalidEngineOption(caller, 'wasmPaths', `must be a directory ending in "/" (tfjs appends the file name to it), got ${JSON.stringify(wasmPaths)}`);
    }
    return options;
  }
  if (typeof wasmPaths !== 'object' || wasmPaths === null || Array.isArray(wasmPaths)) {
    throw invalidEngineOption(caller, 'wasmPaths', `must be a directory string ending in "/" or an object { ${wasmBinaryNames.join(', ')} }, got ${describeValue(wasmPaths)}`);
  }
  const map = wasmPaths as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(map)) {
    if (!(wasmBinaryNames as readonly string[]).includes(key)) {
      throw invalidEngineOption(caller, 'wasmPaths', `has an unknown file "${key}" (the binaries are ${wasmBinaryNames.join(', ')})`);
    }
  }
  // tfjs-backend-wasm's setWasmPaths itself requires all three (it picks one at start-up by SIMD and thread support).
  const missing = wasmBinaryNames.filter((name) => typeof map[name] !== 'string' || map[name] === '');
  if (missing.length > 0) {
    throw invalidEngineOption(caller, 'wasmPaths', `must give a location for every binary; missing ${missing.join(', ')} (or pass one directory string ending in "/")`);
  }
  return options;
}

/** Thrown by a candidate that cannot run in this environment; its message is the whole reason. */
class EngineUnsupportedError extends Error {
  override readonly name = 'EngineUnsupportedError';
}

/** A failure whose message already says which step failed and why (no "failed to start:" prefix). */
export class EngineStartError extends Error {
  override readonly name = 'EngineStartError';
}

/** The message of anything thrown: tfjs-backend-wasm rejects with a plain `{ message }` object. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * Whether `error` is Node's "module not found" for `packageName` itself (not for something it
 * imports in turn, e.g. a missing libtensorflow, which is a start failure worth showing).
 */
function isPackageNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  // Node: "Cannot find package '<name>' imported from …" / "Cannot find module '<name>'".
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${packageName}'`)) return true;
  // Vite's resolver (vitest, Vite SSR), which runs Node code through its own module loader.
  return message.startsWith(`Could not resolve "${packageName}"`);
}

/** Why a candidate failed, in a form that says what to do. */
function failureReason(candidate: EngineCandidate, error: unknown): string {
  const { packageName } = candidate;
  if (error instanceof EngineUnsupportedError) return error.message;
  if (isPackageNotFound(error, packageName)) {
    return `${packageName} is not installed (install it with \`npm install ${packageName}@${tf.version.tfjs}\` to use it)`;
  }
  const message = messageOf(error);
  if (error instanceof EngineStartError) return message;
  return `${packageName} failed to start: ${message.split('\n')[0]}`;
}

/**
 * `tf.setBackend`, but keeping the error: tfjs catches a failing backend factory, logs it and
 * resolves `false`. The registered factory is wrapped only while `tf.setBackend` runs
 * synchronously (tfjs 4.x calls the factory before its first `await`), so no other start can see
 * the wrapper; an async factory's rejection is still caught through the promise it returned.
 */
async function initialise(tfBackend: string): Promise<void> {
  const entry = tf.engine().registryFactory[tfBackend];
  if (entry === undefined) throw new Error(`no tfjs backend named "${tfBackend}" is registered`);
  const factory = entry.factory;
  let failure: { readonly error: unknown } | undefined;
  entry.factory = () => {
    try {
      const made = factory();
      // tfjs tells async factories by a `then` method (custom Promise implementations included).
      if (typeof (made as { then?: unknown }).then === 'function') {
        return Promise.resolve(made).catch((error: unknown) => {
          failure = { error };
          throw error;
        });
      }
      return made;
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  let pending: Promise<boolean>;
  try {
    pending = tf.setBackend(tfBackend);
  } finally {
    entry.factory = factory;
  }
  if ((await pending) && tf.getBackend() === tfBackend) return;
  if (failure !== undefined) throw new EngineStartError(`initialising it failed: ${messageOf(failure.error).split('\n')[0]}`, { cause: failure.error });
  throw new EngineStartError(`tf.setBackend('${tfBackend}') could not initialise it (another tf.setBackend call in between?)`);
}

/** Loads one engine and makes it tfjs's active backend; throws (not a LevelskipError) on failure. */
async function startEngine(engine: TfjsEngine, candidate: EngineCandidate, options: EngineOptions): Promise<LoadedEngine> {
  if (candidate.unsupported !== undefined) throw new EngineUnsupportedError(candidate.unsupported);
  await candidate.load(options);
  if (tf.findBackendFactory(candidate.tfBackend) === null) {
    throw new Error(`importing it registered no tfjs backend named "${candidate.tfBackend}" (is a second copy of @tensorflow/tfjs-core installed?)`);
  }
  if (!isInitialized(candidate.tfBackend)) {
    try {
      await initialise(candidate.tfBackend);
    } catch (error) {
      if (!(error instanceof EngineStartError)) throw error;
      const diagnosis = await candidate.diagnose?.(options).catch(() => undefined);
      throw new EngineStartError(`${candidate.packageName} failed to start: ${error.message}${diagnosis === undefined ? '' : `; ${diagnosis}`}`, { cause: error.cause });
    }
  } else if (!(await tf.setBackend(candidate.tfBackend))) {
    throw new EngineStartError(`tf.setBackend('${candidate.tfBackend}') failed although it is initialised`);
  }
  await tf.ready();
  return { engine, tfBackend: candidate.tfBackend, threads: candidate.threads?.() };
}

/**
 * Whether tfjs has an initialised instance of `tfBackend`. Not `tf.findBackend`: that starts
 * initialising a registered backend as a side effect (for wasm, before its paths are set).
 */
export function isInitialized(tfBackend: string): boolean {
  return Object.prototype.hasOwnProperty.call(tf.engine().registry, tfBackend);
}

/**
 * The cpu engine prints a one-time banner in Node ("Hi, looks like you are running TensorFlow.js
 * in Node.js …") on its first tensor. After `auto` has already tried the native engines that
 * banner only repeats the error list, so it is used up here: one tiny tensor written while
 * tfjs's `PROD` flag (which gates tfjs's own logging, nothing else in 4.x) is on, then the flag
 * restored. Synchronous, so no other tfjs code runs while the flag is changed.
 */
function consumeCpuBanner(): void {
  const environment = tf.env();
  const previous = environment.getBool('PROD');
  environment.set('PROD', true);
  try {
    tf.dispose(tf.scalar(0));
  } finally {
    environment.set('PROD', previous);
  }
}

/**
 * Starts the requested engine, or with `auto` the first of `environment.order` that starts, and
 * makes it tfjs's active backend.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming every candidate tried and its real cause;
 *   `INVALID_OPTION` for an unknown engine name or a bad option.
 */
export async function resolveEngine(caller: string, choice: unknown, options: EngineOptions, environment: EngineEnvironment): Promise<LoadedEngine> {
  const engineChoice = checkEngineChoice(caller, choice);
  checkEngineOptions(caller, options);
  const tried = engineChoice === 'auto' ? environment.order : [engineChoice];
  const failures: string[] = [];
  const causes: unknown[] = [];
  for (const engine of tried) {
    const candidate = environment.candidates[engine];
    try {
      const loaded = await startEngine(engine, candidate, options);
      if (engineChoice === 'auto' && loaded.tfBackend === 'cpu' && tf.env().getBool('IS_NODE')) consumeCpuBanner();
      return loaded;
    } catch (error) {
      failures.push(`  ${engine}: ${failureReason(candidate, error)}`);
      causes.push(error);
    }
  }
  const what = engineChoice === 'auto' ? `no tfjs engine could start in ${environment.name}` : `the tfjs engine "${engineChoice}" could not start`;
  throw new LevelskipError(
    'BACKEND_UNAVAILABLE',
    `${what}:\n${failures.join('\n')}\n` +
      (engineChoice === 'auto' ? 'Install one of the packages above, or' : `Choose another engine (auto, ${environment.order.join(', ')}), or`) +
      ' fix the error shown.',
    { cause: causes.length === 1 ? causes[0] : new AggregateError(causes, what) },
  );
}

/** A candidate for an engine this environment cannot run: `load` is never called. */
export function unsupportedCandidate(packageName: string, tfBackend: string, reason: string): EngineCandidate {
  return {
    packageName,
    tfBackend,
    unsupported: reason,
    load: () => Promise.reject(new EngineUnsupportedError(reason)),
  };
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
