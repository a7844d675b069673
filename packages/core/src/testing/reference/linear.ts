/**
 * Fully connected layer in PyTorch's layout (`nn.Linear`): y = x Wᵀ + b with W of shape
 * [out, in], applied to the last dimension of x.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

/** `F.linear(x, weight, bias)` over the last axis of `x` (any leading dimensions). */
export function linearReference(x: ReferenceTensor, weight: ReferenceTensor, bias: ReferenceTensor | undefined): ReferenceTensor {
  const [outF, inF] = weight.shape as [number, number];
  const last = x.shape[x.shape.length - 1];
  if (weight.shape.length !== 2 || last !== inF) {
    throw new LevelskipError('INVALID_SHAPE', `linear weight [${weight.shape.join(', ')}] does not take inputs [${x.shape.join(', ')}]`);
  }
  const rows = x.data.length / inF;
  const out = referenceTensor([...x.shape.slice(0, -1), outF]);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = bias === undefined ? 0 : bias.data[o]!;
      for (let i = 0; i < inF; i++) sum += x.data[r * inF + i]! * weight.data[o * inF + i]!;
      out.data[r * outF + o] = sum;
    }
  }
  return out;
}
