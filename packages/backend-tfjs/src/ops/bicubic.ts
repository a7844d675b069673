/**
 * Bicubic resizing with PyTorch's convention (`F.interpolate(mode='bicubic', align_corners=False)`,
 * equal to ONNX Resize's cubic defaults), which tfjs does not provide:
 * Keys' cubic convolution (R. Keys, "Cubic convolution interpolation for digital image
 * processing", 1981) with a = −0.75, the half-pixel source coordinate
 * x_src = (x_dst + 0.5) · in / out − 0.5, no antialiasing (also when shrinking), and taps
 * outside the image clamped to the border pixel.
 *
 * The resize is separable and linear, so each axis is one [out, in] interpolation matrix, built
 * on the host and applied with a batched matMul (plain matMuls, which tfjs can differentiate).
 */
import * as tf from '@tensorflow/tfjs';

/** PyTorch's cubic-convolution coefficient. */
export const bicubicA = -0.75;

/**
 * Keys' cubic kernel W(s): (a+2)|s|³ − (a+3)|s|² + 1 for |s| ≤ 1,
 * a|s|³ − 5a|s|² + 8a|s| − 4a for 1 < |s| < 2, else 0.
 */
export function cubicConvolutionWeight(s: number, a: number = bicubicA): number {
  const x = Math.abs(s);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/**
 * The [outSize, inSize] matrix M (row-major) with resized = M · input along one axis:
 * row d holds the four tap weights W(t + 1), W(t), W(1 − t), W(2 − t) at source indices
 * i0 − 1 .. i0 + 2 (clamped), where i0 = ⌊x_src⌋ and t = x_src − i0.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = (d + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    for (let o = -1; o <= 2; o++) {
      const index = Math.min(Math.max(i0 + o, 0), inSize - 1);
      // Clamped taps land on the same border pixel, so their weights add up.
      m[d * inSize + index]! += cubicConvolutionWeight(t - o);
    }
  }
  return Float32Array.from(m);
}

/** Applies the [out, in] `matrix` to axis 1 of `x` viewed as [batch, in, rest]: [batch, out, rest]. */
function applyAlongAxis1(x: tf.Tensor3D, matrix: tf.Tensor2D): tf.Tensor3D {
  const [batch] = x.shape;
  // An explicitly tiled matrix keeps the matMul unbroadcast (simpler gradients on every engine).
  const tiled = tf.tile(matrix.expandDims(0), [batch, 1, 1]) as tf.Tensor3D;
  return tf.matMul(tiled, x);
}

/** Bicubic resize of an NHWC tensor to height × width (PyTorch convention; see the file header). */
export function resizeBicubic(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    let out: tf.Tensor4D = x;
    if (height !== h) {
      const rows = tf.tensor2d(bicubicMatrix(h, height), [height, h]);
      out = applyAlongAxis1(out.reshape([n, h, w * c]), rows).reshape([n, height, w, c]);
    }
    if (width !== w) {
      const columns = tf.tensor2d(bicubicMatrix(w, width), [width, w]);
      out = applyAlongAxis1(out.reshape([n * height, w, c]), columns).reshape([n, height, width, c]);
    }
    // tidy must return a new tensor, never the caller's input.
    return out === x ? x.clone() : out;
  });
}
