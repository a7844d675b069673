/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1):
 * Attention(Q, K, V) = softmax(Q Kᵀ / √d) V per head, where the C channels of each token are
 * split into H contiguous heads of d = C / H channels (diffusers' `head_to_batch_dim`).
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** softmax(q kᵀ / √d) v for q, k, v of shape [B, T, C], split into `heads` heads; returns [B, T, C]. */
export function softmaxAttentionReference(q: ReferenceTensor, k: ReferenceTensor, v: ReferenceTensor, heads: number): ReferenceTensor {
  if (q.shape.length !== 3 || q.shape.some((d, i) => d !== k.shape[i] || d !== v.shape[i])) {
    throw new LevelskipError('INVALID_SHAPE', 'attention needs q, k and v of the same shape [B, T, C]');
  }
  const [b, t, c] = q.shape as [number, number, number];
  if (c % heads !== 0) throw new LevelskipError('INVALID_SHAPE', `attention: ${heads} heads do not divide ${c} channels`);
  const d = c / heads;
  const scale = 1 / Math.sqrt(d);
  const out = referenceTensor([b, t, c]);
  const scores = new Float64Array(t);
  for (let n = 0; n < b; n++) {
    for (let head = 0; head < heads; head++) {
      const off = head * d;
      for (let i = 0; i < t; i++) {
        const qBase = (n * t + i) * c + off;
        let max = -Infinity;
        for (let j = 0; j < t; j++) {
          const kBase = (n * t + j) * c + off;
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q.data[qBase + e]! * k.data[kBase + e]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        // Subtracting the max leaves softmax unchanged and keeps exp finite.
        let total = 0;
        for (let j = 0; j < t; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          total += scores[j]!;
        }
        for (let j = 0; j < t; j++) {
          const p = scores[j]! / total;
          const vBase = (n * t + j) * c + off;
          for (let e = 0; e < d; e++) out.data[qBase + e]! += p * v.data[vBase + e]!;
        }
      }
    }
  }
  return out;
}
