/**
 * Bicubic resize (PyTorch convention) against hand-computed Keys weights with a = −0.75 and
 * against core's float64 reference resize.
 *
 * Hand computation, W(s) = 1.25|s|³ − 2.25|s|² + 1 for |s| ≤ 1 and
 * −0.75|s|³ + 3.75|s|² − 6|s| + 3 for 1 < |s| < 2:
 *   W(0.25) = 0.01953125 − 0.140625 + 1                  = 0.87890625
 *   W(0.75) = 0.52734375 − 1.265625 + 1                  = 0.26171875
 *   W(1.25) = −1.46484375 + 5.859375 − 7.5 + 3           = −0.10546875
 *   W(1.75) = −4.01953125 + 11.484375 − 10.5 + 3         = −0.03515625
 *   W(0.5)  = 0.15625 − 0.5625 + 1                       = 0.59375
 *   W(1.5)  = −2.53125 + 8.4375 − 9 + 3                  = −0.09375
 * (PyTorch 1.13 gives F.interpolate([1, 2, 3, 4], size=8, mode='bicubic') =
 *  [0.8945, 1.1914, 1.6680, …] and size=2 → [1.4062, 3.5938], matching the rows below.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bicubicResizeReference, referenceOps } from '@levelskip/core/testing';
import { SeededRng } from '@levelskip/core';
import { cubicConvolutionWeight } from '@levelskip/core';
import { bicubicMatrix, createTfjsBackend, type TfjsBackend } from '../../src/index.js';

const W025 = 0.87890625;
const W075 = 0.26171875;
const W125 = -0.10546875;
const W175 = -0.03515625;
const W05 = 0.59375;
const W15 = -0.09375;

function row(m: Float32Array, inSize: number, r: number): number[] {
  return Array.from(m.subarray(r * inSize, (r + 1) * inSize));
}

let backend: TfjsBackend;
beforeAll(async () => {
  backend = await createTfjsBackend({ engine: 'wasm' });
});
afterAll(() => backend.dispose());

describe('cubicConvolutionWeight', () => {
  it('matches the hand-computed Keys weights for a = -0.75', () => {
    expect(cubicConvolutionWeight(0)).toBe(1);
    expect(cubicConvolutionWeight(0.25)).toBeCloseTo(W025, 12);
    expect(cubicConvolutionWeight(-0.75)).toBeCloseTo(W075, 12);
    expect(cubicConvolutionWeight(1.25)).toBeCloseTo(W125, 12);
    expect(cubicConvolutionWeight(-1.75)).toBeCloseTo(W175, 12);
    expect(cubicConvolutionWeight(1)).toBeCloseTo(0, 12);
    expect(cubicConvolutionWeight(2)).toBe(0);
    expect(cubicConvolutionWeight(2.5)).toBe(0);
  });
});

describe('bicubicMatrix', () => {
  it('upsampling 4 → 8: half-pixel taps, border taps clamped and summed', () => {
    const m = bicubicMatrix(4, 8);
    // dst 0: src = -0.25, i0 = -1, t = 0.75: taps at -2, -1 (both clamped to 0), 0, 1.
    expect(row(m, 4, 0)).toEqual([W175 + W075 + W025, W125, 0, 0].map((v) => expect.closeTo(v, 6)));
    // dst 1: src = 0.25, i0 = 0, t = 0.25: taps at -1 (clamped to 0), 0, 1, 2.
    expect(row(m, 4, 1)).toEqual([W125 + W025, W075, W175, 0].map((v) => expect.closeTo(v, 6)));
    // dst 2: src = 0.75, t = 0.75.
    expect(row(m, 4, 2)).toEqual([W175 + W075, W025, W125, 0].map((v) => expect.closeTo(v, 6)));
    // dst 7 mirrors dst 0.
    expect(row(m, 4, 7)).toEqual([0, 0, W125, W025 + W075 + W175].map((v) => expect.closeTo(v, 6)));
  });

  it('downsampling 4 → 2 uses the plain cubic kernel (no antialias widening)', () => {
    const m = bicubicMatrix(4, 2);
    // dst 0: src = 0.5, i0 = 0, t = 0.5: W(1.5), W(0.5), W(0.5), W(1.5) at -1 (→ 0), 0, 1, 2.
    expect(row(m, 4, 0)).toEqual([W15 + W05, W05, W15, 0].map((v) => expect.closeTo(v, 6)));
  });

  it('is the identity when the size does not change', () => {
    const m = bicubicMatrix(5, 5);
    for (let r = 0; r < 5; r++) expect(row(m, 5, r)).toEqual([0, 1, 2, 3, 4].map((c) => (c === r ? 1 : 0)));
  });
});

describe('ops.resize bicubic', () => {
  it('resizes a ramp as PyTorch does (hand-computed)', async () => {
    const x = backend.ops.fromFloat32(new Float32Array([1, 2, 3, 4]), [1, 1, 1, 4]);
    const up = backend.ops.resize(x, 1, 8, 'bicubic');
    const down = backend.ops.resize(x, 1, 2, 'bicubic');
    const upValues = await backend.ops.toFloat32(up);
    expect(Array.from(upValues.subarray(0, 3))).toEqual(
      [(W175 + W075 + W025) * 1 + W125 * 2, (W125 + W025) * 1 + W075 * 2 + W175 * 3, (W175 + W075) * 1 + W025 * 2 + W125 * 3].map((v) =>
        expect.closeTo(v, 5),
      ),
    );
    expect(upValues[0]).toBeCloseTo(0.89453125, 5);
    expect(Array.from(await backend.ops.toFloat32(down))).toEqual([expect.closeTo(1.40625, 5), expect.closeTo(3.59375, 5)]);
    backend.ops.dispose([x, up, down]);
  });

  it('agrees with the float64 reference on random NCHW batches, up and down, non-square', async () => {
    const rng = new SeededRng(5);
    const cases: [number[], number, number][] = [
      [[2, 3, 4, 4], 8, 8],
      [[1, 2, 8, 8], 2, 2],
      [[2, 1, 5, 7], 9, 4],
      [[1, 4, 6, 3], 6, 5],
    ];
    for (const [shape, h, w] of cases) {
      const data = rng.normal(shape.reduce((a, b) => a * b, 1));
      const expected = bicubicResizeReference(referenceOps.fromFloat32(data, shape), h, w);
      const x = backend.ops.fromFloat32(data, shape);
      const out = backend.ops.resize(x, h, w, 'bicubic');
      expect(backend.ops.shape(out)).toEqual(expected.shape);
      const actual = await backend.ops.toFloat32(out);
      for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected.data[i]!, 5);
      backend.ops.dispose([x, out]);
    }
  });

  it('leaves no tensors behind', () => {
    const x = backend.ops.zeros([1, 2, 4, 4]);
    const before = tf.memory().numTensors;
    backend.ops.dispose(backend.ops.resize(x, 2, 2, 'bicubic'));
    backend.ops.dispose(backend.ops.resize(x, 4, 4, 'bicubic'));
    expect(tf.memory().numTensors).toBe(before);
    backend.ops.dispose(x);
  });
});
