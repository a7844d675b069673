/**
 * Conv2DBackpropInput for the tfjs wasm engine, computed as ONE forward convolution.
 *
 * wasm's own Conv2DBackpropInput is a generic loop (~3 GFLOP/s); its forward Conv2D is XNNPACK
 * (~30 GFLOP/s). The input gradient of a conv is itself a conv (Dumoulin & Visin, "A guide to
 * convolution arithmetic for deep learning", 2016, §4, "transposed convolution"). For a forward
 * conv with stride s, kernel k and leading pad p (per axis, shown for rows):
 *
 *   dx[r] = Σ_{i,kh : s·i + kh − p = r} dy[i] · W[kh]                                   (1)
 *
 * Stride 1: substituting kh → k − 1 − kh makes (1) a stride-1 correlation of dy, zero-padded by
 * k − 1 − p on top, with the spatially reversed filter whose in/out channels are swapped
 * (`reverse(W, [0, 1]).transpose([0, 1, 3, 2])`); it matches the native kernel to float rounding.
 *
 * Stride s > 1, equal on both axes — sub-pixel form (Shi et al., "Real-Time Single Image and
 * Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016:
 * a stride-s transposed conv equals a stride-1 conv with s² output phases followed by a periodic
 * shuffle). Writing r + p = s·q + φ with phase φ ∈ [0, s), the taps with
 * kh ≡ φ (mod s), kh = φ + s·t, give
 *
 *   dx[s·q + φ − p] = Σ_{t=0}^{T−1} dy[q − t] · W[φ + s·t],   T = ⌈k / s⌉ (W = 0 past k)   (2)
 *
 * i.e. ONE low-resolution correlation of dy (top pad T − 1) with the filter
 * F[T−1−t, ·, co, (φy·s + φx)·Ci + ci] = W[φy + s·t, ·, ci, co] (filter-layouts.ts), then a
 * depth-to-space shuffle and a crop of p rows. Per dx pixel it does T² multiply-adds per channel
 * pair where convolving dy with zeros inserted would do k² (k = 3, s = 2: 4 vs 9; 2.25 needed).
 *
 * Unequal strides use that zero insertion (dy with s − 1 zeros between neighbours, then the
 * stride-1 form), and only while s_h·s_w ≤ {@link MAX_STRIDE_AREA}; beyond, the native kernel.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { axisWindow, conv2DGeometry, convPadding, cropForWindows, type Conv2DGeometry, type Tfjs } from './conv2d-geometry.js';
import { flippedFilter, phaseFilter } from './filter-layouts.js';
import { asTensor4D } from './kernel-tensors.js';

/**
 * Inserts `strideHeight − 1` zero rows after every row of `dy` (and likewise for columns), so
 * element (i, j) lands at (s·i, s·j). The trailing zeros are harmless: the gradient conv reads
 * dy as zero-extended anyway.
 */
function dilateWithZeros(tf: Tfjs, dy: tfjs.Tensor4D, strideHeight: number, strideWidth: number): tfjs.Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [b, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [b, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [b, h * strideHeight, w * strideWidth, c]);
}

/**
 * Largest `strideHeight · strideWidth` of UNEQUAL strides for which the zero-inserting conv is
 * used: it does s_h·s_w times the needed work, so at ~30 GFLOP/s vs the native ~3 it wins up to
 * about 10; we keep a margin and hand larger ones to the engine's own kernel when there is one.
 */
export const MAX_STRIDE_AREA = 4;

/** Sub-pixel form (2) of the input gradient for equal strides `s` on both axes; NHWC. */
function subPixelInputGradient(tf: Tfjs, dy: tfjs.Tensor4D, filter: tfjs.Tensor4D, g: Conv2DGeometry): tfjs.Tensor4D {
  const s = g.strideHeight;
  const tapsH = Math.ceil(g.filterHeight / s);
  const tapsW = Math.ceil(g.filterWidth / s);
  // q covers every dx row: s·q + φ − p ∈ [0, H) ⇒ q < ⌈(H + p) / s⌉; (2) reads dy[q − T + 1 … q].
  const blocksH = Math.ceil((g.inHeight + g.padTop) / s);
  const blocksW = Math.ceil((g.inWidth + g.padLeft) / s);
  const rows = axisWindow(-(tapsH - 1), blocksH + tapsH - 1, dy.shape[1]);
  const cols = axisWindow(-(tapsW - 1), blocksW + tapsW - 1, dy.shape[2]);
  if (rows.cropSize === 0 || cols.cropSize === 0) return tf.zeros([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const { cropped, pad: windowPad } = cropForWindows(tf, dy, rows, cols);
  const phases = tf.conv2d(cropped, phaseFilter(tf, filter, s), 1, convPadding(windowPad), 'NHWC');
  // depthToSpace(s) as reshape + transpose: wasm's DepthToSpace kernel is ~15× slower.
  const shuffled = tf.transpose(tf.reshape(phases, [g.batch, blocksH, blocksW, s, s, g.inChannels]), [0, 1, 3, 2, 4, 5]);
  const interleaved: tfjs.Tensor4D = tf.reshape(shuffled, [g.batch, s * blocksH, s * blocksW, g.inChannels]);
  const whole = g.padTop === 0 && g.padLeft === 0 && s * blocksH === g.inHeight && s * blocksW === g.inWidth;
  return whole
    ? interleaved
    : tf.slice(interleaved, [0, g.padTop, g.padLeft, 0], [g.batch, g.inHeight, g.inWidth, g.inChannels]);
}

/** Stride-1 form, on dy with zeros inserted for unequal strides; NHWC. */
function zeroInsertionInputGradient(tf: Tfjs, dy: tfjs.Tensor4D, filter: tfjs.Tensor4D, g: Conv2DGeometry): tfjs.Tensor4D {
  const spread = dilateWithZeros(tf, dy, g.strideHeight, g.strideWidth);
  // Output row y reads ď rows y + p − (k − 1) … y + p: the window below, over all y.
  const rows = axisWindow(g.padTop - (g.filterHeight - 1), g.inHeight + g.filterHeight - 1, spread.shape[1]);
  const cols = axisWindow(g.padLeft - (g.filterWidth - 1), g.inWidth + g.filterWidth - 1, spread.shape[2]);
  if (rows.cropSize === 0 || cols.cropSize === 0) return tf.zeros([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const { cropped, pad: windowPad } = cropForWindows(tf, spread, rows, cols);
  return tf.conv2d(cropped, flippedFilter(tf, filter), 1, convPadding(windowPad), 'NHWC');
}

/**
 * Input gradient of a dilation-1 conv2d, computed with public tfjs ops (one conv plus cheap
 * reshuffles; transposes for NCHW). Creates tensors; call it inside `tf.tidy`.
 *
 * @returns dx with shape `attrs.inputShape`.
 */
export function conv2DInputGradient(
  tf: Tfjs,
  dy: tfjs.Tensor4D,
  filter: tfjs.Tensor4D,
  attrs: tfjs.Conv2DBackpropInputAttrs,
): tfjs.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const g = conv2DGeometry(tf, inputShape, filter.shape, strides, pad, dimRoundingMode, dataFormat);
  const dyNhwc = dataFormat === 'NCHW' ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
  const dx =
    g.strideHeight === g.strideWidth && g.strideHeight > 1
      ? subPixelInputGradient(tf, dyNhwc, filter, g)
      : zeroInsertionInputGradient(tf, dyNhwc, filter, g);
  return dataFormat === 'NCHW' ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
}

/** Whether {@link conv2DInputGradient} should beat the native kernel for these strides. */
function takesStrides(strides: number | readonly [number, number]): boolean {
  if (typeof strides === 'number' || strides[0] === strides[1]) return true;
  return strides[0] * strides[1] <= MAX_STRIDE_AREA;
}

/**
 * The wasm `Conv2DBackpropInput` kernel: {@link conv2DInputGradient}, falling back to
 * `original` (the engine's own kernel) for unequal strides whose area exceeds
 * {@link MAX_STRIDE_AREA}.
 */
export function makeConv2DBackpropInputKernel(tf: Tfjs, original: tfjs.KernelFunc | undefined): tfjs.KernelFunc {
  return (params) => {
    const attrs = params.attrs as unknown as tfjs.Conv2DBackpropInputAttrs;
    if (original !== undefined && !takesStrides(attrs.strides)) return original(params);
    return tf.tidy(() => {
      const dy = asTensor4D(tf, params.inputs['dy'], 'dy');
      const filter = asTensor4D(tf, params.inputs['filter'], 'filter');
      return conv2DInputGradient(tf, dy, filter, attrs);
    });
  };
}
