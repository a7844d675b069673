/**
 * The `backend` option of `createPipeline`: a backend instance the caller made (and keeps), or the
 * name of a backend package that the pipeline imports at run time and creates (and disposes).
 * Backends are optional peer dependencies: nothing here imports one statically, so an app installs
 * only the backend it uses.
 */
import { LevelskipError, type Backend } from '@levelskip/core';
import type { PipelineEnvironment } from './pipeline-environment.js';
import { optionError, shown } from './pipeline-errors.js';

/** The backend packages by name, with their factory and what else a user installs for them. */
export const backendPackages = {
  onnx: { package: '@levelskip/backend-onnx', factory: 'createOnnxBackend', runtime: 'onnxruntime-node (Node) or onnxruntime-web (browsers)' },
  tfjs: { package: '@levelskip/backend-tfjs', factory: 'createTfjsBackend', runtime: '@tensorflow/tfjs and an engine such as @tensorflow/tfjs-backend-wasm' },
} as const;

export type BackendName = keyof typeof backendPackages;
export const backendNames = Object.keys(backendPackages) as BackendName[];

function isBackend(value: unknown): value is Backend<unknown> {
  const backend = value as Partial<Backend<unknown>> | null;
  return typeof backend === 'object' && backend !== null && typeof backend.createDenoiser === 'function' && typeof backend.dispose === 'function';
}

/** Checks the option before anything is loaded. */
export function checkBackendOption(backend: unknown, backendOptions: unknown): void {
  if (typeof backend === 'string') {
    if (!(backendNames as string[]).includes(backend)) throw optionError('createPipeline', 'backend', `must be ${backendNames.map((n) => `'${n}'`).join(' or ')} or a backend instance, got ${shown(backend)}`);
  } else if (!isBackend(backend)) {
    throw optionError('createPipeline', 'backend', `must be ${backendNames.map((n) => `'${n}'`).join(' or ')} or a backend instance (createOnnxBackend(), createTfjsBackend()), got ${shown(backend)}`);
  }
  if (backendOptions !== undefined) {
    if (typeof backendOptions !== 'object' || backendOptions === null || Array.isArray(backendOptions)) {
      throw optionError('createPipeline', 'backendOptions', `must be an options object for the backend's factory, got ${shown(backendOptions)}`);
    }
    if (typeof backend !== 'string') throw optionError('createPipeline', 'backendOptions', 'applies when backend is a name; configure a backend instance where you create it');
  }
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    (typeof message === 'string' && message.includes(specifier) && /cannot find|failed to resolve|not found|resolve/i.test(message))
  );
}

/**
 * The backend to run on, and whether the pipeline owns it (created it, so disposes it).
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming the package to install when a named
 *   backend's package cannot be imported; the factory's errors (its runtime missing, no engine
 *   starting, bad options) as they are.
 */
export async function resolveBackend<T>(environment: PipelineEnvironment, backend: 'onnx' | 'tfjs' | Backend<T>, backendOptions: object | undefined): Promise<{ backend: Backend<T>; owned: boolean }> {
  if (typeof backend !== 'string') return { backend, owned: false };
  const known = backendPackages[backend];
  let module: Record<string, unknown>;
  try {
    module = await environment.importModule(known.package);
  } catch (error) {
    const reason = isModuleNotFound(error, known.package) ? 'is not installed' : `could not be loaded (${(error as Error)?.message ?? String(error)})`;
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `createPipeline: backend '${backend}' needs the package ${known.package}, which ${reason}. Install it with its runtime (npm i ${known.package}; it runs on ${known.runtime}), ` +
        `or pass a backend instance: backend: await ${known.factory}()`,
      { cause: error, issues: [{ path: ['backend'], message: `${known.package} ${reason}` }] },
    );
  }
  const factory = module[known.factory];
  if (typeof factory !== 'function') {
    throw new LevelskipError('BACKEND_UNAVAILABLE', `createPipeline: ${known.package} has no ${known.factory}(); install a version that matches @levelskip/pipeline`);
  }
  const created: unknown = await (factory as (options?: object) => Promise<unknown>)(backendOptions);
  if (!isBackend(created)) throw new LevelskipError('INTERNAL', `createPipeline: ${known.package}'s ${known.factory}() did not return a backend`);
  return { backend: created as Backend<T>, owned: true };
}
