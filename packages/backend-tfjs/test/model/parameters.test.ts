/**
 * Weight layouts: PyTorch OIHW kernels become tfjs HWIO, [out, in] linears become [in, out],
 * and the conversion round-trips (worked out by index below).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomWeights, parseUNetSpec } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { exportParameters, fromTfjsLayout, loadParameters, toTfjsLayout } from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('toTfjsLayout', () => {
  it('OIHW → HWIO: element [o, i, y, x] moves to [y, x, i, o]', () => {
    // O = 2, I = 3, H = 1, W = 2: value = 100·o + 10·i + x.
    const data = new Float32Array(12);
    for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) for (let x = 0; x < 2; x++) data[(o * 3 + i) * 2 + x] = 100 * o + 10 * i + x;
    const out = toTfjsLayout({ shape: [2, 3, 1, 2], data });
    expect(out.shape).toEqual([1, 2, 3, 2]);
    // HWIO row-major: x, then i, then o fastest.
    expect(Array.from(out.data)).toEqual([0, 100, 10, 110, 20, 120, 1, 101, 11, 111, 21, 121]);
  });

  it('[out, in] → [in, out] for linear weights; vectors are copied unchanged', () => {
    const out = toTfjsLayout({ shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(out.data)).toEqual([1, 4, 2, 5, 3, 6]);
    const source = new Float32Array([7, 8]);
    const bias = toTfjsLayout({ shape: [2], data: source });
    expect(Array.from(bias.data)).toEqual([7, 8]);
    expect(bias.data).not.toBe(source);
  });

  it('fromTfjsLayout inverts it', () => {
    const data = Float32Array.from({ length: 2 * 3 * 3 * 3 }, (_, i) => i);
    const back = fromTfjsLayout(toTfjsLayout({ shape: [2, 3, 3, 3], data }));
    expect(back.shape).toEqual([2, 3, 3, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });
});

describe('loadParameters / exportParameters', () => {
  it('round-trips a whole model and copies the caller’s arrays', async () => {
    const spec = parseUNetSpec(tinySpecs.resnet);
    const weights = randomWeights(spec, { seed: 3, jitter: 0.1 });
    const params = loadParameters(weights);
    expect(params.get('conv_in.weight')!.shape).toEqual([3, 3, 2, 8]);
    expect(params.get('time_embedding.linear_1.weight')!.shape).toEqual([8, 32]);
    weights.get('conv_in.bias')!.data.fill(99);
    const back = await exportParameters(params);
    expect(back.get('conv_in.bias')!.data.includes(99)).toBe(false);
    for (const [name, host] of weights) {
      if (name === 'conv_in.bias') continue;
      expect(back.get(name)!.shape, name).toEqual(host.shape);
      expect(Array.from(back.get(name)!.data), name).toEqual(Array.from(host.data));
    }
    tf.dispose([...params.values()]);
  });
});
