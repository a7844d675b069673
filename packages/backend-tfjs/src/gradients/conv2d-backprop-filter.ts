/**
 * Conv2DBackpropFilter for the tfjs wasm engine (which has none), computed as ONE forward
 * convolution so that it runs on XNNPACK's fast conv instead of a slow transposed matmul.
 *
 * For a forward NHWC conv y = conv(x, W) with stride s and leading pads (pT, pL):
 *
 *   dW[kh, kw, ci, co] = Σ_{b,i,j} x̃[b, s·i + kh − pT, s·j + kw − pL, ci] · dy[b, i, j, co]
 *
 * (x̃ = x extended by zeros). Renaming axes — batch ↔ channel on x (xᵀ = x.transpose([3,1,2,0]),
 * shape [Ci, H, W, B]) and dy as a filter (dy.transpose([1,2,0,3]), shape [Ho, Wo, B, Co]) — this
 * is exactly a stride-1 conv of xᵀ by dy with dilation s, whose output [Ci, kH, kW, Co] transposes
 * to dW. The stride of the forward conv becomes the dilation of the gradient conv, which tfjs
 * allows because that conv's own stride is 1. See Dumoulin & Visin (2016), "A guide to convolution
 * arithmetic for deep learning", §4, and the filter-gradient identity in tfjs-backend-cpu's
 * Conv2DBackpropFilter (the same sum, as a direct loop). A 1×1 stride-1 conv is the special case
 * dW = xᵀ·dy, done as one matMul.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { axisWindow, conv2DGeometry, convPadding, cropForWindows, type Tfjs } from './conv2d-geometry.js';
import { asTensor4D } from './kernel-tensors.js';

/**
 * Filter gradient of a dilation-1 conv2d, computed with public tfjs ops (one conv plus
 * transposes). Creates tensors; call it inside `tf.tidy`.
 *
 * @param x - forward input, NHWC or NCHW per `attrs.dataFormat`.
 * @param dy - gradient of the forward output, same layout.
 * @returns dW with shape `attrs.filterShape` (`[kH, kW, Ci, Co]`).
 */
export function conv2DFilterGradient(
  tf: Tfjs,
  x: tfjs.Tensor4D,
  dy: tfjs.Tensor4D,
  attrs: tfjs.Conv2DBackpropFilterAttrs,
): tfjs.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const g = conv2DGeometry(tf, x.shape, filterShape, strides, pad, dimRoundingMode, dataFormat);
  // The conv below needs NHWC; NCHW costs one transpose of each input.
  const xNhwc = dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
  const dyNhwc = dataFormat === 'NCHW' ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
  const [, outHeight, outWidth] = dyNhwc.shape;

  // Input rows read by any output row: [−pT, −pT + s·(Ho−1) + kH); the rest of x never meets dy.
  const rows = axisWindow(-g.padTop, g.strideHeight * (outHeight - 1) + g.filterHeight, g.inHeight);
  const cols = axisWindow(-g.padLeft, g.strideWidth * (outWidth - 1) + g.filterWidth, g.inWidth);
  if (rows.cropSize === 0 || cols.cropSize === 0 || outHeight === 0 || outWidth === 0) {
    return tf.zeros([...filterShape]);
  }
  const { cropped, pad: windowPad } = cropForWindows(tf, xNhwc, rows, cols);
  const unpadded = rows.padBefore + rows.padAfter + cols.padBefore + cols.padAfter === 0;
  if (g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && unpadded) {
    // 1×1, stride 1: dW = xᵀ·dy over all pixels. A plain matMul after an explicit transpose is
    // ~1.6× faster here than the conv form (whose "filter" dy must be repacked every call).
    const pixels = g.batch * outHeight * outWidth;
    const xRows = tf.transpose(tf.reshape(cropped, [pixels, g.inChannels]));
    return tf.reshape(tf.matMul(xRows, tf.reshape(dyNhwc, [pixels, g.outChannels])), [...filterShape]);
  }
  const xT = tf.transpose(cropped, [3, 1, 2, 0]);
  const dyAsFilter = tf.transpose(dyNhwc, [1, 2, 0, 3]);
  const dwT = tf.conv2d(xT, dyAsFilter, 1, convPadding(windowPad), 'NHWC', [g.strideHeight, g.strideWidth]);
  return tf.transpose(dwT, [1, 2, 0, 3]);
}

/**
 * The wasm `Conv2DBackpropFilter` kernel: {@link conv2DFilterGradient} with inputs `x`, `dy`.
 * Intermediates are disposed; the returned tensor is owned by the wasm backend.
 */
export function makeConv2DBackpropFilterKernel(tf: Tfjs): tfjs.KernelFunc {
  return ({ inputs, attrs }) =>
    tf.tidy(() => {
      const x = asTensor4D(tf, inputs['x'], 'x');
      const dy = asTensor4D(tf, inputs['dy'], 'dy');
      return conv2DFilterGradient(tf, x, dy, attrs as unknown as tfjs.Conv2DBackpropFilterAttrs);
    });
}
