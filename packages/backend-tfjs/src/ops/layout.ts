/**
 * The one layout rule of this package: core's `TensorOps` are logically NCHW (PyTorch's layout),
 * while tfjs's convolutions, pooling and resizes want NHWC. Rank-4 tensors are therefore stored
 * NHWC and translated at the `TensorOps` boundary; tensors of any other rank are stored as is.
 */

/** NHWC position of each NCHW axis: N → 0, C → 3, H → 1, W → 2. */
const nhwcAxisOfNchw = [0, 3, 1, 2] as const;

/** `tf.transpose` permutation turning an NCHW tensor into NHWC. */
export const nchwToNhwc = [0, 2, 3, 1] as const;
/** `tf.transpose` permutation turning an NHWC tensor into NCHW. */
export const nhwcToNchw = [0, 3, 1, 2] as const;

/** Whether a tensor of this rank is stored NHWC (only rank 4). */
export function isImageRank(rank: number): boolean {
  return rank === 4;
}

/** The storage axis of logical axis `axis` for a tensor of `rank`. */
export function storageAxis(axis: number, rank: number): number {
  return isImageRank(rank) ? nhwcAxisOfNchw[axis as 0 | 1 | 2 | 3] : axis;
}

/** Reorders a per-axis list (a shape, slice begin or size) from logical to storage order. */
export function toStorageOrder(values: readonly number[]): number[] {
  if (!isImageRank(values.length)) return [...values];
  const [n, c, h, w] = values as [number, number, number, number];
  return [n, h, w, c];
}

/** Reorders a per-axis list from storage to logical order. */
export function toLogicalOrder(values: readonly number[]): number[] {
  if (!isImageRank(values.length)) return [...values];
  const [n, h, w, c] = values as [number, number, number, number];
  return [n, c, h, w];
}
