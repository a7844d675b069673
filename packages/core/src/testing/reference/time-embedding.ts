/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017 §3.5; Ho et al. 2020), exactly as
 * diffusers' `get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift, max_period = 10000)`:
 * half = dim / 2, ω_i = exp(−ln(10000) · i / (half − shift)), emb = [sin(t ω), cos(t ω)]
 * (or [cos, sin] when flipped).
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

export interface TimestepEmbeddingOptions {
  readonly flipSinToCos: boolean;
  readonly freqShift: number;
  readonly maxPeriod?: number;
}

/** [B, dim] sinusoidal embedding of `timesteps` (dim must be even). */
export function timestepEmbeddingReference(timesteps: readonly number[], dim: number, options: TimestepEmbeddingOptions): ReferenceTensor {
  if (dim % 2 !== 0) throw new LevelskipError('INVALID_SHAPE', `the sinusoidal embedding width must be even, got ${dim}`);
  const half = dim / 2;
  const maxPeriod = options.maxPeriod ?? 10000;
  const out = referenceTensor([timesteps.length, dim]);
  timesteps.forEach((t, b) => {
    for (let i = 0; i < half; i++) {
      const e = t * Math.exp((-Math.log(maxPeriod) * i) / (half - options.freqShift));
      const [first, second] = options.flipSinToCos ? [Math.cos(e), Math.sin(e)] : [Math.sin(e), Math.cos(e)];
      out.data[b * dim + i] = first;
      out.data[b * dim + half + i] = second;
    }
  });
  return out;
}
