/**
 * The tfjs `TensorOps`: rank-4 tensors are stored NHWC while the contract stays NCHW, and the
 * nearest/bilinear resizes follow PyTorch (values worked out by hand below).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { createTfjsBackend, type TfjsBackend } from '../../src/index.js';

let backend: TfjsBackend;
beforeAll(async () => {
  backend = await createTfjsBackend({ engine: 'wasm' });
});
afterAll(() => backend.dispose());

/** NCHW [1, 2, 2, 3]: channel 0 holds 0..5, channel 1 holds 10..15. */
const nchwData = new Float32Array([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);

describe('layout', () => {
  it('stores rank-4 tensors NHWC and reports NCHW', async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(nchwData, [1, 2, 2, 3]);
    expect(x.shape).toEqual([1, 2, 3, 2]);
    expect(ops.shape(x)).toEqual([1, 2, 2, 3]);
    // NHWC order interleaves the two channels pixel by pixel.
    expect(Array.from(x.dataSync())).toEqual([0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15]);
    expect(Array.from(await ops.toFloat32(x))).toEqual(Array.from(nchwData));
    ops.dispose(x);
  });

  it('keeps other ranks as they are', async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(x.shape).toEqual([2, 3]);
    expect(Array.from(await ops.toFloat32(x))).toEqual([1, 2, 3, 4, 5, 6]);
    ops.dispose(x);
  });

  it('translates concat axes and slice boxes', async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(nchwData, [1, 2, 2, 3]);
    const channels = ops.concat([x, x], 1);
    expect(ops.shape(channels)).toEqual([1, 4, 2, 3]);
    expect(Array.from(await ops.toFloat32(channels))).toEqual([...nchwData, ...nchwData]);
    const widths = ops.concat([x, x], 3);
    expect(ops.shape(widths)).toEqual([1, 2, 2, 6]);
    expect(Array.from((await ops.toFloat32(widths)).subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    // Channel 1, row 1, columns 1..2.
    const box = ops.slice(x, [0, 1, 1, 1], [1, 1, 1, 2]);
    expect(ops.shape(box)).toEqual([1, 1, 1, 2]);
    expect(Array.from(await ops.toFloat32(box))).toEqual([14, 15]);
    ops.dispose([x, channels, widths, box]);
  });
});

describe('resize', () => {
  it("nearest ×2 repeats every pixel as a 2×2 block (PyTorch 'nearest')", async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
    const up = ops.resize(x, 4, 4, 'nearest');
    expect(Array.from(await ops.toFloat32(up))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    ops.dispose([x, up]);
  });

  it('nearest to a non-integer size takes src = floor(dst · in / out)', async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(new Float32Array([1, 2, 3, 4, 5]), [1, 1, 1, 5]);
    const out = ops.resize(x, 1, 7, 'nearest');
    // floor(d · 5/7) for d = 0..6: 0, 0, 1, 2, 2, 3, 4.
    expect(Array.from(await ops.toFloat32(out))).toEqual([1, 1, 2, 3, 3, 4, 5]);
    ops.dispose([x, out]);
  });

  it('bilinear uses half-pixel centres and clamps at the border (align_corners=False)', async () => {
    const { ops } = backend;
    const x = ops.fromFloat32(new Float32Array([1, 2, 3, 4]), [1, 1, 1, 4]);
    const out = ops.resize(x, 1, 8, 'bilinear');
    // src = (d + 0.5) / 2 − 0.5 = −0.25, 0.25, …, 3.25; clamped to [0, 3] at the ends.
    expect(Array.from(await ops.toFloat32(out))).toEqual([1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4]);
    ops.dispose([x, out]);
  });
});

describe('errors and ownership', () => {
  it('rejects mismatched shapes instead of broadcasting', () => {
    const { ops } = backend;
    const a = ops.zeros([1, 2, 2, 2]);
    const b = ops.zeros([1, 1, 2, 2]);
    const batch2 = ops.zeros([2, 2, 2, 2]);
    const matrix = ops.zeros([2, 2]);
    expect(() => ops.add(a, b)).toThrow(LevelskipError);
    expect(() => ops.concat([a, batch2], 1)).toThrow(/do not match/);
    expect(() => ops.slice(a, [0, 0, 0, 1], [1, 2, 2, 2])).toThrow(/leaves shape/);
    expect(() => ops.fromFloat32(new Float32Array(3), [2, 2])).toThrow(/needs a Float32Array of 4/);
    expect(() => ops.resize(matrix, 4, 4, 'nearest')).toThrow(/NCHW/);
    ops.dispose([a, b, batch2, matrix]);
  });

  it('concat of one tensor returns a new tensor', () => {
    const { ops } = backend;
    const a = ops.zeros([1, 2, 2, 2]);
    const c = ops.concat([a], 1);
    expect(c).not.toBe(a);
    ops.dispose(a);
    expect(c.isDisposed).toBe(false);
    ops.dispose(c);
  });

  it('scale and clone leave no extra tensors behind', () => {
    const { ops } = backend;
    const a = ops.zeros([1, 2, 2, 2]);
    const before = tf.memory().numTensors;
    ops.dispose([ops.scale(a, 3), ops.clone(a)]);
    expect(tf.memory().numTensors).toBe(before);
    ops.dispose(a);
  });
});
