// Benchmark of the wasm training kernels (src/gradients) against wasm's forward conv and its own
// Conv2DBackpropInput / BatchMatMul. Not a test. For convs, GFLOP/s counts one forward conv's
// FLOPs, 2·B·Ho·Wo·Cin·Cout·kH·kW, per call, so the rows compare directly; for matMuls 2·M·K·N
// per batch.
//
// Usage (from packages/backend-tfjs):  node scripts/bench-wasm-gradients.mjs [--batch 16] [--size 32] [--channels 32]
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadWasmGradients } from './load-wasm-gradients.mjs';

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '16' },
    size: { type: 'string', default: '32' },
    channels: { type: 'string', default: '32' },
    reps: { type: 'string', default: '10' },
  },
});
const B = Number(args.batch);
const S = Number(args.size);
const C = Number(args.channels);
const REPS = Number(args.reps);

const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
await tf.setBackend('wasm');
await tf.ready();
const { registerWasmTrainingKernels, unregisterWasmTrainingKernels } = await loadWasmGradients();

/** Median wall time of `f` in ms (its result is read back, then disposed). */
function time(f) {
  const run = () => {
    const t0 = performance.now();
    const out = f();
    out.dataSync();
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  for (let i = 0; i < 2; i++) run();
  const times = Array.from({ length: REPS }, run).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const rows = [];
function bench(label, flops, f) {
  const before = tf.memory().numTensors;
  const ms = time(f);
  if (tf.memory().numTensors !== before) throw new Error(`${label} leaked ${tf.memory().numTensors - before} tensors`);
  rows.push({ label, ms, gflops: flops / ms / 1e6 });
}

function suite({ k, stride, pad, inC, outC }) {
  const x = tf.randomNormal([B, S, S, inC]);
  const w = tf.randomNormal([k, k, inC, outC]);
  const y = tf.conv2d(x, w, stride, pad);
  const dy = tf.randomNormal(y.shape);
  const [, ho, wo] = y.shape;
  const flops = 2 * B * ho * wo * inC * outC * k * k;
  const tag = `${k}×${k} s${stride} ${pad} ${inC}→${outC}`;
  const attrs = { strides: stride, pad, dataFormat: 'NHWC' };
  const dx = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape });
  const dW = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape });

  bench(`${tag}  forward conv2d`, flops, () => tf.conv2d(x, w, stride, pad));
  unregisterWasmTrainingKernels(tf);
  bench(`${tag}  dx native (wasm Conv2DBackpropInput)`, flops, dx);
  registerWasmTrainingKernels(tf);
  bench(`${tag}  dx new (${stride === 1 ? 'conv, flipped filter' : 'sub-pixel conv'})`, flops, dx);
  bench(`${tag}  dW new (${k === 1 && stride === 1 ? 'xᵀ·dy matMul' : 'one dilated conv'})`, flops, dW);
  bench(`${tag}  forward+dx+dW via tf.grads`, 3 * flops, () =>
    tf.tidy(() => {
      const [gx, gw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a, b, stride, pad), dy)))([x, w]);
      return tf.add(tf.sum(gx), tf.sum(gw));
    }),
  );
  tf.dispose([x, w, y, dy]);
}

/** matMul a·b with flags: wasm's own BatchMatMul vs the wrapped one. */
function matMulSuite(label, aShape, bShape, transposeA, transposeB) {
  const a = tf.randomNormal(aShape);
  const b = tf.randomNormal(bShape);
  const y = tf.matMul(a, b, transposeA, transposeB);
  const k = transposeA ? aShape.at(-2) : aShape.at(-1);
  const flops = 2 * y.size * k;
  const f = () => tf.matMul(a, b, transposeA, transposeB);
  unregisterWasmTrainingKernels(tf);
  bench(`${label}  native BatchMatMul`, flops, f);
  registerWasmTrainingKernels(tf);
  bench(`${label}  new`, flops, f);
  tf.dispose([a, b, y]);
}

registerWasmTrainingKernels(tf);
suite({ k: 3, stride: 1, pad: 'same', inC: C, outC: C });
suite({ k: 3, stride: 2, pad: 'same', inC: C, outC: C });
suite({ k: 1, stride: 1, pad: 'valid', inC: 2 * C, outC: C });
// A linear layer on B·S·S tokens (C → 3C) and its two backward products.
const tokens = B * S * S;
matMulSuite(`linear dx = dy·Wᵀ [${tokens},${3 * C}]·[${C},${3 * C}]ᵀ`, [tokens, 3 * C], [C, 3 * C], false, true);
matMulSuite(`linear dW = xᵀ·dy [${tokens},${C}]ᵀ·[${tokens},${3 * C}]`, [tokens, C], [tokens, 3 * C], true, false);
// Attention over (S/2)² tokens per image: scores q·kᵀ and weights·v.
const t = (S / 2) * (S / 2);
matMulSuite(`attention q·kᵀ [${B},${t},${C}]·[${B},${t},${C}]ᵀ`, [B, t, C], [B, t, C], false, true);
matMulSuite(`attention p·v [${B},${t},${t}]·[${B},${t},${C}]`, [B, t, t], [B, t, C], false, false);

console.log(`tfjs wasm, batch ${B}, ${S}×${S}, ${C} channels, median of ${REPS}`);
console.log('| operation | ms | GFLOP/s |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.label} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(1)} |`);
