/**
 * The in-memory image set this package's loaders return: images as one Float32Array, with a
 * label per image. Structurally what train-tfjs's `train({ data })` (an `InMemoryDataset`) and
 * metrics' `createFdLenetReference` (a `LabelledImageSet`) take, so neither needs this package's types.
 */

/** `count` images, each C × H × W values (NCHW overall), with one label per image. */
export interface LabelledImages {
  /** count × C × H × W values. */
  readonly images: Float32Array;
  readonly count: number;
  /** The class of each image (for MNIST, its digit). */
  readonly labels: Uint8Array;
}

/** A `LabelledImages` with its shape [count, C, H, W]. */
export interface LabelledImageDataset extends LabelledImages {
  readonly shape: readonly [count: number, channels: number, height: number, width: number];
}
