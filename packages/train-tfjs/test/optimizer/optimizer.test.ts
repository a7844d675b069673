/**
 * The update rules on hand-worked examples: Adam (PyTorch's arrangement; the numbers below were
 * also checked against torch.optim.Adam in float64), global-norm clipping
 * (torch.nn.utils.clip_grad_norm_), EMA and linear warm-up.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamUpdate, clipByGlobalNorm, createAdamSlot } from '../../src/optimizer/adam.js';
import { emaDecay, emaUpdate } from '../../src/optimizer/ema.js';
import { warmupLearningRate } from '../../src/optimizer/learning-rate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('Adam', () => {
  it('matches two steps worked out by hand', () => {
    const param = tf.variable(tf.tensor1d([1, -2]));
    const slot = createAdamSlot(param);
    // Step 1, lr 0.1, g = (0.5, 0.001): m = 0.1 g, v = 0.001 g², bias corrections 0.1 and 0.001, so
    //   θ −= 0.1 · (m / 0.1) / (√v / √0.001 + 1e-8) = 0.1 · g / (|g| + 1e-8):
    //   1 − 0.1 · 0.5 / 0.50000001 = 0.900000002;  −2 − 0.1 · 0.001 / 0.00100001 = −2.0999990000.
    adamUpdate(param, tf.tensor1d([0.5, 0.001]), slot, 0.1);
    expect(slot.step).toBe(1);
    expect(values(slot.m)[0]).toBeCloseTo(0.05, 7);
    expect(values(slot.v)[0]).toBeCloseTo(0.00025, 9);
    const [a1, b1] = values(param);
    expect(a1).toBeCloseTo(0.900000002, 6);
    expect(b1).toBeCloseTo(-2.099999, 6);
    // Step 2, g = (−0.25, 0.003): m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g²,
    //   θ −= (0.1 / (1 − 0.9²)) · m / (√v / √(1 − 0.999²) + 1e-8).
    adamUpdate(param, tf.tensor1d([-0.25, 0.003]), slot, 0.1);
    const update = (m1: number, v1: number, g: number): number => {
      const m = 0.9 * m1 + 0.1 * g;
      const v = 0.999 * v1 + 0.001 * g * g;
      return (0.1 / (1 - 0.81)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.998001) + 1e-8));
    };
    const [a2, b2] = values(param);
    // First element: m = 0.02, v = 0.00031225, update = 0.5263158 · 0.02 / 0.3952207 = 0.0266337.
    expect(a2).toBeCloseTo(0.900000002 - update(0.05, 0.00025, -0.25), 6);
    expect(a2).toBeCloseTo(0.8733663, 6);
    expect(b2).toBeCloseTo(-2.0999990 - update(0.0001, 1e-9, 0.003), 6);
    expect(slot.step).toBe(2);
    tf.dispose([param, slot.m, slot.v]);
  });

  it('allocates nothing that outlives a step', () => {
    const param = tf.variable(tf.ones([3, 3]));
    const slot = createAdamSlot(param);
    const grad = tf.fill([3, 3], 0.1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) adamUpdate(param, grad, slot, 1e-3, { beta1: 0.5, beta2: 0.9, eps: 1e-6 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([param, slot.m, slot.v, grad]);
  });
});

describe('global-norm clipping', () => {
  it('scales every gradient by maxNorm / (‖g‖ + 1e-6) when the norm is larger', () => {
    // ‖((3, 4), (12))‖ = √(9 + 16 + 144) = 13; maxNorm 6.5 → coefficient 6.5 / 13.000001.
    const grads = [tf.tensor1d([3, 4]), tf.tensor1d([12])];
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 6.5);
    expect(values(norm)[0]).toBeCloseTo(13, 5);
    const c = 6.5 / (13 + 1e-6);
    expect(values(clipped[0]!)).toEqual([expect.closeTo(3 * c, 6), expect.closeTo(4 * c, 6)]);
    expect(values(clipped[1]!)[0]).toBeCloseTo(12 * c, 5);
    tf.dispose([...grads, ...clipped, norm]);
  });

  it('leaves gradients below the limit (and with no limit) unchanged', () => {
    const grads = [tf.tensor1d([0.3, 0.4])];
    for (const maxNorm of [1, undefined]) {
      const { grads: clipped, norm } = clipByGlobalNorm(grads, maxNorm);
      expect(values(norm)[0]).toBeCloseTo(0.5, 6);
      expect(values(clipped[0]!)).toEqual([expect.closeTo(0.3, 7), expect.closeTo(0.4, 7)]);
      tf.dispose([...clipped, norm]);
    }
    tf.dispose(grads);
  });
});

describe('EMA', () => {
  it('θ_ema ← d θ_ema + (1 − d) θ', () => {
    const ema = tf.variable(tf.tensor1d([0, 10]));
    // d = 0.9: (0, 10) with θ = (1, 0) → (0.1, 9); again with θ = (1, 0) → (0.19, 8.1).
    emaUpdate(ema, tf.tensor1d([1, 0]), 0.9);
    expect(values(ema)).toEqual([expect.closeTo(0.1, 6), expect.closeTo(9, 5)]);
    emaUpdate(ema, tf.tensor1d([1, 0]), 0.9);
    expect(values(ema)).toEqual([expect.closeTo(0.19, 6), expect.closeTo(8.1, 5)]);
    // d = 0: the EMA is the weights themselves, exactly.
    emaUpdate(ema, tf.tensor1d([0.3, -7.25]), 0);
    expect(values(ema)).toEqual([Math.fround(0.3), -7.25]);
    ema.dispose();
  });

  it('warms the decay up as min(d, (1 + s) / (10 + s))', () => {
    // s = 1: 2/11; s = 90: 91/100; s = 8991: 8992/9001 > 0.999, capped.
    expect(emaDecay(1, 0.999, true)).toBeCloseTo(2 / 11, 15);
    expect(emaDecay(90, 0.999, true)).toBeCloseTo(0.91, 15);
    expect(emaDecay(8991, 0.999, true)).toBe(0.999);
    expect(emaDecay(1, 0.999, false)).toBe(0.999);
    expect(emaDecay(5, 0, true)).toBe(0);
  });
});

describe('warm-up', () => {
  it('grows the learning rate linearly over the warm-up steps', () => {
    // lr 1e-3, warm-up 4: steps 1..6 → 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3.
    expect([1, 2, 3, 4, 5, 6].map((s) => warmupLearningRate(s, 1e-3, 4))).toEqual([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
    expect(warmupLearningRate(1, 0.01, 0)).toBe(0.01);
  });
});
