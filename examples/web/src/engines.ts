/**
 * The engines the page offers, each a way to build a levelskip backend in the browser. Which of
 * them start is found out at run time (`probeEngines`): only those are offered, and the page says
 * why each other one did not start.
 */
import * as ort from 'onnxruntime-web';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import type { Backend } from '@levelskip/core';

export type EngineId = 'onnx-webgpu' | 'onnx-wasm' | 'tfjs-webgpu' | 'tfjs-webgl' | 'tfjs-wasm';

export interface EngineChoice {
  readonly id: EngineId;
  readonly label: string;
  readonly create: () => Promise<Backend<unknown> & { dispose(): void }>;
}

/** Where the build put the runtimes' .wasm files (beside the page). */
const assetUrl = (path: string): string => new URL(path, document.baseURI).href;

ort.env.wasm.wasmPaths = assetUrl('ort/');

/**
 * `?threads=N` pins the wasm engines' thread count (ORT-web's numThreads, tfjs-wasm's
 * wasmThreads), e.g. `?threads=1` to compare with the multi-threaded default of a cross-origin
 * isolated page. Without it each backend picks its own default.
 */
const threadsParameter = Number(new URLSearchParams(location.search).get('threads') ?? Number.NaN);
const wasmThreads = Number.isInteger(threadsParameter) && threadsParameter >= 1 ? threadsParameter : undefined;
if (wasmThreads !== undefined) ort.env.wasm.numThreads = wasmThreads;

export const engineChoices: readonly EngineChoice[] = [
  { id: 'onnx-wasm', label: 'ONNX Runtime Web · wasm', create: () => createOnnxBackend({ ort, executionProviders: ['wasm'] }) as never },
  { id: 'onnx-webgpu', label: 'ONNX Runtime Web · WebGPU', create: () => createOnnxBackend({ ort, executionProviders: ['webgpu'] }) as never },
  { id: 'tfjs-wasm', label: 'TensorFlow.js · wasm', create: () => createTfjsBackend({ engine: 'wasm', wasmPaths: assetUrl('tfjs/'), ...(wasmThreads === undefined ? {} : { wasmThreads }) }) as never },
  { id: 'tfjs-webgl', label: 'TensorFlow.js · WebGL', create: () => createTfjsBackend({ engine: 'webgl' }) as never },
  { id: 'tfjs-webgpu', label: 'TensorFlow.js · WebGPU', create: () => createTfjsBackend({ engine: 'webgpu' }) as never },
];

/** One engine's start-up outcome. */
export interface EngineProbe {
  readonly id: EngineId;
  readonly label: string;
  readonly ok: boolean;
  /** Why it did not start (the backend's own error message). */
  readonly reason?: string;
  /** Threads the engine runs on, where it says (the wasm engines). */
  readonly threads?: number;
}

function threadsOf(backend: unknown): number | undefined {
  const b = backend as { threads?: number; intraOpNumThreads?: number };
  return b.threads ?? (b.intraOpNumThreads === 0 ? undefined : b.intraOpNumThreads);
}

/** Starts (and disposes) each engine once, to learn which ones this browser has. */
export async function probeEngines(): Promise<EngineProbe[]> {
  const probes: EngineProbe[] = [];
  for (const choice of engineChoices) {
    try {
      const backend = await choice.create();
      const threads = threadsOf(backend);
      backend.dispose();
      probes.push({ id: choice.id, label: choice.label, ok: true, ...(threads === undefined ? {} : { threads }) });
    } catch (error) {
      probes.push({ id: choice.id, label: choice.label, ok: false, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return probes;
}
