/**
 * Test harness for the wasm gradient kernels: both tfjs engines (wasm, cpu) in one process,
 * host-side data so each engine gets identical inputs, and a relative max-norm comparison.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { tf };

let ready: Promise<void> | undefined;

/** Points the wasm engine at its .wasm files and initialises both engines once. */
export function initEngines(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    await tf.setBackend('cpu');
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

/** Host copy of a tensor. */
export interface HostArray {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Runs `f` on engine `backend` and copies its tensor results to the host (no leaks). */
export async function onEngine(backend: 'wasm' | 'cpu', f: () => tf.Tensor[]): Promise<HostArray[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  // Read outside tidy: returning typed arrays from tidy makes it walk every element.
  const host = out.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose(out);
  return host;
}

/** Deterministic uniform floats in [-1, 1) (mulberry32), so failures reproduce. */
export function seededFloats(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function relativeMaxError(actual: HostArray, expected: HostArray): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`shape [${actual.shape.join(', ')}] differs from expected [${expected.shape.join(', ')}]`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.data.length; i++) {
    diff = Math.max(diff, Math.abs((actual.data[i] ?? NaN) - (expected.data[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(expected.data[i] ?? NaN));
  }
  if (Number.isNaN(diff)) return Infinity;
  return scale === 0 ? diff : diff / scale;
}
