/**
 * Group normalisation (Wu & He 2018; PyTorch `nn.GroupNorm`): the C channels are split into
 * G contiguous groups; each (sample, group) is normalised by its mean and biased variance
 * over channels × spatial positions, then scaled and shifted per channel:
 * y = (x − μ) / √(σ² + ε) · γ_c + β_c.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { shapeSize } from '../../backend/tensor-ops.js';
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** GroupNorm of an [N, C, ...] tensor with affine `gamma`/`beta` of shape [C]. */
export function groupNormReference(
  x: ReferenceTensor,
  groups: number,
  gamma: ReferenceTensor,
  beta: ReferenceTensor,
  eps: number,
): ReferenceTensor {
  if (x.shape.length < 2) throw new LevelskipError('INVALID_SHAPE', `group norm needs [N, C, ...], got [${x.shape.join(', ')}]`);
  const [n, c] = x.shape as [number, number];
  if (c % groups !== 0) throw new LevelskipError('INVALID_SHAPE', `group norm: ${groups} groups do not divide ${c} channels`);
  if (gamma.data.length !== c || beta.data.length !== c) {
    throw new LevelskipError('INVALID_SHAPE', `group norm affine parameters must have ${c} entries`);
  }
  const spatial = shapeSize(x.shape.slice(2));
  const perGroup = c / groups;
  const count = perGroup * spatial;
  const out = referenceTensor(x.shape);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * perGroup) * spatial;
      let mean = 0;
      for (let i = 0; i < count; i++) mean += x.data[start + i]!;
      mean /= count;
      let variance = 0;
      for (let i = 0; i < count; i++) variance += (x.data[start + i]! - mean) ** 2;
      variance /= count;
      const inv = 1 / Math.sqrt(variance + eps);
      for (let ch = 0; ch < perGroup; ch++) {
        const channel = g * perGroup + ch;
        const scale = gamma.data[channel]! * inv;
        const shift = beta.data[channel]!;
        const base = start + ch * spatial;
        for (let s = 0; s < spatial; s++) out.data[base + s] = (x.data[base + s]! - mean) * scale + shift;
      }
    }
  }
  return out;
}
