/**
 * Random weights for a spec: fixtures, benchmarks and the start of training.
 * Kernels ~ N(0, gain² / fan_in), norm scales 1, shifts and biases 0. Deterministic per seed.
 */
import { parameterLayout } from '../geometry/parameter-layout.js';
import { SeededRng } from '../random/seeded-rng.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';

export interface RandomWeightOptions {
  readonly seed?: number;
  /** Multiplies every kernel's standard deviation (default 1). */
  readonly gain?: number;
  /** Standard deviation of biases and norm parameters around their defaults (default 0). Non-zero makes fixtures exercise them. */
  readonly jitter?: number;
}

export function randomWeights(spec: UNetSpec, options: RandomWeightOptions = {}): NamedTensors {
  const rng = new SeededRng(options.seed ?? 0);
  const gain = options.gain ?? 1;
  const jitter = options.jitter ?? 0;
  const weights = new Map<string, HostTensor>();
  for (const entry of parameterLayout(spec)) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (entry.role === 'kernel') {
      const fanIn = entry.shape.slice(1).reduce((a, b) => a * b, 1);
      data = rng.normal(size);
      const std = gain / Math.sqrt(fanIn);
      for (let i = 0; i < size; i++) data[i]! *= std;
    } else {
      data = jitter > 0 ? rng.normal(size) : new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = data[i]! * jitter + (entry.role === 'norm-scale' ? 1 : 0);
    }
    weights.set(entry.name, { shape: entry.shape, data });
  }
  return weights;
}
