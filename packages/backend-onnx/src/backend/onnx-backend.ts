/**
 * `createOnnxBackend`: core's `Backend` on onnxruntime-node. Each denoiser compiles the U-Net to
 * ONNX graphs (one per decoder stage, depth k and fill) and runs them on the first execution
 * provider of the requested list that starts.
 */
import { availableParallelism } from 'node:os';
import type * as ort from 'onnxruntime-node';
import {
  LevelskipError,
  checkDenoiserInputs,
  specificationVersion,
  type Backend,
  type BackendCapabilities,
  type DenoiserOptions,
  type NamedTensors,
  type UNetSpec,
  type UNetSpecInput,
} from '@levelskip/core';
import { createOnnxTensorOps } from '../ops/onnx-tensor-ops.js';
import { selectExecutionProvider, type GraphOptimizationLevel } from './execution-providers.js';
import { createOnnxDenoiser, type OnnxDenoiser } from './onnx-denoiser.js';

export interface OnnxBackendOptions {
  /**
   * Execution providers to try, in order (default `['cpu']`), e.g. `['cuda', 'webgpu', 'cpu']`.
   * The first that opens a session is used for every graph.
   */
  readonly executionProviders?: readonly string[];
  /**
   * Threads onnxruntime uses inside one operator. Default: the CPUs Node.js reports
   * (`os.availableParallelism()`); 0 leaves the choice to onnxruntime, whose own default counts
   * physical cores and can find one where there are more: on this project's 2-core VM it ran
   * one thread, and mnistSmall at batch 50 took 193 ms per prediction against 126 ms with 2.
   */
  readonly intraOpNumThreads?: number;
  /** onnxruntime graph optimizations (default `all`). */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Let onnxruntime's idle worker threads spin-wait for the next run (default `false`).
   *
   * A denoiser holds one session per depth k, and every onnxruntime session has its own thread
   * pool. With spinning on, the pool of the session that ran the last step keeps its threads busy
   * while the next step's session runs, so a schedule that alternates depths fights itself for
   * the cores: mnistSmall, batch 1, DDIM-50 on 2 cores took 158 ms at c = 2 against 150 ms at
   * c = 0 with spinning, and 77 ms against 135 ms without (at batch 16: 893 / 1,559 ms with,
   * 894 / 1,418 ms without). Turn it on only for a single depth with many short runs.
   */
  readonly allowSpinning?: boolean;
}

/** A levelskip backend on onnxruntime. Tensors are float32 CPU `ort.Tensor`s, NCHW. */
export interface OnnxBackend extends Backend<ort.Tensor> {
  /** The execution provider in use, e.g. `cpu` or `cuda`. */
  readonly executionProvider: string;
  /** The intra-op threads each session was given (0: onnxruntime's own choice). */
  readonly intraOpNumThreads: number;
  createDenoiser(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options?: DenoiserOptions<ort.Tensor>): Promise<OnnxDenoiser>;
}

const optimizationLevels: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

function sessionOptionsOf(options: OnnxBackendOptions): ort.InferenceSession.SessionOptions {
  const { intraOpNumThreads, graphOptimizationLevel, allowSpinning = false } = options;
  if (intraOpNumThreads !== undefined && (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 0)) {
    throw new LevelskipError('INVALID_OPTION', `intraOpNumThreads must be a non-negative integer (0 = onnxruntime's default), got ${intraOpNumThreads}`);
  }
  if (graphOptimizationLevel !== undefined && !optimizationLevels.includes(graphOptimizationLevel)) {
    throw new LevelskipError('INVALID_OPTION', `graphOptimizationLevel must be one of ${optimizationLevels.join(', ')}, got ${String(graphOptimizationLevel)}`);
  }
  if (typeof allowSpinning !== 'boolean') throw new LevelskipError('INVALID_OPTION', `allowSpinning must be true or false, got ${String(allowSpinning)}`);
  const spinning = allowSpinning ? '1' : '0';
  const threads = intraOpNumThreads ?? availableParallelism();
  return {
    graphOptimizationLevel: graphOptimizationLevel ?? 'all',
    ...(threads === 0 ? {} : { intraOpNumThreads: threads }),
    logSeverityLevel: 3,
    // onnxruntime's session config keys session.intra_op.allow_spinning / session.inter_op.allow_spinning.
    extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
  };
}

/**
 * Creates an onnxruntime backend, trying `options.executionProviders` in order.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when no provider starts, listing each provider's failure;
 *   `INVALID_OPTION` for malformed options.
 *
 * @example
 * const backend = await createOnnxBackend({ executionProviders: ['cuda', 'cpu'] });
 * const denoiser = await backend.createDenoiser(spec, weights);
 */
export async function createOnnxBackend(options: OnnxBackendOptions = {}): Promise<OnnxBackend> {
  const base = sessionOptionsOf(options);
  const provider = await selectExecutionProvider(options.executionProviders ?? ['cpu'], base);
  const sessionOptions: ort.InferenceSession.SessionOptions = { ...base, executionProviders: [provider] };
  const name = `onnx-${provider}`;
  const ops = createOnnxTensorOps(name);
  const capabilities: BackendCapabilities = Object.freeze({
    fusedFills: Object.freeze(['zero', 'duplicate', 'interpolate'] as const),
    customFills: true,
    training: false,
    devices: Object.freeze([provider]),
  });
  const live = new Set<OnnxDenoiser>();
  let disposed = false;
  return {
    specificationVersion,
    name,
    executionProvider: provider,
    intraOpNumThreads: base.intraOpNumThreads ?? 0,
    capabilities,
    ops,
    createDenoiser(specInput: UNetSpec | UNetSpecInput, weights: NamedTensors, denoiserOptions: DenoiserOptions<ort.Tensor> = {}) {
      return (async () => {
        if (disposed) throw new LevelskipError('DISPOSED', 'this backend has been disposed; create a new one with createOnnxBackend()');
        const spec = checkDenoiserInputs(specInput, weights, denoiserOptions);
        const denoiser = createOnnxDenoiser(spec, weights, { name, ops, sessionOptions, onDispose: () => live.delete(denoiser) });
        live.add(denoiser);
        return denoiser;
      })();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const denoiser of [...live]) denoiser.dispose();
    },
  };
}
