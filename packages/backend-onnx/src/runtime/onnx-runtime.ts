/**
 * The ONNX Runtime module a backend runs on, injected rather than imported: `onnxruntime-node`
 * and `onnxruntime-web` share onnxruntime-common's API (`InferenceSession`, `Tensor`, `env`), so
 * one backend serves both, and an app picks its runtime without bundler aliases. Only types come
 * from onnxruntime-common here; every value is read from the module the caller (or the entry
 * point's default loader) supplies.
 */
import type * as ortCommon from 'onnxruntime-common';
import { LevelskipError } from '@levelskip/core';

/**
 * What levelskip uses of an ONNX Runtime module: `import * as ort from 'onnxruntime-web'` (or
 * `'onnxruntime-node'`) satisfies it.
 */
export interface OnnxRuntime {
  readonly InferenceSession: typeof ortCommon.InferenceSession;
  readonly Tensor: typeof ortCommon.Tensor;
  readonly env: ortCommon.Env;
  /** onnxruntime-node only: the execution providers of this build. */
  readonly listSupportedBackends?: () => readonly { readonly name: string; readonly bundled: boolean }[];
}

/** Which ONNX Runtime package a module is (`onnxruntime` for any other build, e.g. React Native's). */
export type OnnxRuntimeName = 'onnxruntime-node' | 'onnxruntime-web' | 'onnxruntime';

function isRuntime(value: unknown): value is OnnxRuntime {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const m = value as Partial<Record<keyof OnnxRuntime, unknown>>;
  const session = m.InferenceSession as { create?: unknown } | undefined;
  return typeof session?.create === 'function' && typeof m.Tensor === 'function' && typeof m.env === 'object' && m.env !== null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return `${typeof value} ${JSON.stringify(value)}`;
  const keys = Object.keys(value).slice(0, 8);
  return keys.length === 0 ? 'an object with no properties' : `an object with ${keys.join(', ')}`;
}

/**
 * `value` as an ONNX Runtime module. A namespace whose `default` export is the runtime (how some
 * bundlers expose CommonJS modules) is unwrapped.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming `what` and what to pass instead.
 */
export function asOnnxRuntime(value: unknown, what: string): OnnxRuntime {
  if (isRuntime(value)) return value;
  const inner = (value as { default?: unknown } | null | undefined)?.default;
  if (isRuntime(inner)) return inner;
  if (typeof (value as { then?: unknown } | null | undefined)?.then === 'function') {
    throw new LevelskipError('BACKEND_UNAVAILABLE', `${what} is a Promise: await the import, e.g. { ort: await import('onnxruntime-web') }`);
  }
  throw new LevelskipError(
    'BACKEND_UNAVAILABLE',
    `${what} is not an ONNX Runtime module (it needs InferenceSession.create, Tensor and env; got ${describe(value)}). ` +
      "Pass the module itself: import * as ort from 'onnxruntime-web' (browsers) or 'onnxruntime-node' (Node.js), then createOnnxBackend({ ort }).",
  );
}

/** Which package `ort` is: onnxruntime-node exports `listSupportedBackends`, onnxruntime-web stamps `env.versions.web`. */
export function onnxRuntimeName(ort: OnnxRuntime): OnnxRuntimeName {
  if (typeof ort.listSupportedBackends === 'function') return 'onnxruntime-node';
  if (ort.env.versions?.web !== undefined) return 'onnxruntime-web';
  return 'onnxruntime';
}

/**
 * Imports a runtime package with `load` (a literal `import('…')`, so bundlers see it) and checks it.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install the package, the import's own
 *   error as `cause`.
 */
export async function loadOnnxRuntime(packageName: string, load: () => Promise<unknown>, installHint: string): Promise<OnnxRuntime> {
  let module: unknown;
  try {
    module = await load();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `${packageName} could not be loaded (${reason}). ${installHint} Or pass a runtime yourself: createOnnxBackend({ ort }).`,
      { cause: error },
    );
  }
  return asOnnxRuntime(module, `the module '${packageName}'`);
}

/** The backend-independent parts of an entry point: its default runtime and CPU count. */
export interface RuntimeEnvironment {
  /** Loads the runtime used when `options.ort` is omitted. */
  readonly loadDefaultRuntime: () => Promise<OnnxRuntime>;
  /** Logical CPUs, for default thread counts; 0 when unknown. */
  readonly hardwareConcurrency: () => number;
  /**
   * Why an execution provider cannot start here, known without loading it (a missing system
   * library), or `undefined` to probe it: such a provider is not probed, so its native library
   * prints nothing to stderr.
   */
  readonly providerUnavailable?: (name: OnnxRuntimeName, provider: string) => string | undefined;
}
