/**
 * BatchMatMul for the tfjs wasm engine, routed onto its one fast matmul.
 *
 * tfjs-backend-wasm 4.22 (src/cc/batch_mat_mul_impl.cc) runs XNNPACK's fully-connected operator
 * only for `[1, M, K] · [1, K, N]` without transposes; every other case — a `transposeA` /
 * `transposeB` flag, or a batch — falls to a scalar blocked loop at ~2 GFLOP/s (measured: 2-D
 * `transposeA` 88 ms vs 9 ms for an explicit transpose then matMul). Backprop through any matMul
 * asks for exactly those cases (dA = dy·Bᵀ, dB = Aᵀ·dy), so training leans on them.
 *
 * Rewrites, all exact up to float summation order:
 * - transposes become explicit `transpose` ops (a memory copy), then no flags;
 * - `[batch, M, K] · [K, N]` (b unbatched): rows of all batches stacked, one `[batch·M, K]` matMul;
 * - `[M, K] · [batch, K, N]` (a unbatched): columns of all batches side by side, one
 *   `[M, K] · [K, batch·N]` matMul;
 * - both batched alike: one 2-D matMul per batch when each is big enough to repay XNNPACK's
 *   per-call weight packing (~0.6 ms), otherwise wasm's own kernel.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { Tfjs } from './conv2d-geometry.js';
import { asTensor, unstackRows } from './kernel-tensors.js';

/**
 * Smallest per-batch `M·K·N` for which a loop of 2-D matMuls beats wasm's batched loop. Measured
 * (B, M, K, N): (8, 256, 64, 256) 10 vs 37 ms and (32, 256, 32, 256) 45 vs 64 ms favour the loop;
 * (16, 64, 64, 64) 6.9 vs 4.0 ms and (64, 64, 32, 64) 43 vs 8 ms favour wasm's kernel.
 */
export const LOOP_MIN_SLICE_MACS = 1 << 20;

const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

/** How {@link fastBatchMatMul} computes a product, decided from shapes alone. */
export type BatchMatMulRoute =
  | 'native' // wasm's own kernel: already fast, or nothing better applies
  | 'stack-rows' // b unbatched: one [batch·M, K]·[K, N]
  | 'stack-columns' // a unbatched: one [M, K]·[K, batch·N]
  | 'per-batch'; // both batched alike, big slices: one 2-D matMul per batch

/** Picks the route for `a · b` (tfjs BatchMatMul semantics) on wasm. */
export function batchMatMulRoute(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): BatchMatMulRoute {
  if (aShape.length < 2 || bShape.length < 2) return 'native';
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = product(outerA);
  const batchB = product(outerB);
  if (!transposeA && !transposeB && batchA === 1 && batchB === 1) return 'native';
  if (batchB === 1) return 'stack-rows';
  if (batchA === 1) return 'stack-columns';
  const sameBatch = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  const [rowsA = 0, colsA = 0] = aShape.slice(-2);
  const n = transposeB ? (bShape.at(-2) ?? 0) : (bShape.at(-1) ?? 0);
  const macs = rowsA * colsA * n;
  return sameBatch && macs >= LOOP_MIN_SLICE_MACS ? 'per-batch' : 'native';
}

/**
 * `a · b` with tfjs BatchMatMul semantics (broadcast outer dims, optional transposes) along a
 * non-native `route`, using only flag-free unbatched matMuls. Creates tensors; call inside
 * `tf.tidy`.
 */
export function fastBatchMatMul(
  tf: Tfjs,
  a: tfjs.Tensor,
  b: tfjs.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  route: Exclude<BatchMatMulRoute, 'native'>,
): tfjs.Tensor {
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = product(outerA);
  const batchB = product(outerB);
  const [rowsA, colsA] = a.shape.slice(-2) as [number, number];
  const [rowsB, colsB] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
  const n = transposeB ? rowsB : colsB;
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];

  // [batch, M, K] and [batch, K, N], transposes made explicit.
  const a3 = tf.reshape(a, [batchA, rowsA, colsA]);
  const b3 = tf.reshape(b, [batchB, rowsB, colsB]);
  const aMk = transposeA ? tf.transpose(a3, [0, 2, 1]) : a3;
  const bKn = transposeB ? tf.transpose(b3, [0, 2, 1]) : b3;

  switch (route) {
    case 'stack-rows':
      return tf.reshape(tf.matMul(tf.reshape(aMk, [batchA * m, k]), tf.reshape(bKn, [k, n])), outShape);
    case 'stack-columns': {
      const side = tf.reshape(tf.transpose(bKn, [1, 0, 2]), [k, batchB * n]);
      const out = tf.reshape(tf.matMul(tf.reshape(aMk, [m, k]), side), [m, batchB, n]);
      return tf.reshape(tf.transpose(out, [1, 0, 2]), outShape);
    }
    case 'per-batch': {
      const slicesB = unstackRows(tf, bKn);
      const products = unstackRows(tf, aMk).map((slice, i) => tf.matMul(slice as tfjs.Tensor2D, slicesB[i] as tfjs.Tensor2D));
      return tf.reshape(tf.stack(products), outShape);
    }
  }
}

/**
 * The wasm `BatchMatMul` kernel: {@link fastBatchMatMul} where {@link batchMatMulRoute} finds a
 * faster route, else `original` (wasm's own kernel). The inner flag-free 2-D matMuls re-enter
 * this kernel and go straight to `original`.
 */
export function makeBatchMatMulKernel(tf: Tfjs, original: tfjs.KernelFunc): tfjs.KernelFunc {
  return (params) => {
    const { a, b } = params.inputs;
    const transposeA = params.attrs?.['transposeA'] === true;
    const transposeB = params.attrs?.['transposeB'] === true;
    if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return original(params);
    const route = batchMatMulRoute(a.shape, b.shape, transposeA, transposeB);
    if (route === 'native') return original(params);
    const k = transposeA ? a.shape.at(-2) : a.shape.at(-1);
    const kB = transposeB ? b.shape.at(-1) : b.shape.at(-2);
    if (k !== kB) return original(params); // wasm's kernel reports the mismatch
    return tf.tidy(() =>
      fastBatchMatMul(tf, asTensor(tf, a), asTensor(tf, b), transposeA, transposeB, route),
    );
  };
}
