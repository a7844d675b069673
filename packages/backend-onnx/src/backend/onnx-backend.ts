/**
 * core's `Backend` on an injected ONNX Runtime (onnxruntime-node or onnxruntime-web). Each
 * denoiser compiles the U-Net to ONNX graphs (one per decoder stage, depth k and fill) and runs
 * them on the first execution provider of the requested list that starts.
 *
 * `createOnnxBackend` itself lives in the two entry points (`index.ts` for Node.js, `browser.ts`
 * for browsers), which differ only in the runtime loaded when none is given and in how they count
 * CPUs; everything else is here.
 */
import type * as ortCommon from 'onnxruntime-common';
import {
  LevelskipError,
  resolveDenoiserInputs,
  specificationVersion,
  type Backend,
  type BackendCapabilities,
  type DenoiserOptions,
  type NamedTensors,
  type UNetSpec,
  type UNetSpecInput,
  exportableFillKinds,
  liveDenoisers,
} from '@levelskip/core';
import { createOnnxTensorOps } from '../ops/onnx-tensor-ops.js';
import { asOnnxRuntime, onnxRuntimeName, type OnnxRuntime, type OnnxRuntimeName, type RuntimeEnvironment } from '../runtime/onnx-runtime.js';
import { selectExecutionProvider, type GraphOptimizationLevel } from './execution-providers.js';
import { createOnnxDenoiser, type OnnxDenoiser } from './onnx-denoiser.js';

/** onnxruntime's log severities, most verbose first. */
export type OnnxLogLevel = 'verbose' | 'info' | 'warning' | 'error' | 'fatal';

const logLevels: readonly OnnxLogLevel[] = ['verbose', 'info', 'warning', 'error', 'fatal'];

export interface OnnxBackendOptions {
  /**
   * The ONNX Runtime module to run on: `import * as ort from 'onnxruntime-web'` in browsers (or
   * Node.js), `'onnxruntime-node'` in Node.js. Default: imported on first use, `onnxruntime-node`
   * in Node.js and `onnxruntime-web` in browser bundles (the package's `browser` export condition).
   */
  readonly ort?: OnnxRuntime;
  /**
   * Execution providers to try, in order; the first that opens a session is used for every graph.
   * Default `['cpu']` (onnxruntime-web: `['wasm']`), so GPU providers are only loaded when asked
   * for. onnxruntime-node: e.g. `['cuda', 'webgpu', 'cpu']`; onnxruntime-web: `['webgpu', 'wasm']`
   * (`webnn` too; `cpu` means `wasm` there).
   */
  readonly executionProviders?: readonly string[];
  /**
   * Threads onnxruntime computes one operator with.
   *
   * - onnxruntime-node: the sessions' `intraOpNumThreads`. Default: the CPUs Node.js reports
   *   (`os.availableParallelism()`); 0 leaves the choice to onnxruntime, whose own default counts
   *   physical cores and can find one where there are more: on this project's 2-core VM it ran
   *   one thread, and mnistSmall at batch 50 took 193 ms per prediction against 126 ms with 2.
   * - onnxruntime-web: `ort.env.wasm.numThreads`, the WebAssembly thread pool every session of the
   *   page shares, fixed when the first session starts. Default: a count you already set there,
   *   else `navigator.hardwareConcurrency` when the page is `crossOriginIsolated` (threads need
   *   SharedArrayBuffer), else 1; 0 leaves it to onnxruntime-web.
   *
   * `backend.intraOpNumThreads` says what is in effect.
   */
  readonly intraOpNumThreads?: number;
  /** onnxruntime graph optimizations (default `all`). */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Let onnxruntime-node's idle worker threads spin-wait for the next run (default `false`; no
   * effect on onnxruntime-web, whose pool is global).
   *
   * A denoiser holds one session per depth k, and every onnxruntime session has its own thread
   * pool. With spinning on, the pool of the session that ran the last step keeps its threads busy
   * while the next step's session runs, so a schedule that alternates depths fights itself for
   * the cores: mnistSmall, batch 1, DDIM-50 on 2 cores took 158 ms at c = 2 against 150 ms at
   * c = 0 with spinning, and 77 ms against 135 ms without (at batch 16: 893 / 1,559 ms with,
   * 894 / 1,418 ms without). Turn it on only for a single depth with many short runs.
   */
  readonly allowSpinning?: boolean;
  /**
   * onnxruntime's log severity: set as `ort.env.logLevel` (process- or page-wide, and read by
   * onnxruntime once, when its first session opens) and as every session's `logSeverityLevel`.
   * Default `fatal`, unless `ort.env.logLevel` already holds a level other than onnxruntime's own
   * default `warning`, which is then kept. Why so quiet: every onnxruntime failure that matters
   * reaches you as a thrown error (wrapped in `LevelskipError` with the provider named), and
   * onnxruntime also logs some of them in red — e.g. `Failed to load library
   * libonnxruntime_providers_shared.so` when a requested `cuda` is missing and the backend falls
   * back as asked — which would make passing runs look broken. Use `warning` or `verbose` to debug.
   */
  readonly logLevel?: OnnxLogLevel;
}

/** A levelskip backend on onnxruntime. Tensors are float32 CPU `Tensor`s of its runtime, NCHW. */
export interface OnnxBackend extends Backend<ortCommon.Tensor> {
  /** The execution provider in use, e.g. `cpu`, `cuda`, `wasm` or `webgpu`. */
  readonly executionProvider: string;
  /**
   * The intra-op threads in effect: the sessions' count on onnxruntime-node (0: onnxruntime's own
   * choice), the WebAssembly pool's on onnxruntime-web.
   */
  readonly intraOpNumThreads: number;
  /** The runtime package: `onnxruntime-node`, `onnxruntime-web`, or `onnxruntime` for other builds. */
  readonly runtime: OnnxRuntimeName;
  /** The ONNX Runtime module itself (the one given as `options.ort`, or the default loaded). */
  readonly ort: OnnxRuntime;
  createDenoiser(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options?: DenoiserOptions<ortCommon.Tensor>): Promise<OnnxDenoiser>;
}

const optimizationLevels: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

interface CheckedOptions {
  readonly intraOpNumThreads: number | undefined;
  readonly graphOptimizationLevel: GraphOptimizationLevel;
  readonly allowSpinning: boolean;
  readonly logLevel: OnnxLogLevel | undefined;
}

function checkOptions(options: OnnxBackendOptions): CheckedOptions {
  if (options === null || typeof options !== 'object') {
    throw new LevelskipError('INVALID_OPTION', `createOnnxBackend takes an options object, got ${String(options)}`);
  }
  const { intraOpNumThreads, graphOptimizationLevel = 'all', allowSpinning = false, logLevel } = options;
  if (intraOpNumThreads !== undefined && (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 0)) {
    throw new LevelskipError('INVALID_OPTION', `intraOpNumThreads must be a non-negative integer (0 = onnxruntime's default), got ${intraOpNumThreads}`);
  }
  if (!optimizationLevels.includes(graphOptimizationLevel)) {
    throw new LevelskipError('INVALID_OPTION', `graphOptimizationLevel must be one of ${optimizationLevels.join(', ')}, got ${String(graphOptimizationLevel)}`);
  }
  if (typeof allowSpinning !== 'boolean') throw new LevelskipError('INVALID_OPTION', `allowSpinning must be true or false, got ${String(allowSpinning)}`);
  if (logLevel !== undefined && !logLevels.includes(logLevel)) {
    throw new LevelskipError('INVALID_OPTION', `logLevel must be one of ${logLevels.join(', ')}, got ${String(logLevel)}`);
  }
  return { intraOpNumThreads, graphOptimizationLevel, allowSpinning, logLevel };
}

/** The log level to use: the option, else a level the user set on `ort.env`, else `fatal` (see `OnnxBackendOptions.logLevel`). */
function logLevelOf(ort: OnnxRuntime, requested: OnnxLogLevel | undefined): OnnxLogLevel {
  if (requested !== undefined) return requested;
  const current = ort.env.logLevel;
  return current !== undefined && current !== 'warning' && logLevels.includes(current) ? current : 'fatal';
}

/**
 * Threads each onnxruntime-web `env` started its WebAssembly with. onnxruntime-web reads
 * `env.wasm.numThreads` once, when its first session opens, so later changes to it would only
 * misreport the count.
 */
const wasmThreads = new WeakMap<ortCommon.Env, number>();

function crossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** Sets `ort.env.wasm.numThreads` for a WebAssembly runtime that has not started yet (see `intraOpNumThreads`). */
function configureWasmThreads(ort: OnnxRuntime, requested: number | undefined, environment: RuntimeEnvironment): void {
  const started = wasmThreads.get(ort.env);
  if (started !== undefined) {
    if (requested !== undefined && requested !== 0 && requested !== started) {
      throw new LevelskipError(
        'INVALID_OPTION',
        `intraOpNumThreads: onnxruntime-web's WebAssembly already runs with ${started} thread(s) here, and its thread pool ` +
          `cannot change once started; pass intraOpNumThreads: ${started} (or omit it), or reload the page to start with another count`,
      );
    }
    return;
  }
  const wasm = ort.env.wasm;
  if (requested !== undefined) {
    if (requested > 0) wasm.numThreads = requested;
    return;
  }
  const set = wasm.numThreads;
  if (typeof set === 'number' && Number.isInteger(set) && set > 0) return;
  // Without cross-origin isolation there is no SharedArrayBuffer, hence no WebAssembly threads.
  wasm.numThreads = crossOriginIsolated() ? Math.max(1, environment.hardwareConcurrency()) : 1;
}

function sessionOptionsOf(name: OnnxRuntimeName, options: CheckedOptions, threads: number, logLevel: OnnxLogLevel): ortCommon.InferenceSession.SessionOptions {
  const base: ortCommon.InferenceSession.SessionOptions = {
    graphOptimizationLevel: options.graphOptimizationLevel,
    logSeverityLevel: logLevels.indexOf(logLevel) as 0 | 1 | 2 | 3 | 4,
  };
  // onnxruntime-web's sessions share the global WebAssembly pool: per-session thread settings do not apply.
  if (name === 'onnxruntime-web') return base;
  const spinning = options.allowSpinning ? '1' : '0';
  return {
    ...base,
    ...(threads === 0 ? {} : { intraOpNumThreads: threads }),
    // onnxruntime's session config keys session.intra_op.allow_spinning / session.inter_op.allow_spinning.
    extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
  };
}

/**
 * `createOnnxBackend` of an entry point whose defaults are `environment`'s.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the runtime cannot be loaded, is not an ONNX
 *   Runtime module, or no provider starts (each provider's failure listed); `INVALID_OPTION` for
 *   malformed options.
 */
export async function createOnnxBackendIn(environment: RuntimeEnvironment, options: OnnxBackendOptions = {}): Promise<OnnxBackend> {
  const checked = checkOptions(options);
  const ort = options.ort === undefined ? await environment.loadDefaultRuntime() : asOnnxRuntime(options.ort, 'options.ort');
  const runtime = onnxRuntimeName(ort);
  const logLevel = logLevelOf(ort, checked.logLevel);
  ort.env.logLevel = logLevel;
  let threads: number;
  if (runtime === 'onnxruntime-web') {
    configureWasmThreads(ort, checked.intraOpNumThreads, environment);
    threads = 0;
  } else {
    threads = checked.intraOpNumThreads ?? environment.hardwareConcurrency();
  }
  const base = sessionOptionsOf(runtime, checked, threads, logLevel);
  const provider = await selectExecutionProvider(ort, runtime, options.executionProviders, base, environment.providerUnavailable);
  if (runtime === 'onnxruntime-web') {
    // The probe session started the WebAssembly runtime; onnxruntime-web wrote back the count it
    // used (1 where threads are unavailable).
    if (!wasmThreads.has(ort.env)) wasmThreads.set(ort.env, ort.env.wasm.numThreads ?? 1);
    threads = wasmThreads.get(ort.env)!;
  }
  const sessionOptions: ortCommon.InferenceSession.SessionOptions = { ...base, executionProviders: [provider] };
  const name = `onnx-${provider}`;
  const ops = createOnnxTensorOps(name, ort);
  const capabilities: BackendCapabilities = Object.freeze({
    // Every graph-fusable fill of core's registry: graph/fill-emitters.ts has an emitter for each.
    fusedFills: exportableFillKinds,
    customFills: true,
    training: false,
    devices: Object.freeze([provider]),
  });
  const live = liveDenoisers<OnnxDenoiser>('createOnnxBackend()');
  const backend: OnnxBackend = {
    specificationVersion,
    name,
    executionProvider: provider,
    intraOpNumThreads: threads,
    runtime,
    ort,
    capabilities,
    ops,
    createDenoiser(specInput: UNetSpec | UNetSpecInput, weights: NamedTensors, denoiserOptions: DenoiserOptions<ortCommon.Tensor> = {}) {
      return (async () => {
        live.assertOpen();
        const { spec, architecture } = resolveDenoiserInputs(specInput, weights, denoiserOptions);
        return live.track((onDispose) => createOnnxDenoiser(spec, weights, { runtime: ort, name, ops, sessionOptions, onDispose, architecture }));
      })();
    },
    dispose() {
      live.dispose();
    },
    [Symbol.dispose]() {
      backend.dispose();
    },
  };
  return backend;
}
