/**
 * Average pooling with 'same' padding (TensorFlow's convention: output size ⌈in / stride⌉,
 * total padding max((out − 1)·stride + window − in, 0) split with the smaller half before),
 * where padded cells are excluded from each average (PyTorch's count_include_pad = False).
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { nchw, referenceTensor, type ReferenceTensor } from './reference-tensor.js';

function samePadding(size: number, window: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Square-window average pooling of NCHW `x`. */
export function avgPoolReference(x: ReferenceTensor, window: number, stride: number): ReferenceTensor {
  const [n, c, h, w] = nchw(x, 'avgPool input');
  if (!Number.isInteger(window) || window < 1 || !Number.isInteger(stride) || stride < 1) {
    throw new LevelskipError('INVALID_OPTION', `avgPool window and stride must be positive integers, got ${window} and ${stride}`);
  }
  const rows = samePadding(h, window, stride);
  const cols = samePadding(w, window, stride);
  const out = referenceTensor([n, c, rows.out, cols.out]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < rows.out; y++) {
      for (let xx = 0; xx < cols.out; xx++) {
        let sum = 0;
        let count = 0;
        for (let u = 0; u < window; u++) {
          const iy = y * stride + u - rows.before;
          if (iy < 0 || iy >= h) continue;
          for (let v = 0; v < window; v++) {
            const ix = xx * stride + v - cols.before;
            if (ix < 0 || ix >= w) continue;
            sum += x.data[(plane * h + iy) * w + ix]!;
            count++;
          }
        }
        out.data[(plane * rows.out + y) * cols.out + xx] = sum / count;
      }
    }
  }
  return out;
}
