/**
 * Filter rearrangements for the transposed-convolution form of Conv2DBackpropInput
 * (see conv2d-backprop-input.ts for the equations), done on the host.
 *
 * Why on the host: the filter is small next to the activations, and wasm's Reverse and rank-6
 * Transpose kernels are slow (measured: 0.3 ms to reverse a 3×3×32×32 filter, 1 ms for a rank-6
 * transpose of 16K floats), while reading wasm memory and permuting in JS takes ~0.02 ms.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { Tfjs } from './conv2d-geometry.js';

/**
 * `reverse(W, [0, 1]).transpose([0, 1, 3, 2])`: the spatially flipped filter with in/out channels
 * swapped, `[kH, kW, Co, Ci]`.
 */
export function flippedFilter(tf: Tfjs, filter: tfjs.Tensor4D): tfjs.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const src = filter.dataSync() as Float32Array;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const from = ((kh - 1 - y) * kw + (kw - 1 - x)) * ci * co;
      const to = (y * kw + x) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) out[to + o * ci + i] = src[from + i * co + o] as number;
      }
    }
  }
  return tf.tensor4d(out, [kh, kw, co, ci]);
}

/**
 * The sub-pixel phase filter for equal strides `s`: `[T_h, T_w, Co, s·s·Ci]` with
 * `F[u, v, co, (φy·s + φx)·Ci + ci] = W[φy + s·(T_h − 1 − u), φx + s·(T_w − 1 − v), ci, co]`
 * (zero where the tap index passes the kernel), `T = ⌈k / s⌉`.
 */
export function phaseFilter(tf: Tfjs, filter: tfjs.Tensor4D, s: number): tfjs.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const th = Math.ceil(kh / s);
  const tw = Math.ceil(kw / s);
  const depth = s * s * ci;
  const src = filter.dataSync() as Float32Array;
  const out = new Float32Array(th * tw * co * depth);
  for (let u = 0; u < th; u++) {
    for (let py = 0; py < s; py++) {
      const y = py + s * (th - 1 - u);
      if (y >= kh) continue;
      for (let v = 0; v < tw; v++) {
        for (let px = 0; px < s; px++) {
          const x = px + s * (tw - 1 - v);
          if (x >= kw) continue;
          const from = (y * kw + x) * ci * co;
          const to = (u * tw + v) * co * depth + (py * s + px) * ci;
          for (let i = 0; i < ci; i++) {
            for (let o = 0; o < co; o++) out[to + o * depth + i] = src[from + i * co + o] as number;
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [th, tw, co, depth]);
}
