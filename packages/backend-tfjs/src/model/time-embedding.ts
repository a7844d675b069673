/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017 §3.5; Ho et al. 2020), exactly as diffusers'
 * `get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift, max_period = 10000)`:
 * half = dim / 2, ω_i = exp(−ln(10000) · i / (half − shift)), emb = [sin(t ω), cos(t ω)]
 * (or [cos, sin] when flipped). Computed on the host in float64: it is B × dim numbers.
 */
import * as tf from '@tensorflow/tfjs';

export interface SinusoidalEmbeddingOptions {
  readonly flipSinToCos: boolean;
  readonly freqShift: number;
  readonly maxPeriod?: number;
}

/** The [B, dim] embedding of `timesteps`, row-major. */
export function sinusoidalEmbedding(timesteps: readonly number[], dim: number, options: SinusoidalEmbeddingOptions): Float32Array {
  const half = dim / 2;
  const maxPeriod = options.maxPeriod ?? 10000;
  const out = new Float32Array(timesteps.length * dim);
  timesteps.forEach((t, b) => {
    for (let i = 0; i < half; i++) {
      const e = t * Math.exp((-Math.log(maxPeriod) * i) / (half - options.freqShift));
      const [first, second] = options.flipSinToCos ? [Math.cos(e), Math.sin(e)] : [Math.sin(e), Math.cos(e)];
      out[b * dim + i] = first;
      out[b * dim + half + i] = second;
    }
  });
  return out;
}

/** `sinusoidalEmbedding` as a [B, dim] tensor. */
export function sinusoidalEmbeddingTensor(timesteps: readonly number[], dim: number, options: SinusoidalEmbeddingOptions): tf.Tensor2D {
  return tf.tensor2d(sinusoidalEmbedding(timesteps, dim, options), [timesteps.length, dim], 'float32');
}
