/**
 * The tensor type of the float64 reference implementation: a logical shape (NCHW for images)
 * and its row-major (C-order) data in a `Float64Array`. Plain data, garbage-collected, so
 * disposing one is a no-op.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { shapeSize, type HostTensor } from '../../backend/tensor-ops.js';

export interface ReferenceTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A tensor of `shape` holding `data` (copied when given), or zeros. Throws INVALID_SHAPE on a length mismatch. */
export function referenceTensor(shape: readonly number[], data?: ArrayLike<number>): ReferenceTensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new LevelskipError('INVALID_SHAPE', `shape [${shape.join(', ')}] must hold non-negative integers`);
    }
  }
  const size = shapeSize(shape);
  if (data !== undefined && data.length !== size) {
    throw new LevelskipError('INVALID_SHAPE', `data has ${data.length} values but shape [${shape.join(', ')}] needs ${size}`);
  }
  const out = new Float64Array(size);
  if (data !== undefined) out.set(data);
  return { shape: [...shape], data: out };
}

/** Widens a host (float32) tensor to float64. */
export function referenceFromHost(host: HostTensor): ReferenceTensor {
  return referenceTensor(host.shape, host.data);
}

/** The four dimensions of an NCHW tensor; throws INVALID_SHAPE for any other rank. */
export function nchw(x: ReferenceTensor, what = 'tensor'): [number, number, number, number] {
  if (x.shape.length !== 4) {
    throw new LevelskipError('INVALID_SHAPE', `${what} must be NCHW (rank 4), got shape [${x.shape.join(', ')}]`);
  }
  return x.shape as [number, number, number, number];
}
