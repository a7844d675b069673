/**
 * Per-axis interpolation weights of image resizing with PyTorch's `F.interpolate` conventions
 * (align_corners = False, no antialias), shared by every backend and the reference:
 * - nearest: src = ⌊dst · in / out⌋ (PyTorch 'nearest', not 'nearest-exact');
 * - bilinear: half-pixel src = (dst + 0.5) · in / out − 0.5, clamped below at 0;
 * - bicubic: Keys' cubic convolution (R. Keys, "Cubic convolution interpolation for digital image
 *   processing", 1981) with a = −0.75 at the half-pixel src (not clamped), taps outside the image
 *   clamped to the border index. These equal ONNX Resize's cubic defaults; TensorFlow's bicubic
 *   uses a = −0.5 and differs.
 * Resizing is separable: rows, then columns, with these weights.
 */
import type { ResizeMode } from '../backend/tensor-ops.js';

/** PyTorch's (and ONNX Resize's default) cubic-convolution coefficient. */
export const bicubicCoefficient = -0.75;

/** One output coordinate's contribution from one input index. */
export interface ResizeTap {
  readonly index: number;
  readonly weight: number;
}

/**
 * Keys' cubic kernel W(s): (a+2)|s|³ − (a+3)|s|² + 1 for |s| ≤ 1,
 * a|s|³ − 5a|s|² + 8a|s| − 4a for 1 < |s| < 2, else 0.
 */
export function cubicConvolutionWeight(s: number, a: number = bicubicCoefficient): number {
  const x = Math.abs(s);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

function clampIndex(i: number, size: number): number {
  return Math.min(Math.max(i, 0), size - 1);
}

/** For each output index along an axis of `inSize` → `outSize`, its taps (input index, weight). */
export function resizeTaps(inSize: number, outSize: number, mode: ResizeMode): ResizeTap[][] {
  const scale = inSize / outSize;
  const taps: ResizeTap[][] = [];
  for (let dst = 0; dst < outSize; dst++) {
    if (mode === 'nearest') {
      taps.push([{ index: Math.min(Math.floor(dst * scale), inSize - 1), weight: 1 }]);
    } else if (mode === 'bilinear') {
      const src = Math.max((dst + 0.5) * scale - 0.5, 0);
      const i0 = Math.floor(src);
      const frac = src - i0;
      taps.push([
        { index: clampIndex(i0, inSize), weight: 1 - frac },
        { index: clampIndex(i0 + 1, inSize), weight: frac },
      ]);
    } else {
      const src = (dst + 0.5) * scale - 0.5;
      const i0 = Math.floor(src);
      const t = src - i0;
      taps.push([-1, 0, 1, 2].map((o) => ({ index: clampIndex(i0 + o, inSize), weight: cubicConvolutionWeight(t - o) })));
    }
  }
  return taps;
}

/** The dense [outSize, inSize] matrix (row-major) of one axis: resized = M · input. Clamped taps add up. */
export function resizeMatrix(inSize: number, outSize: number, mode: ResizeMode): Float64Array {
  const m = new Float64Array(outSize * inSize);
  resizeTaps(inSize, outSize, mode).forEach((row, d) => {
    for (const tap of row) m[d * inSize + tap.index]! += tap.weight;
  });
  return m;
}
