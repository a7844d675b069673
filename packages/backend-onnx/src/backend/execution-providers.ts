/**
 * Choosing an onnxruntime execution provider: each requested provider is tried in order by
 * opening a one-node session on it; the first that opens is used. When none does, the error
 * lists every provider with its failure (in the spirit of onnxruntime-common's backend resolver,
 * which reports each backend it could not initialise).
 */
import * as ort from 'onnxruntime-node';
import { LevelskipError } from '@levelskip/core';
import { GraphBuilder } from '../graph/graph-builder.js';

/** Execution providers onnxruntime-node knows. `cuda`/`tensorrt` need the CUDA extras, `webgpu` a GPU adapter. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu' | 'tensorrt' | 'dml' | 'coreml';

export const executionProviders: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu', 'tensorrt', 'dml', 'coreml'];

/** onnxruntime's graph optimization levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface ProviderFailure {
  readonly provider: string;
  readonly reason: string;
}

let probeGraph: Uint8Array | undefined;

function probeModel(): Uint8Array {
  if (probeGraph === undefined) {
    const g = new GraphBuilder('levelskip-probe');
    const x = g.input('x', 'float32', [1, 4]);
    g.output(g.op('Add', [x, x]), 'y', 'float32', [1, 4]);
    probeGraph = g.encode();
  }
  return probeGraph;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // onnxruntime prefixes messages with source locations; keep the first line, trimmed.
  return (message.split('\n')[0] ?? message).trim().slice(0, 300);
}

/**
 * The first provider of `providers` on which a session opens and runs.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming each provider and why it failed.
 */
export async function selectExecutionProvider(providers: readonly string[], sessionOptions: ort.InferenceSession.SessionOptions = {}): Promise<string> {
  if (!Array.isArray(providers) || providers.length === 0 || providers.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new LevelskipError('INVALID_OPTION', `executionProviders must be a non-empty list of provider names such as ['cuda', 'cpu'], got ${JSON.stringify(providers)}`);
  }
  const failures: ProviderFailure[] = [];
  for (const provider of providers) {
    try {
      // Fatal-only logging: a failing probe is expected and reported through our error instead.
      const session = await ort.InferenceSession.create(probeModel(), { ...sessionOptions, executionProviders: [provider], logSeverityLevel: 4 });
      try {
        const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
        await session.run({ x });
      } finally {
        await session.release();
      }
      return provider;
    } catch (error) {
      failures.push({ provider, reason: reasonOf(error) });
    }
  }
  const supported = ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ');
  throw new LevelskipError(
    'BACKEND_UNAVAILABLE',
    `no onnxruntime execution provider could start: ${failures.map((f) => `${f.provider}: ${f.reason}`).join('; ')}. ` +
      `This onnxruntime-node build lists ${supported}. Add 'cpu' to executionProviders to fall back to the CPU, ` +
      "or for CUDA reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 (see @levelskip/backend-onnx's README).",
    { cause: failures },
  );
}
