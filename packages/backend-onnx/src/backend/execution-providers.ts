/**
 * Choosing an onnxruntime execution provider: each requested provider is tried in order by
 * opening a one-node session on it; the first that opens is used. When none does, the error
 * lists every provider with its failure (in the spirit of onnxruntime-common's backend resolver,
 * which reports each backend it could not initialise). Only the providers asked for are tried:
 * the default list is the CPU alone, so a default run never loads GPU libraries.
 *
 * Failures read as what is missing, not as onnxruntime's native messages (source paths, C++
 * lambdas, assertion text); those stay in `cause`. A provider the environment knows cannot start
 * (`ProviderPrecheck`, e.g. WebGPU on Linux without a Vulkan loader) is not probed at all: its
 * native library would print warnings to stderr that no log level silences.
 */
import type * as ortCommon from 'onnxruntime-common';
import { LevelskipError } from '@levelskip/core';
import { GraphBuilder } from '../graph/graph-builder.js';
import type { OnnxRuntime, OnnxRuntimeName } from '../runtime/onnx-runtime.js';

/**
 * Execution providers of the two runtimes. onnxruntime-node: `cuda`/`tensorrt` need the CUDA
 * extras, `webgpu` a GPU adapter, `dml` Windows, `coreml` macOS. onnxruntime-web: `wasm` (the CPU),
 * `webgpu`, `webnn`; `cpu` is accepted there and means `wasm`.
 */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu' | 'tensorrt' | 'dml' | 'coreml' | 'wasm' | 'webnn';

/** onnxruntime-node's execution providers. */
export const executionProviders: readonly ExecutionProvider[] = Object.freeze(['cpu', 'cuda', 'webgpu', 'tensorrt', 'dml', 'coreml'] as const);

/** onnxruntime-web's execution providers (`cpu` is accepted too, as `wasm`). */
export const webExecutionProviders: readonly ExecutionProvider[] = Object.freeze(['wasm', 'webgpu', 'webnn'] as const);

/** onnxruntime's graph optimization levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface ProviderFailure {
  readonly provider: string;
  readonly reason: string;
  /** The error the probe threw, non-enumerable (absent when a precheck ruled the provider out). */
  readonly error?: unknown;
}

/**
 * Says, without loading anything, why `provider` cannot start on runtime `name` here (a missing
 * system library), or `undefined` to probe it. Node's entry checks for the Vulkan loader that
 * onnxruntime-node's WebGPU (Dawn) needs on Linux.
 */
export type ProviderPrecheck = (name: OnnxRuntimeName, provider: string) => string | undefined;

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

/**
 * onnxruntime's message without its native framing: the source location
 * (`/onnxruntime_src/…/webgpu_context.cc:136`), the C++ function and the assertion that failed
 * (`… adapter_result.status == … was false.`), the `[ONNXRuntimeError] : 1 : FAIL :` prefix.
 */
export function nativeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  let text = (message.split('\n')[0] ?? message).trim();
  text = text.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/, '');
  const assertion = /\bwas false\.\s*(\S.*)$/.exec(text);
  if (assertion?.[1] !== undefined) return assertion[1].trim();
  const located = /^\S+\.(?:cc|cpp|c|h|hpp|mm):\d+\s+(.*)$/.exec(text);
  if (located?.[1] === undefined) return text;
  text = located[1];
  // A C++ function (`onnxruntime::Foo::Bar(const X&)`) follows the location: skip to the first space outside brackets.
  if (/^[\w~]+::/.test(text)) {
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '(' || c === '<' || c === '[') depth++;
      else if (c === ')' || c === '>' || c === ']') depth = Math.max(0, depth - 1);
      else if (c === ' ' && depth === 0) return text.slice(i + 1).trim();
    }
  }
  return text.trim();
}

/** Why `provider` failed, in words a user can act on; onnxruntime's own message where it is not a known case. */
export function providerFailureReason(provider: string, error: unknown): string {
  const text = nativeMessage(error);
  if ((provider === 'cuda' || provider === 'tensorrt') && /fail(?:ed)? to load (?:shared )?library|cannot open shared object/i.test(text)) {
    const what = provider === 'cuda' ? 'CUDA' : 'TensorRT';
    return `onnxruntime-node's ${what} provider libraries are not installed or cannot load (they need CUDA 12${provider === 'tensorrt' ? ', cuDNN 9 and TensorRT' : ' and cuDNN 9'})`;
  }
  if (provider === 'webgpu' && /WebGPU adapter/i.test(text)) {
    return 'no WebGPU adapter: no GPU (or GPU driver) that WebGPU can use was found';
  }
  if (/not (?:a )?(?:supported|registered)|unknown (?:execution )?provider|is not available/i.test(text) && text.length < 200) return text;
  return text.slice(0, 300);
}

/**
 * The provider list to try on runtime `name`: `requested` checked, `cpu` read as `wasm` on
 * onnxruntime-web (its CPU provider), duplicates dropped. Default: `['cpu']`, on onnxruntime-web
 * `['wasm']`.
 *
 * @throws LevelskipError `INVALID_OPTION` for anything but a non-empty list of provider names.
 */
export function resolveExecutionProviders(name: OnnxRuntimeName, requested: readonly string[] | undefined): string[] {
  const web = name === 'onnxruntime-web';
  if (requested === undefined) return [web ? 'wasm' : 'cpu'];
  if (!Array.isArray(requested) || requested.length === 0 || requested.some((p) => typeof p !== 'string' || p.length === 0)) {
    const example = web ? "['webgpu', 'wasm']" : "['cuda', 'cpu']";
    throw new LevelskipError('INVALID_OPTION', `executionProviders must be a non-empty list of provider names such as ${example}, got ${JSON.stringify(requested)}`);
  }
  return [...new Set(requested.map((p) => (web && p === 'cpu' ? 'wasm' : p)))];
}

function fallbackAdvice(ort: OnnxRuntime, name: OnnxRuntimeName): string {
  switch (name) {
    case 'onnxruntime-node': {
      const supported = (ort.listSupportedBackends?.() ?? []).map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ');
      return (
        `This onnxruntime-node build lists ${supported}. Add 'cpu' to executionProviders to fall back to the CPU, ` +
        "or for CUDA reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (see @levelskip/backend-onnx's README)."
      );
    }
    case 'onnxruntime-web':
      return (
        "Add 'wasm' to executionProviders to fall back to WebAssembly on the CPU. 'webgpu' needs a browser with WebGPU " +
        "(navigator.gpu), 'webnn' one with WebNN; neither exists in onnxruntime-web's Node.js build."
      );
    case 'onnxruntime':
      return "Add 'cpu' to executionProviders to fall back to the CPU.";
  }
}

/**
 * The first provider of `providers` (default: see `resolveExecutionProviders`) on which a
 * one-node session of `ort` opens and runs. `name` is `onnxRuntimeName(ort)`.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` naming each provider and why it failed (also in
 *   `cause` as `ProviderFailure[]`); `INVALID_OPTION` for an empty or malformed list.
 */
export async function selectExecutionProvider(
  ort: OnnxRuntime,
  name: OnnxRuntimeName,
  providers: readonly string[] | undefined,
  sessionOptions: ortCommon.InferenceSession.SessionOptions = {},
  precheck?: ProviderPrecheck,
): Promise<string> {
  const candidates = resolveExecutionProviders(name, providers);
  const failures: ProviderFailure[] = [];
  for (const provider of candidates) {
    const missing = precheck?.(name, provider);
    if (missing !== undefined) {
      failures.push({ provider, reason: missing });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(probeModel(), { ...sessionOptions, executionProviders: [provider] });
      try {
        const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
        await session.run({ x });
      } finally {
        await session.release();
      }
      return provider;
    } catch (error) {
      // The native error rides along non-enumerable: at hand for debugging, out of JSON and equality checks.
      failures.push(Object.defineProperty({ provider, reason: providerFailureReason(provider, error) }, 'error', { value: error, enumerable: false }));
    }
  }
  throw new LevelskipError(
    'BACKEND_UNAVAILABLE',
    `no ${name} execution provider could start: ${failures.map((f) => `${f.provider}: ${f.reason}`).join('; ')}. ${fallbackAdvice(ort, name)}`,
    { cause: failures },
  );
}
