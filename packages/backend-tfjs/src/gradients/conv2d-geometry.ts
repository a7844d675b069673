/**
 * Geometry shared by the wasm convolution-gradient kernels: which window of a (zero-extended)
 * axis a gradient convolution reads, split into the part that must be cropped from the tensor
 * and the part the convolution itself zero-pads.
 *
 * Convolution arithmetic follows Dumoulin & Visin, "A guide to convolution arithmetic for deep
 * learning" (2016), §2–§4: a forward conv with stride s, kernel k and leading pad p reads input
 * rows `s·i − p … s·i − p + k − 1` for output row i.
 */
import type * as tfjs from '@tensorflow/tfjs';

/** The tfjs namespace (`import * as tf from '@tensorflow/tfjs'`), passed in so that this
 * module holds no runtime import of its own and uses the caller's engine. */
export type Tfjs = typeof tfjs;

/** Padding attribute of the tfjs conv kernels ('same' | 'valid' | number | explicit). */
export type ConvPad = tfjs.Conv2DBackpropFilterAttrs['pad'];

/**
 * A window `[start, start + length)` over an axis of `size` elements that is read as if the axis
 * were extended by zeros on both sides.
 */
export interface AxisWindow {
  /** First element to keep from the tensor (crop). */
  readonly cropStart: number;
  /** Number of elements kept from the tensor; 0 when the window misses the data entirely. */
  readonly cropSize: number;
  /** Zeros the convolution adds before the kept elements. */
  readonly padBefore: number;
  /** Zeros the convolution adds after the kept elements. */
  readonly padAfter: number;
}

/**
 * Splits the window `[start, start + length)` over an axis of `size` elements into a crop of the
 * data and zero padding on each side. When the window misses the data (`cropSize` 0) the pads
 * are not meaningful; callers then return zeros.
 */
export function axisWindow(start: number, length: number, size: number): AxisWindow {
  const end = start + length;
  const cropStart = Math.min(Math.max(0, start), size);
  const cropEnd = Math.max(Math.min(size, end), cropStart);
  return {
    cropStart,
    cropSize: cropEnd - cropStart,
    padBefore: Math.max(0, -start),
    padAfter: Math.max(0, end - Math.max(size, start)),
  };
}

/** Geometry of a forward NHWC conv2d with dilation 1, as the gradients need it. */
export interface Conv2DGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  /** Zeros added above the input by the forward conv. */
  readonly padTop: number;
  /** Zeros added left of the input by the forward conv. */
  readonly padLeft: number;
}

/**
 * Resolves a forward conv's padding (any tfjs form) into leading pads, via tfjs's own
 * `computeConv2DInfo` so 'same' splits exactly as the forward kernel split it.
 *
 * @param inShape - forward input shape in `dataFormat` order.
 * @param filterShape - `[filterHeight, filterWidth, inChannels, outChannels]`.
 */
export function conv2DGeometry(
  tf: Tfjs,
  inShape: readonly [number, number, number, number],
  filterShape: readonly [number, number, number, number],
  strides: number | readonly [number, number],
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dataFormat: 'NHWC' | 'NCHW',
): Conv2DGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    [...inShape],
    [...filterShape],
    typeof strides === 'number' ? strides : [strides[0], strides[1]],
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Crops `t` (NHWC) to the rows/cols windows and returns the explicit padding the following
 * convolution must add, so zero padding costs no copy (XNNPACK pads implicitly).
 */
export function cropForWindows(
  tf: Tfjs,
  t: tfjs.Tensor4D,
  rows: AxisWindow,
  cols: AxisWindow,
): { readonly cropped: tfjs.Tensor4D; readonly pad: [[0, 0], [number, number], [number, number], [0, 0]] } {
  const [b, h, w, c] = t.shape;
  const cropped =
    rows.cropStart === 0 && rows.cropSize === h && cols.cropStart === 0 && cols.cropSize === w
      ? t
      : tf.slice(t, [0, rows.cropStart, cols.cropStart, 0], [b, rows.cropSize, cols.cropSize, c]);
  return {
    cropped,
    pad: [
      [0, 0],
      [rows.padBefore, rows.padAfter],
      [cols.padBefore, cols.padAfter],
      [0, 0],
    ],
  };
}

/** `'valid'` when no padding is needed (the cheapest conv path), else the explicit pads. */
export function convPadding(
  pad: [[0, 0], [number, number], [number, number], [0, 0]],
): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  return pad[1][0] === 0 && pad[1][1] === 0 && pad[2][0] === 0 && pad[2][1] === 0 ? 'valid' : pad;
}
