/**
 * Host (Float32Array, NCHW, row-major) kernels behind the ONNX backend's `TensorOps`. Fills and
 * samplers touch tensors of one image batch at a time, so plain loops are fast enough and avoid a
 * `session.run` per op. Conventions (core's contract):
 * - resize, PyTorch `F.interpolate` with align_corners = False, no antialias: nearest
 *   src = ⌊dst · in/out⌋; bilinear half-pixel src = (dst + 0.5) · in/out − 0.5 clamped below at 0;
 *   bicubic Keys (1981) cubic convolution with a = −0.75 at the half-pixel src, taps clamped to
 *   the border;
 * - avgPool, TensorFlow 'same' padding (output ⌈in/stride⌉, total padding
 *   max((out − 1)·stride + window − in, 0), the smaller half before) with padded cells excluded.
 */
import { resizeTaps, type ResizeMode } from '@levelskip/core';

/** Resizes NCHW `data` of shape [n, c, h, w] to height × width. Separable: rows, then columns. */
export function resizeHost(data: Float32Array, shape: readonly [number, number, number, number], height: number, width: number, mode: ResizeMode): Float32Array {
  const [n, c, h, w] = shape;
  const rowTaps = resizeTaps(h, height, mode);
  const colTaps = resizeTaps(w, width, mode);
  const rows = new Float64Array(height * w);
  const out = new Float32Array(n * c * height * width);
  for (let plane = 0; plane < n * c; plane++) {
    const inBase = plane * h * w;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        for (const r of rowTaps[y]!) sum += r.weight * data[inBase + r.index * w + x]!;
        rows[y * w + x] = sum;
      }
    }
    const outBase = plane * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (const col of colTaps[x]!) sum += col.weight * rows[y * w + col.index]!;
        out[outBase + y * width + x] = sum;
      }
    }
  }
  return out;
}

function samePadding(size: number, window: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Square-window average pooling, 'same' padding, padded cells excluded. Returns the data and its shape. */
export function avgPoolHost(
  data: Float32Array,
  shape: readonly [number, number, number, number],
  window: number,
  stride: number,
): { data: Float32Array; shape: [number, number, number, number] } {
  const [n, c, h, w] = shape;
  const rows = samePadding(h, window, stride);
  const cols = samePadding(w, window, stride);
  const out = new Float32Array(n * c * rows.out * cols.out);
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < rows.out; y++) {
      const y0 = Math.max(y * stride - rows.before, 0);
      const y1 = Math.min(y * stride - rows.before + window, h);
      for (let x = 0; x < cols.out; x++) {
        const x0 = Math.max(x * stride - cols.before, 0);
        const x1 = Math.min(x * stride - cols.before + window, w);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) sum += data[(plane * h + iy) * w + ix]!;
        out[(plane * rows.out + y) * cols.out + x] = sum / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return { data: out, shape: [n, c, rows.out, cols.out] };
}
