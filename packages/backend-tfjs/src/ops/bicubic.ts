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
import { resizeMatrix } from '@levelskip/core';

/** The [outSize, inSize] bicubic interpolation matrix (row-major) of one axis, from core's taps. */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  return Float32Array.from(resizeMatrix(inSize, outSize, 'bicubic'));
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
