/**
 * SiLU (swish) activation, SiLU(x) = x · σ(x) = x / (1 + e^{−x}) (Elfwing et al. 2018),
 * the nonlinearity of every diffusers U-Net block.
 */
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** Elementwise SiLU. */
export function siluReference(x: ReferenceTensor): ReferenceTensor {
  const out = referenceTensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    out.data[i] = v / (1 + Math.exp(-v));
  }
  return out;
}
