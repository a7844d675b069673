/**
 * Image resizing with PyTorch's `F.interpolate` conventions (align_corners = False, no antialias):
 * - nearest: src = ⌊dst · in / out⌋ (PyTorch 'nearest', not 'nearest-exact');
 * - bilinear: half-pixel src = (dst + 0.5) · in / out − 0.5, clamped below at 0;
 * - bicubic: Keys' cubic convolution (Keys 1981) with a = −0.75 at the half-pixel src (not
 *   clamped), taps outside the image clamped to the border index. These equal ONNX Resize's
 *   cubic defaults.
 * Each is separable: rows then columns, with the per-axis weights of core's `resizeTaps`
 * (checked against PyTorch by test/testing/reference-vs-torch.test.ts).
 */
import type { ResizeMode } from '../../backend/tensor-ops.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import { resizeTaps } from '../../resize/resize-taps.js';
import { nchw, referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** Resizes NCHW `x` to height × width with `mode` (see the file header for the conventions). */
export function resizeReference(x: ReferenceTensor, height: number, width: number, mode: ResizeMode): ReferenceTensor {
  const [n, c, h, w] = nchw(x, 'resize input');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new LevelskipError('INVALID_SHAPE', `resize target must be positive integers, got ${height}×${width}`);
  }
  if (mode !== 'nearest' && mode !== 'bilinear' && mode !== 'bicubic') {
    throw new LevelskipError('INVALID_OPTION', `unknown resize mode "${String(mode)}": use nearest, bilinear or bicubic`);
  }
  const rowTaps = resizeTaps(h, height, mode);
  const colTaps = resizeTaps(w, width, mode);
  const out = referenceTensor([n, c, height, width]);
  for (let plane = 0; plane < n * c; plane++) {
    const inBase = plane * h * w;
    const outBase = plane * height * width;
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        let sum = 0;
        for (const r of rowTaps[y]!) {
          for (const col of colTaps[xx]!) sum += r.weight * col.weight * x.data[inBase + r.index * w + col.index]!;
        }
        out.data[outBase + y * width + xx] = sum;
      }
    }
  }
  return out;
}

/** PyTorch `F.interpolate(x, size, mode='bicubic', align_corners=False)`. */
export function bicubicResizeReference(x: ReferenceTensor, height: number, width: number): ReferenceTensor {
  return resizeReference(x, height, width, 'bicubic');
}

/** PyTorch `F.interpolate(x, size, mode='bilinear', align_corners=False)`. */
export function bilinearResizeReference(x: ReferenceTensor, height: number, width: number): ReferenceTensor {
  return resizeReference(x, height, width, 'bilinear');
}

/** PyTorch `F.interpolate(x, scale_factor=2, mode='nearest')`: every pixel becomes a 2×2 block. */
export function nearestUpsample2xReference(x: ReferenceTensor): ReferenceTensor {
  const [, , h, w] = nchw(x, 'upsample input');
  return resizeReference(x, 2 * h, 2 * w, 'nearest');
}
