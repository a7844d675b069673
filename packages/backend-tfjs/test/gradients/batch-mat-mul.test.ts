/**
 * The wasm BatchMatMul wrapper against the cpu engine's BatchMatMul (tfjs-backend-cpu, a direct
 * loop): every route, with transposes and broadcasting, forward and through tf.grads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LOOP_MIN_SLICE_MACS, batchMatMulRoute } from '../../src/gradients/batch-mat-mul.js';
import { registerWasmTrainingKernels } from '../../src/gradients/register-wasm-gradients.js';
import { initEngines, onEngine, relativeMaxError, seededFloats, tf } from './engines.js';

interface MatMulCase {
  readonly a: number[];
  readonly b: number[];
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly route: string;
}

/** [M, K]·[K, N] operand shapes for the given flags, with outer dims prepended. */
function operands(outerA: number[], outerB: number[], m: number, k: number, n: number, tA: boolean, tB: boolean) {
  return { a: [...outerA, ...(tA ? [k, m] : [m, k])], b: [...outerB, ...(tB ? [n, k] : [k, n])] };
}

const CASES: MatMulCase[] = [];
for (const transposeA of [false, true]) {
  for (const transposeB of [false, true]) {
    // Sizes are odd on purpose, so a swapped axis cannot go unnoticed.
    CASES.push({ ...operands([], [], 7, 5, 3, transposeA, transposeB), transposeA, transposeB, route: transposeA || transposeB ? 'stack-rows' : 'native' });
    CASES.push({ ...operands([2, 3], [], 4, 6, 5, transposeA, transposeB), transposeA, transposeB, route: 'stack-rows' });
    CASES.push({ ...operands([1], [3, 2], 4, 6, 5, transposeA, transposeB), transposeA, transposeB, route: 'stack-columns' });
    CASES.push({ ...operands([3], [3], 4, 6, 5, transposeA, transposeB), transposeA, transposeB, route: 'native' });
    // Big slices (M·K·N ≥ LOOP_MIN_SLICE_MACS): one 2-D matMul per batch.
    CASES.push({ ...operands([2], [2], 129, 65, 127, transposeA, transposeB), transposeA, transposeB, route: 'per-batch' });
  }
}
// Mixed broadcasting of batch dims stays native.
CASES.push({ a: [2, 1, 4, 6], b: [1, 3, 6, 5], transposeA: false, transposeB: false, route: 'native' });

beforeAll(async () => {
  await initEngines();
  registerWasmTrainingKernels(tf);
});

describe('wasm BatchMatMul wrapper', () => {
  it('routes as designed', () => {
    expect(129 * 65 * 127).toBeGreaterThanOrEqual(LOOP_MIN_SLICE_MACS);
    for (const c of CASES) {
      expect(batchMatMulRoute(c.a, c.b, c.transposeA, c.transposeB), JSON.stringify(c)).toBe(c.route);
    }
  });

  it('matches cpu forward and through tf.grads within 1e-4 relative, on every route', async () => {
    for (const [i, c] of CASES.entries()) {
      const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
      // tfjs-core 4.22's matMul gradient does not sum over broadcast batch dims (it fails on cpu
      // too), so gradients are compared only where both operands have the same batch dims.
      const differentiable = c.a.slice(0, -2).join() === c.b.slice(0, -2).join();
      const run = (): tf.Tensor[] => {
        const a = tf.tensor(seededFloats(10 + i, size(c.a)), c.a);
        const b = tf.tensor(seededFloats(50 + i, size(c.b)), c.b);
        const y = tf.matMul(a, b, c.transposeA, c.transposeB);
        if (!differentiable) return [y];
        const r = tf.tensor(seededFloats(90 + i, y.size), y.shape);
        const [da, db] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, w, c.transposeA, c.transposeB), r)))([a, b]);
        return [y, da!, db!];
      };
      const wasm = await onEngine('wasm', run);
      const cpu = await onEngine('cpu', run);
      expect(wasm).toHaveLength(differentiable ? 3 : 1);
      for (const [j, what] of ['a·b', 'd/da', 'd/db'].slice(0, wasm.length).entries()) {
        expect(relativeMaxError(wasm[j]!, cpu[j]!), `${what} ${JSON.stringify(c)}`).toBeLessThan(1e-4);
      }
    }
  });

  it('leaks no tensors or backend data', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(seededFloats(1, 2 * 3 * 6 * 4), [2, 3, 6, 4]);
    const b = tf.tensor(seededFloats(2, 6 * 5), [6, 5]);
    const bT = tf.tensor(seededFloats(3, 4 * 5), [5, 4]);
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    tf.env().set('IS_TEST', true); // the engine also checks each kernel for internal leaks
    try {
      tf.dispose([tf.matMul(a, b, true, false), tf.matMul(a, bT, false, true), tf.matMul(bT, a, false, true)]);
    } finally {
      tf.env().set('IS_TEST', false);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
    tf.dispose([a, b, bT]);
  });
});
