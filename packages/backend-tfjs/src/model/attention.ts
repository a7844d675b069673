/**
 * The U-Net's self-attention block (diffusers `Attention` with group norm and a residual
 * connection) on NHWC tensors: tokens are the H·W pixels in row-major order, each head attends
 * with softmax(Q Kᵀ / √d) V (Vaswani et al. 2017, eq. 1) over d = C / heads contiguous channels.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttentionDescription } from '@levelskip/core';
import type { Layers } from './layers.js';

/** Splits [B, T, C] into heads: [B, heads, T, d]. */
function splitHeads(x: tf.Tensor2D, batch: number, tokens: number, heads: number): tf.Tensor4D {
  const d = x.shape[1] / heads;
  return x.reshape([batch, tokens, heads, d]).transpose([0, 2, 1, 3]);
}

/** x + to_out(attention(group_norm(x))) for NHWC `x`. */
export function attentionBlock(layers: Layers, a: AttentionDescription, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const t = h * w;
    const heads = a.heads;
    const d = c / heads;
    const tokens = layers.groupNorm(`${a.prefix}.group_norm`, x).reshape([b * t, c]) as tf.Tensor2D;
    const q = layers.linear(`${a.prefix}.to_q`, tokens);
    const k = layers.linear(`${a.prefix}.to_k`, tokens);
    const v = layers.linear(`${a.prefix}.to_v`, tokens);
    let mixed: tf.Tensor2D;
    if (heads === 1) {
      // Explicit transposes: matMul's transpose flags are slow on the wasm engine.
      const scores = tf.matMul(q.reshape([b, t, c]), k.reshape([b, t, c]).transpose([0, 2, 1]));
      const weights = tf.softmax(scores.mul(1 / Math.sqrt(d)));
      mixed = tf.matMul(weights, v.reshape([b, t, c])).reshape([b * t, c]);
    } else {
      const qh = splitHeads(q, b, t, heads).reshape([b * heads, t, d]);
      const kt = splitHeads(k, b, t, heads).transpose([0, 1, 3, 2]).reshape([b * heads, d, t]);
      const vh = splitHeads(v, b, t, heads).reshape([b * heads, t, d]);
      const weights = tf.softmax(tf.matMul(qh, kt).mul(1 / Math.sqrt(d)));
      mixed = tf
        .matMul(weights, vh)
        .reshape([b, heads, t, d])
        .transpose([0, 2, 1, 3])
        .reshape([b * t, c]);
    }
    return layers.linear(`${a.prefix}.to_out.0`, mixed).reshape([b, h, w, c]).add(x) as tf.Tensor4D;
  });
}
