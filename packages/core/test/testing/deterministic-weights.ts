/**
 * Test helper: reproducible weights for any spec without depending on the library's RNG
 * (mulberry32 uniform draws, scaled by 1/√fan_in for kernels; norm scales near 1, biases near 0).
 */
import type { HostTensor } from '../../src/backend/tensor-ops.js';
import { parameterLayout } from '../../src/geometry/parameter-layout.js';
import type { UNetSpec } from '../../src/spec/unet-spec.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export function deterministicWeights(spec: UNetSpec, seed = 1): Map<string, HostTensor> {
  const next = mulberry32(seed);
  const symmetric = (): number => 2 * next() - 1;
  const weights = new Map<string, HostTensor>();
  for (const entry of parameterLayout(spec)) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const fanIn = entry.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      // Uniform(-√3, √3) / √fan_in has unit variance per fan-in, like the usual initialisers.
      if (entry.role === 'kernel') data[i] = (Math.sqrt(3) * symmetric()) / Math.sqrt(fanIn);
      else data[i] = (entry.role === 'norm-scale' ? 1 : 0) + 0.1 * symmetric();
    }
    weights.set(entry.name, { shape: entry.shape, data });
  }
  return weights;
}

/** Random float32 input data of a shape. */
export function deterministicData(size: number, seed = 7): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: size }, () => 2 * next() - 1);
}

