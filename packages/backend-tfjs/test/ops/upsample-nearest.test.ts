import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { upsampleNearest2x } from '../../src/ops/upsample-nearest.js';

describe('upsampleNearest2x', () => {
  it('repeats each pixel in a 2×2 block (PyTorch nearest ×2)', async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = upsampleNearest2x(x);
    expect(Array.from(y.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, y]);
  });

  it('has the right gradient for batch > 1: each input gets the sum of its 2×2 block of dy', async () => {
    await tf.setBackend('cpu');
    // Batch 2, 2×2 input, 2 channels; dy = 0, 1, 2, … in NHWC order over the 4×4 output.
    const x = tf.zeros([2, 2, 2, 2]) as tf.Tensor4D;
    const dy = tf.range(0, 2 * 4 * 4 * 2).reshape([2, 4, 4, 2]);
    const dx = tf.grad((input: tf.Tensor) => upsampleNearest2x(input as tf.Tensor4D))(x, dy);
    // Hand computation: output (b, i, j, c) has index ((b·4 + i)·4 + j)·2 + c; input (b, p, q, c)
    // gets Σ over i ∈ {2p, 2p+1}, j ∈ {2q, 2q+1}.
    const expected: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 2; p++)
        for (let q = 0; q < 2; q++)
          for (let c = 0; c < 2; c++) {
            let sum = 0;
            for (const i of [2 * p, 2 * p + 1]) for (const j of [2 * q, 2 * q + 1]) sum += ((b * 4 + i) * 4 + j) * 2 + c;
            expected.push(sum);
          }
    expect(Array.from(dx.dataSync())).toEqual(expected);
    tf.dispose([x, dy, dx]);
  });
});
