/**
 * A small diffusion-U-Net training step (the graph scripts/audit-wasm-kernels.mjs audits) gives
 * the same parameter gradients on the wasm engine, with registerWasmTrainingKernels, as on the
 * cpu engine, and leaks nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src/gradients/register-wasm-gradients.js';
import { initEngines, onEngine, relativeMaxError, seededFloats, tf } from './engines.js';

const B = 2;
const H = 8;
const C = 8;
const GROUPS = 2;

const PARAM_SHAPES: Record<string, number[]> = {
  conv3: [3, 3, C, C],
  conv3s2: [3, 3, C, C],
  conv1: [1, 1, 2 * C, C],
  convOut: [3, 3, C, C],
  gnGamma: [C],
  gnBeta: [C],
  linW: [C, C],
  linB: [C],
  qkv: [C, 3 * C],
  outW: [C, C],
};
const NAMES = Object.keys(PARAM_SHAPES);

function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = tf.reshape(x, [b, h, w, GROUPS, c / GROUPS]);
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(n, gamma), beta);
}

const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));

function attention(x: tf.Tensor4D, qkvW: tf.Tensor2D, outW: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const n = h * w;
  const qkv = tf.reshape(tf.matMul(tf.reshape(x, [b * n, c]), qkvW), [b, n, 3 * c]);
  const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  const weights = tf.softmax(tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(c)));
  const out = tf.reshape(tf.matMul(weights, v), [b * n, c]);
  return tf.reshape(tf.matMul(out, outW), [b, h, w, c]);
}

/**
 * Nearest ×2 upsampling by two rank-4 tiles. Not tf.image.resizeNearestNeighbor: the cpu
 * engine's ResizeNearestNeighborGrad (tfjs-backend-cpu 4.22) reads dy at the images' batch
 * stride, so its gradient is wrong for batch > 1 and cannot serve as the reference (wasm's is
 * right; see the last test). Rank-6 tile has no gradient in tfjs-core 4.22.
 */
function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cols = tf.reshape(tf.tile(tf.reshape(x, [b * h, w, 1, c]), [1, 1, 2, 1]), [b, h, 1, 2 * w * c]);
  return tf.reshape(tf.tile(cols, [1, 1, 2, 1]), [b, 2 * h, 2 * w, c]);
}

/** Bicubic-style resize as two matmuls with fixed interpolation matrices (host constants). */
function resizeByMatmul(x: tf.Tensor4D, size: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const rh = tf.tensor2d(seededFloats(91, size * h), [size, h]);
  const rw = tf.tensor2d(seededFloats(92, size * w), [size, w]);
  const rows = tf.reshape(tf.matMul(rh, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c])), [size, b, w, c]);
  const cols = tf.matMul(rw, tf.reshape(tf.transpose(rows, [2, 1, 0, 3]), [w, b * size * c]));
  return tf.transpose(tf.reshape(cols, [size, b, size, c]), [1, 2, 0, 3]);
}

/** Loss of one training step; `p` in NAMES order. */
function loss(...p: tf.Tensor[]): tf.Scalar {
  const q = Object.fromEntries(NAMES.map((name, i) => [name, p[i]!])) as Record<string, tf.Tensor>;
  const x0 = tf.tensor4d(seededFloats(1, B * H * H * C), [B, H, H, C]);
  const target = tf.tensor4d(seededFloats(2, B * H * H * C), [B, H, H, C]);
  const temb = tf.tensor2d(seededFloats(3, B * C), [B, C]);

  let h = tf.conv2d(tf.pad(x0, [[0, 0], [1, 1], [1, 1], [0, 0]]), q['conv3'] as tf.Tensor4D, 1, 'valid');
  h = silu(groupNorm(h, q['gnGamma']!, q['gnBeta']!));
  const emb = silu(tf.add(tf.matMul(temb, q['linW'] as tf.Tensor2D), q['linB']!));
  h = tf.add(h, tf.reshape(emb, [B, 1, 1, C]));
  const skip = h;
  let d = tf.conv2d(tf.pad(h, [[0, 0], [0, 1], [0, 1], [0, 0]]), q['conv3s2'] as tf.Tensor4D, 2, 'valid');
  d = tf.add(d, attention(d, q['qkv'] as tf.Tensor2D, q['outW'] as tf.Tensor2D));
  d = tf.dropout(d, 0.25, undefined, 1234) as tf.Tensor4D;
  let u = upsampleNearest2x(d);
  u = tf.conv2d(tf.concat([u, skip], 3), q['conv1'] as tf.Tensor4D, 1, 'valid');
  u = tf.conv2d(silu(u), q['convOut'] as tf.Tensor4D, 1, 'same');
  const small = resizeByMatmul(u, 5);
  return tf.add(tf.mean(tf.square(tf.sub(u, target))), tf.mean(tf.square(small)));
}

function stepGradients(): tf.Tensor[] {
  const params = NAMES.map((name, i) => {
    const shape = PARAM_SHAPES[name]!;
    const values = seededFloats(100 + i, shape.reduce((a, b) => a * b, 1)).map((v) => 0.3 * v);
    return tf.tensor(values, shape);
  });
  const { value, grads } = tf.valueAndGrads(loss)(params);
  return [value, ...grads];
}

beforeAll(async () => {
  await initEngines();
  registerWasmTrainingKernels(tf);
});

describe('U-Net training step on wasm', () => {
  it('gives the cpu engine’s loss and parameter gradients within 1e-3 relative', async () => {
    const wasm = await onEngine('wasm', stepGradients);
    const cpu = await onEngine('cpu', stepGradients);
    expect(wasm).toHaveLength(NAMES.length + 1);
    expect(relativeMaxError(wasm[0]!, cpu[0]!), 'loss').toBeLessThan(1e-3);
    for (const [i, name] of NAMES.entries()) {
      const grad = cpu[i + 1]!;
      // A zero gradient would make the comparison vacuous.
      expect(grad.data.some((v) => v !== 0), `${name} gradient is non-zero`).toBe(true);
      expect(relativeMaxError(wasm[i + 1]!, grad), name).toBeLessThan(1e-3);
    }
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 2; i++) tf.dispose(tf.tidy(stepGradients));
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
  });

  it('wasm’s resizeNearestNeighbor gradient (batch 2) equals the summed 2×2 blocks of dy', async () => {
    const [b, h, c] = [2, 3, 4];
    const dyHost = seededFloats(21, b * 2 * h * 2 * h * c);
    // Hand reference: output pixel (y, x) copies input (⌊y/2⌋, ⌊x/2⌋), so dx sums each 2×2 block.
    const expected = new Float32Array(b * h * h * c);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < 2 * h; y++)
        for (let x = 0; x < 2 * h; x++)
          for (let k = 0; k < c; k++) {
            const at = ((n * h + (y >> 1)) * h + (x >> 1)) * c + k;
            expected[at] = (expected[at] ?? 0) + (dyHost[((n * 2 * h + y) * 2 * h + x) * c + k] ?? 0);
          }
    const [dx] = await onEngine('wasm', () => {
      const dy = tf.tensor4d(dyHost, [b, 2 * h, 2 * h, c]);
      const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * h]), dy));
      return [tf.grad(f)(tf.zeros([b, h, h, c]))];
    });
    expect(relativeMaxError(dx!, { shape: [b, h, h, c], data: expected })).toBeLessThan(1e-6);
  });
});
