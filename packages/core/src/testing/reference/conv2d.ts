/**
 * 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`): NCHW input, OIHW weight,
 * out[n, o, y, x] = bias[o] + Σ_{i, u, v} w[o, i, u, v] · in[n, i, y·s + u − padTop, x·s + v − padLeft],
 * with zeros outside the input. Output size = ⌊(H + padTop + padBottom − kH) / s⌋ + 1.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { nchw, referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** Zero padding per side; a number pads every side equally. */
export type Conv2dPadding = number | { readonly top: number; readonly bottom: number; readonly left: number; readonly right: number };

export interface Conv2dOptions {
  readonly stride?: number;
  readonly padding?: Conv2dPadding;
}

/** `F.conv2d(x, weight, bias, stride, padding)` in float64, with optional asymmetric padding. */
export function conv2dReference(
  x: ReferenceTensor,
  weight: ReferenceTensor,
  bias: ReferenceTensor | undefined,
  options: Conv2dOptions = {},
): ReferenceTensor {
  const [n, cIn, h, w] = nchw(x, 'conv2d input');
  const [cOut, wIn, kh, kw] = nchw(weight, 'conv2d weight');
  if (wIn !== cIn) {
    throw new LevelskipError('INVALID_SHAPE', `conv2d weight expects ${wIn} input channels but the input has ${cIn}`);
  }
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== cOut)) {
    throw new LevelskipError('INVALID_SHAPE', `conv2d bias must have shape [${cOut}], got [${bias.shape.join(', ')}]`);
  }
  const stride = options.stride ?? 1;
  const p = options.padding ?? 0;
  const pad = typeof p === 'number' ? { top: p, bottom: p, left: p, right: p } : p;
  const hOut = Math.floor((h + pad.top + pad.bottom - kh) / stride) + 1;
  const wOut = Math.floor((w + pad.left + pad.right - kw) / stride) + 1;
  if (hOut < 1 || wOut < 1) {
    throw new LevelskipError('INVALID_SHAPE', `conv2d kernel ${kh}×${kw} does not fit the padded ${h}×${w} input`);
  }
  const out = referenceTensor([n, cOut, hOut, wOut]);
  const xd = x.data;
  const wd = weight.data;
  const od = out.data;
  // Output positions whose tap (u or v) lands inside the input: first..last inclusive.
  const valid = (tap: number, padBefore: number, inSize: number, outSize: number): [number, number] => [
    Math.max(0, Math.ceil((padBefore - tap) / stride)),
    Math.min(outSize - 1, Math.floor((inSize - 1 + padBefore - tap) / stride)),
  ];
  // Loop order (tap outermost, pixels innermost) walks memory contiguously; the sum is the same.
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < cOut; o++) {
      const outBase = (b * cOut + o) * hOut * wOut;
      od.fill(bias === undefined ? 0 : bias.data[o]!, outBase, outBase + hOut * wOut);
      for (let i = 0; i < cIn; i++) {
        const inBase = (b * cIn + i) * h * w;
        for (let u = 0; u < kh; u++) {
          const [y0, y1] = valid(u, pad.top, h, hOut);
          for (let v = 0; v < kw; v++) {
            const weightValue = wd[((o * cIn + i) * kh + u) * kw + v]!;
            const [x0, x1] = valid(v, pad.left, w, wOut);
            for (let y = y0; y <= y1; y++) {
              const inRow = inBase + (y * stride + u - pad.top) * w - pad.left + v;
              const outRow = outBase + y * wOut;
              for (let xx = x0; xx <= x1; xx++) od[outRow + xx]! += weightValue * xd[inRow + xx * stride]!;
            }
          }
        }
      }
    }
  }
  return out;
}
