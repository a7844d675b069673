/**
 * `ops.combine`: the fused Σ cᵢ·xᵢ (and clamp) samplers use for every update. Its contract is the
 * rounding of the unfused chain (each product and each partial sum rounded to float32, in order),
 * so turning the fusion on changes no sample: checked against hand-computed values and, bit for
 * bit, against the chain of `scale`, `add`, `sub` and `clamp` on random data.
 */
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { createOnnxTensorOps } from '../src/index.js';

const ops = createOnnxTensorOps('onnx-test', ort);
const combine = ops.combine!;
const f = Math.fround;

describe('ops.combine', () => {
  it('rounds each product and each partial sum to float32, in the order given', async () => {
    const x = ops.fromFloat32(new Float32Array([1, 2, -3]), [3]);
    const y = ops.fromFloat32(new Float32Array([0.5, 0.25, 4]), [3]);
    // 0.1·x + y − x, by hand: 0.1·1 = f(0.1), + 0.5, − 1; 0.1·2 = f(0.2), + 0.25, − 2; 0.1·(−3) = f(−0.3), + 4, + 3.
    const out = combine([
      [0.1, x],
      [1, y],
      [-1, x],
    ]);
    expect(Array.from(await ops.toFloat32(out))).toEqual([f(f(f(0.1) + 0.5) - 1), f(f(f(0.2) + 0.25) - 2), f(f(f(-0.3) + 4) + 3)]);
    // 2x clamped to [−1, 1]: 2, 4, −6 → 1, 1, −1; and a coefficient that is not exact in float32.
    const clamped = combine([[2, x]], { min: -1, max: 1 });
    expect(Array.from(await ops.toFloat32(clamped))).toEqual([1, 1, -1]);
    const third = combine([
      [1 / 3, x],
      [0.7, y],
    ]);
    expect(Array.from(await ops.toFloat32(third))).toEqual([f(f(1 / 3) + f(0.7 * 0.5)), f(f(2 / 3) + f(0.7 * 0.25)), f(f(-1) + f(0.7 * 4))]);
    ops.dispose([x, y, out, clamped, third]);
  });

  it('equals the unfused chain scale/add/sub/clamp bit for bit', async () => {
    const chain = (terms: readonly (readonly [number, ort.Tensor])[], clamp?: { min: number; max: number }): ort.Tensor => {
      const [[c0, x0]] = terms as [readonly [number, ort.Tensor]];
      let sum = c0 === 1 ? ops.clone(x0) : ops.scale(x0, c0);
      for (const [c, x] of terms.slice(1)) {
        let next: ort.Tensor;
        if (c === 1) next = ops.add(sum, x);
        else if (c === -1) next = ops.sub(sum, x);
        else {
          const scaled = ops.scale(x, c);
          next = ops.add(sum, scaled);
          ops.dispose(scaled);
        }
        ops.dispose(sum);
        sum = next;
      }
      if (clamp === undefined) return sum;
      const out = ops.clamp(sum, clamp.min, clamp.max);
      ops.dispose(sum);
      return out;
    };
    const coefficient = fc.oneof(fc.constant(1), fc.constant(-1), fc.double({ min: -40, max: 40, noNaN: true }));
    const values = fc.float32Array({ minLength: 6, maxLength: 6, noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(coefficient, values), { minLength: 1, maxLength: 5 }), fc.boolean(), async (raw, clamped) => {
        const terms = raw.map(([c, data]) => [c, ops.fromFloat32(data, [1, 2, 3])] as const);
        const clamp = clamped ? { min: -1, max: 1 } : undefined;
        const fused = combine(terms, clamp);
        const unfused = chain(terms, clamp);
        expect(Array.from(await ops.toFloat32(fused))).toEqual(Array.from(await ops.toFloat32(unfused)));
        expect(fused.dims).toEqual([1, 2, 3]);
        ops.dispose([fused, unfused, ...terms.map(([, t]) => t)]);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an empty list and shapes that differ, naming the op', () => {
    const a = ops.zeros([2, 2]);
    const b = ops.zeros([4]);
    expect(() => combine([])).toThrow(/ops\.combine needs at least one term/);
    expect(() => combine([[1, a], [2, b]])).toThrow(/ops\.combine: shapes \[2, 2\] and \[4\] differ/);
    try {
      combine([[1, a], [2, b]]);
    } catch (error) {
      expect(LevelskipError.is(error) && error.code).toBe('INVALID_SHAPE');
    }
    ops.dispose([a, b]);
  });
});
