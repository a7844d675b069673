/**
 * The TensorFlow.js backend: core's `Backend` on TensorFlow.js. Denoisers compose the tfjs
 * `UNetBlocks` with core's generic `runLevelSkippingUNet`, so every fill (built-in or custom)
 * works on every engine; weights are converted to tfjs layouts once, when the denoiser is built.
 *
 * Environment-neutral: the engine is started by an injected selector, Node's (node-backend.ts)
 * or a browser's (browser-backend.ts), which each export `createTfjsBackend`.
 *
 * tfjs's active engine is process-global: every denoiser and op of a backend first makes its
 * engine active again (a string compare when it already is), so backends with different engines
 * can coexist in one process, at the price of tfjs moving tensors between engines on a switch.
 */
import * as tf from '@tensorflow/tfjs';
import {
  FeatureCache,
  resolveDenoiserInputs,
  resolvePrediction,
  runLevelSkippingUNet,
  specificationVersion,
  type Backend,
  type BackendCapabilities,
  type DisposableDenoiser,
  type PrepareOptions,
  prepareByPrediction,
  type DenoiserOptions,
  type NamedTensors,
  type PredictOptions,
  type Architecture,
  type TensorOps,
  type UNetSpec,
  type UNetSpecInput,
  liveDenoisers,
  disposedError,
} from '@levelskip/core';
import type { EngineOptions, LoadedEngine, TfjsEngine, TfjsEngineChoice } from '../engine/engines.js';
import { checkEngineChoice, checkEngineOptions, engineOptionNames, ensureEngine, invalidEngineOption } from '../engine/resolve-engine.js';
import { createTfjsBlocks } from '../model/unet-blocks.js';
import { loadParameters } from '../model/parameters.js';
import { createTfjsTensorOps } from '../ops/tfjs-tensor-ops.js';
import { KeepingFeatureCache } from './keeping-feature-cache.js';

export interface TfjsBackendOptions extends EngineOptions {
  /**
   * Which tfjs engine to run on. Default `auto`: in Node.js the first of `node-gpu`, `node`,
   * `wasm`, `cpu` that starts; in a browser the first of `webgpu`, `webgl`, `wasm`, `cpu`.
   * `node-gpu` and `node` need the optional packages `@tensorflow/tfjs-node-gpu` or
   * `@tensorflow/tfjs-node` (Node.js only); `webgpu` needs `@tensorflow/tfjs-backend-webgpu`
   * and a browser with WebGPU; `webgl` needs a browser; `wasm` needs `@tensorflow/tfjs-backend-wasm`.
   */
  readonly engine?: TfjsEngineChoice;
}

/** A levelskip backend on TensorFlow.js. Rank-4 tensors are NHWC `tf.Tensor`s (see `ops`). */
export interface TfjsBackend extends Backend<tf.Tensor> {
  /** The engine this backend runs on. */
  readonly engine: TfjsEngine;
  /** The name tfjs knows the engine by (`tf.getBackend()`): `webgpu`, `webgl`, `tensorflow`, `wasm` or `cpu`. */
  readonly tfBackend: string;
  /**
   * CPU threads the engine computes on: for wasm, the thread count XNNPACK runs with
   * (`tf.wasm.getThreadsCount()`; 1 for the single-threaded binary, always in Node.js); for cpu, 1;
   * `undefined` for the GPU engines and libtensorflow, which manage their own parallelism.
   */
  readonly threads: number | undefined;
}

/** What one build (Node or browser) gives `createTfjsBackendWith`. */
export interface BackendEnvironment {
  /** Starts an engine (Node's or a browser's `selectEngine`). */
  readonly select: (choice: TfjsEngineChoice, options: EngineOptions) => Promise<LoadedEngine>;
  /** Whether @levelskip/train-tfjs can train this backend's models here (Node.js, not browsers), for `capabilities.training`. */
  readonly training: boolean;
}

const backendOptionNames: readonly string[] = ['engine', ...engineOptionNames];

/** Checks `createTfjsBackend`'s options once, at the public boundary. */
function checkBackendOptions(options: unknown): { readonly choice: TfjsEngineChoice; readonly engineOptions: EngineOptions } {
  const caller = 'createTfjsBackend';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidEngineOption(caller, 'options', `must be an object { ${backendOptionNames.join('?, ')}? }`);
  }
  for (const key of Object.keys(options)) {
    if (!backendOptionNames.includes(key)) throw invalidEngineOption(caller, key, `is not an option of createTfjsBackend (allowed: ${backendOptionNames.join(', ')})`);
  }
  const { engine = 'auto', ...engineOptions } = options as TfjsBackendOptions;
  return { choice: checkEngineChoice(caller, engine), engineOptions: checkEngineOptions(caller, engineOptions) };
}

interface DenoiserContext {
  readonly name: string;
  readonly ops: TensorOps<tf.Tensor>;
  readonly activate: () => void;
  readonly onDispose: () => void;
}

/** `arch` is `describeArchitecture(spec)`, derived once by `resolveDenoiserInputs`. */
function createTfjsDenoiser(spec: UNetSpec, arch: Architecture, weights: NamedTensors, context: DenoiserContext): DisposableDenoiser<tf.Tensor> {
  const { ops, activate } = context;
  const params = loadParameters(weights);
  const blocks = createTfjsBlocks(arch, params);
  let disposed = false;
  const denoiser: DisposableDenoiser<tf.Tensor> = {
    specificationVersion,
    spec,
    levels: arch.levels,
    architecture: arch,
    backend: context.name,
    ops,
    predict(x: tf.Tensor, timesteps: number | readonly number[], options?: PredictOptions<tf.Tensor>): Promise<tf.Tensor> {
      // An async body turns every throw into a rejected promise, as callers of predict expect.
      return (async () => {
        if (disposed) throw disposedError('denoiser', 'backend.createDenoiser(spec, weights)');
        activate();
        const prediction = resolvePrediction(arch, ops.shape(x), timesteps, options);
        const cache = prediction.cache === undefined ? undefined : new KeepingFeatureCache(prediction.cache, ops);
        // tidy frees every intermediate even when a custom fill throws half-way; the cache keeps its entries.
        return tf.tidy(() => runLevelSkippingUNet(arch, blocks, ops, x, { ...prediction, cache }));
      })();
    },
    createFeatureCache: () => new FeatureCache(ops),
    async prepare(options?: PrepareOptions<tf.Tensor>): Promise<void> {
      if (disposed) throw disposedError('denoiser', 'backend.createDenoiser(spec, weights)');
      // One prediction per variant: WebGL and WebGPU compile their shaders per shape on first use.
      await prepareByPrediction(denoiser, arch.decoders.length, options);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...params.values()]);
      params.clear();
      context.onDispose();
    },
    [Symbol.dispose]() {
      denoiser.dispose();
    },
  };
  return denoiser;
}

/**
 * Creates a backend on the engine `environment.select` starts; `createTfjsBackend` (Node or
 * browser build) is this with its environment.
 */
export async function createTfjsBackendWith(environment: BackendEnvironment, options: TfjsBackendOptions): Promise<TfjsBackend> {
  const { choice, engineOptions } = checkBackendOptions(options);
  const { engine, tfBackend, threads } = await environment.select(choice, engineOptions);
  const name = `tfjs-${engine}`;
  const activate = (): void => ensureEngine(tfBackend);
  const ops = createTfjsTensorOps(name, activate);
  const capabilities: BackendCapabilities = Object.freeze({
    fusedFills: Object.freeze([]),
    customFills: true,
    training: environment.training,
    devices: Object.freeze([engine]),
  });
  const live = liveDenoisers<DisposableDenoiser<tf.Tensor>>('createTfjsBackend()');
  const backend: TfjsBackend = {
    specificationVersion,
    name,
    engine,
    tfBackend,
    threads,
    capabilities,
    ops,
    createDenoiser(specInput: UNetSpec | UNetSpecInput, weights: NamedTensors, denoiserOptions: DenoiserOptions<tf.Tensor> = {}) {
      return (async () => {
        live.assertOpen();
        const { spec, architecture } = resolveDenoiserInputs(specInput, weights, denoiserOptions);
        activate();
        return live.track((onDispose) => createTfjsDenoiser(spec, architecture, weights, { name, ops, activate, onDispose }));
      })();
    },
    // tfjs engines are process-wide and may serve other backends: only this backend's models are released.
    dispose() {
      live.dispose();
    },
    [Symbol.dispose]() {
      backend.dispose();
    },
  };
  return backend;
}

/** Number of live tfjs tensors in the process (`tf.memory().numTensors`), e.g. for leak checks. */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}
