/**
 * Nearest-neighbour ×2 upsampling of an NHWC tensor (PyTorch `interpolate(scale_factor=2,
 * mode='nearest')`: src = ⌊dst / 2⌋), with an explicit gradient.
 *
 * The forward is tfjs's `resizeNearestNeighbor` (fast on wasm). The gradient is written out,
 * the sum of dy over each 2×2 block, because tfjs 4.22's cpu `ResizeNearestNeighborGrad` reads
 * dy with the wrong batch stride and returns wrong gradients for batch > 1.
 */
import * as tf from '@tensorflow/tfjs';

const upsample = tf.customGrad((x) => {
  const input = x as tf.Tensor4D;
  const [, height, width] = input.shape;
  return {
    value: tf.image.resizeNearestNeighbor(input, [2 * height, 2 * width], false, false),
    gradFunc: (dy: tf.Tensor) => {
      const [b, h2, w2, c] = dy.shape as [number, number, number, number];
      // [B, H, 2, W, 2, C] summed over the two ×2 axes.
      return dy.reshape([b * (h2 / 2), 2, w2 / 2, 2 * c]).sum(1).reshape([b, h2 / 2, w2 / 2, 2, c]).sum(3);
    },
  };
});

/** [B, H, W, C] → [B, 2H, 2W, C], each pixel repeated in a 2×2 block. */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return upsample(x) as tf.Tensor4D;
}
