/**
 * The reference TensorOps: shapes and values of every op on small hand-written tensors.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { referenceOps as ops, referenceTensor as t } from '../../src/testing/reference/index.js';

const arange = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('referenceOps', () => {
  it('fromFloat32 / toFloat32 / shape / zeros / clone', async () => {
    const x = ops.fromFloat32(new Float32Array([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    expect(ops.shape(x)).toEqual([1, 2, 3]);
    expect(x.data).toBeInstanceOf(Float64Array);
    expect(Array.from(await ops.toFloat32(x))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await ops.toFloat32(x)).toBeInstanceOf(Float32Array);
    expect(Array.from(ops.zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    const copy = ops.clone(x);
    copy.data[0] = 99;
    expect(x.data[0]).toBe(1);
    expect(() => ops.fromFloat32(new Float32Array(5), [2, 3])).toThrow(LevelskipError);
    expect(ops.name).toBe('reference');
  });

  it('add, sub, mul, scale are elementwise; mismatched shapes are INVALID_SHAPE', () => {
    const a = t([2, 2], [1, 2, 3, 4]);
    const b = t([2, 2], [10, 20, 30, 40]);
    expect(Array.from(ops.add(a, b).data)).toEqual([11, 22, 33, 44]);
    expect(Array.from(ops.sub(a, b).data)).toEqual([-9, -18, -27, -36]);
    expect(Array.from(ops.mul(a, b).data)).toEqual([10, 40, 90, 160]);
    expect(Array.from(ops.scale(a, -0.5).data)).toEqual([-0.5, -1, -1.5, -2]);
    try {
      ops.add(a, t([4], [1, 2, 3, 4]));
      expect.unreachable();
    } catch (e) {
      expect(LevelskipError.is(e) && e.code).toBe('INVALID_SHAPE');
    }
  });

  it('concat along channels interleaves per batch; along other axes too', () => {
    // a: [2, 1, 1, 2] = batch 0 [1, 2], batch 1 [3, 4]; b: [2, 2, 1, 2] = batch 0 [5, 6, 7, 8], batch 1 [9, 10, 11, 12]
    const a = t([2, 1, 1, 2], [1, 2, 3, 4]);
    const b = t([2, 2, 1, 2], arange(8, 5));
    const c = ops.concat([a, b], 1);
    expect(c.shape).toEqual([2, 3, 1, 2]);
    expect(Array.from(c.data)).toEqual([1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
    const last = ops.concat([t([1, 2], [1, 2]), t([1, 3], [3, 4, 5])], 1);
    expect(Array.from(last.data)).toEqual([1, 2, 3, 4, 5]);
    const first = ops.concat([t([1, 2], [1, 2]), t([2, 2], [3, 4, 5, 6])], 0);
    expect(first.shape).toEqual([3, 2]);
    expect(Array.from(first.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const width = ops.concat([t([1, 1, 2, 1], [1, 2]), t([1, 1, 2, 2], [3, 4, 5, 6])], 3);
    expect(Array.from(width.data)).toEqual([1, 3, 4, 2, 5, 6]);
    expect(() => ops.concat([a, t([1, 1, 1, 2])], 1)).toThrow(/do not match/);
  });

  it('slice takes a box', () => {
    // x[n][c][h][w] = 1000n + 100c + 10h + w
    const shape = [2, 3, 2, 2];
    const data = arange(24).map((i) => {
      const w = i % 2;
      const h = Math.floor(i / 2) % 2;
      const c = Math.floor(i / 4) % 3;
      const n = Math.floor(i / 12);
      return 1000 * n + 100 * c + 10 * h + w;
    });
    const s = ops.slice(t(shape, data), [1, 1, 0, 1], [1, 2, 2, 1]);
    expect(s.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(s.data)).toEqual([1101, 1111, 1201, 1211]);
    expect(() => ops.slice(t(shape, data), [0, 2, 0, 0], [1, 2, 2, 2])).toThrow(LevelskipError);
  });

  it('resize and avgPool dispatch to the kernels', () => {
    const x = t([1, 1, 2, 2], [1, 2, 3, 4]);
    expect(Array.from(ops.resize(x, 4, 4, 'nearest').data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // bilinear 2×2 → 1×1: src = 0.5 on both axes → mean of the four pixels
    expect(Array.from(ops.resize(x, 1, 1, 'bilinear').data)).toEqual([2.5]);
    // bicubic 2×2 → 1×1: t = 0.5, taps clamp to p0,p0,p1,p1 → weights (-0.09375 + 0.59375) each side → mean
    expect(ops.resize(x, 1, 1, 'bicubic').data[0]).toBeCloseTo(2.5, 12);
    expect(Array.from(ops.avgPool(x, 2, 2).data)).toEqual([2.5]);
    expect(() => ops.resize(x, 2, 2, 'area' as never)).toThrow(/resize mode/);
  });

  it('dispose is a harmless no-op', () => {
    const x = t([1], [5]);
    ops.dispose(x);
    ops.dispose([x, x]);
    expect(x.data[0]).toBe(5);
  });
});
