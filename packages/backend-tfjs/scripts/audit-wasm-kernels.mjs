// Audit which kernels a U-Net training step needs on the tfjs wasm engine but the engine lacks.
//
// Part 1 lists kernels registered for 'cpu' but not for 'wasm' (tf.getKernelsForBackend).
// Part 2 runs forward + backward (tf.variableGrads) of each building block of a diffusion U-Net
// training step, and of the whole step, and reports every "Kernel 'X' not registered" error.
// Part 3 repeats part 2 after registerWasmTrainingKernels (src/gradients), loaded without a build.
// Part 4 checks gradients that disagree between the cpu and wasm engines (found while testing).
// Part 5 profiles the full step at a realistic size: which kernels the backward pass spends time in.
//
// Usage (from packages/backend-tfjs):  node scripts/audit-wasm-kernels.mjs
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { performance } from 'node:perf_hooks';
import { loadWasmGradients } from './load-wasm-gradients.mjs';

const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);


// ---------------------------------------------------------------- part 1: registry difference
const cpuKernels = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
const cpuOnly = [...cpuKernels].filter((k) => !wasmKernels.has(k)).sort();
console.log(`kernels on cpu: ${cpuKernels.size}, on wasm: ${wasmKernels.size}`);
console.log(`registered for cpu but not for wasm (${cpuOnly.length}):`);
console.log(`  ${cpuOnly.join(', ')}`);

// ---------------------------------------------------------------- part 2: training-step blocks
await tf.setBackend('wasm');
await tf.ready();

const B = 2;
const H = 8;
const C = 8;
const v = (shape, name) => tf.variable(tf.randomNormal(shape, 0, 0.2), true, name);

const params = {
  conv3: v([3, 3, C, C], 'conv3'),
  conv3s2: v([3, 3, C, C], 'conv3s2'),
  conv1: v([1, 1, 2 * C, C], 'conv1'),
  gnGamma: v([C], 'gnGamma'),
  gnBeta: v([C], 'gnBeta'),
  linW: v([C, C], 'linW'),
  linB: v([C], 'linB'),
  qkv: v([C, 3 * C], 'qkv'),
  outW: v([C, C], 'outW'),
};
const x0 = tf.randomNormal([B, H, H, C]);
const target = tf.randomNormal([B, H, H, C]);
const temb = tf.randomNormal([B, C]);

const conv3 = (x, w) => tf.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), w, 1, 'valid');
const conv3s2 = (x, w) => tf.conv2d(tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]), w, 2, 'valid');
const conv1 = (x, w) => tf.conv2d(x, w, 1, 'valid');
const silu = (x) => tf.mul(x, tf.sigmoid(x));
const groupNormMoments = (x, groups = 2) => {
  const [b, h, w, c] = x.shape;
  const g = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(n, params.gnGamma), params.gnBeta);
};
const groupNormExplicit = (x, groups = 2, gamma = params.gnGamma, beta = params.gnBeta) => {
  const [b, h, w, c] = x.shape;
  const g = tf.reshape(x, [b, h, w, groups, c / groups]);
  const mean = tf.mean(g, [1, 2, 4], true);
  const d = tf.sub(g, mean);
  const variance = tf.mean(tf.square(d), [1, 2, 4], true);
  const n = tf.reshape(tf.mul(d, tf.rsqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(n, gamma), beta);
};
const linear = (x2d) => tf.add(tf.matMul(x2d, params.linW), params.linB);
const attention = (x) => {
  const [b, h, w, c] = x.shape;
  const tokens = tf.reshape(x, [b, h * w, c]);
  const qkv = tf.reshape(tf.matMul(tf.reshape(tokens, [b * h * w, c]), params.qkv), [b, h * w, 3, c]);
  const q = tf.squeeze(tf.slice(qkv, [0, 0, 0, 0], [b, h * w, 1, c]), [2]);
  const k = tf.squeeze(tf.slice(qkv, [0, 0, 1, 0], [b, h * w, 1, c]), [2]);
  const val = tf.squeeze(tf.slice(qkv, [0, 0, 2, 0], [b, h * w, 1, c]), [2]);
  const scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(c));
  const attn = tf.softmax(scores, -1);
  const out = tf.matMul(attn, val);
  return tf.reshape(tf.matMul(tf.reshape(out, [b * h * w, c]), params.outW), [b, h, w, c]);
};
const upsampleResize = (x) => tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
// Rank-6 tile has no gradient in tfjs-core 4.22 ("not implemented for rank-6 tensors"), so the
// usable form tiles twice at rank 4; both are audited.
const upsampleTile6 = (x) => {
  const [b, h, w, c] = x.shape;
  return tf.reshape(tf.tile(tf.reshape(x, [b, h, 1, w, 1, c]), [1, 1, 2, 1, 2, 1]), [b, 2 * h, 2 * w, c]);
};
const upsampleTile = (x) => {
  const [b, h, w, c] = x.shape;
  const cols = tf.reshape(tf.tile(tf.reshape(x, [b * h, w, 1, c]), [1, 1, 2, 1]), [b, h, 1, 2 * w * c]);
  return tf.reshape(tf.tile(cols, [1, 1, 2, 1]), [b, 2 * h, 2 * w, c]);
};
// Bicubic resize as two matmuls with constant interpolation matrices (rows sum to 1).
const resizeMatrix = (from, to) => {
  const m = tf.randomUniform([to, from]);
  return tf.div(m, tf.sum(m, 1, true));
};
const bicubicMatmul = (x, size) => {
  const [b, h, w, c] = x.shape;
  const Rh = resizeMatrix(h, size);
  const Rw = resizeMatrix(w, size);
  // rows: [b, h, w*c] -> Rh · (h, w*c) per batch
  const xr = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c]);
  const y1 = tf.transpose(tf.reshape(tf.matMul(Rh, xr), [size, b, w, c]), [1, 0, 2, 3]);
  const y1c = tf.reshape(tf.transpose(y1, [2, 0, 1, 3]), [w, b * size * c]);
  return tf.transpose(tf.reshape(tf.matMul(Rw, y1c), [size, b, size, c]), [1, 2, 0, 3]);
};
const mse = (a, b) => tf.mean(tf.square(tf.sub(a, b)));

const blocks = {
  'conv 3x3 stride 1 (tf.pad + valid)': () => mse(conv3(x0, params.conv3), target),
  'conv 3x3 stride 2 (tf.pad + valid)': () =>
    mse(conv3s2(x0, params.conv3s2), tf.slice(target, [0, 0, 0, 0], [B, H / 2, H / 2, C])),
  'conv 3x3 stride 1 same': () => mse(tf.conv2d(x0, params.conv3, 1, 'same'), target),
  'conv 1x1 (after concat)': () => mse(conv1(tf.concat([x0, target], 3), params.conv1), target),
  'group norm (moments)': () => mse(groupNormMoments(x0), target),
  'group norm (mean/sub/square/mean)': () => mse(groupNormExplicit(x0), target),
  'SiLU': () => mse(silu(tf.mul(x0, params.gnGamma)), target),
  'linear (matMul + bias)': () => mse(linear(temb), tf.zeros([B, C])),
  'attention': () => mse(attention(x0), target),
  'upsample resizeNearestNeighbor': () =>
    tf.mean(tf.square(upsampleResize(tf.mul(x0, params.gnGamma)))),
  'upsample reshape+tile (rank 6)': () => tf.mean(tf.square(upsampleTile6(tf.mul(x0, params.gnGamma)))),
  'upsample reshape+tile (rank 4, twice)': () => tf.mean(tf.square(upsampleTile(tf.mul(x0, params.gnGamma)))),
  'concat channels': () => mse(tf.concat([tf.mul(x0, params.gnGamma), target], 3), tf.zeros([B, H, H, 2 * C])),
  'bicubic resize as matmul': () => tf.mean(tf.square(bicubicMatmul(tf.mul(x0, params.gnGamma), 12))),
  'dropout': () => mse(tf.dropout(tf.mul(x0, params.gnGamma), 0.1), target),
  'full U-Net step': () => {
    // down: conv, GN, SiLU, + time embedding, stride-2 conv; mid: attention; up: nearest x2, concat, 1x1
    let h = conv3(x0, params.conv3);
    h = silu(groupNormMoments(h));
    h = tf.add(h, tf.reshape(silu(linear(temb)), [B, 1, 1, C]));
    const skip = h;
    let d = conv3s2(h, params.conv3s2);
    d = tf.add(d, attention(d));
    d = tf.dropout(d, 0.1);
    let u = upsampleResize(d);
    u = tf.add(u, upsampleTile(d));
    u = conv1(tf.concat([u, skip], 3), params.conv1);
    u = silu(groupNormExplicit(u));
    const small = bicubicMatmul(u, 4);
    return tf.add(mse(u, target), tf.mean(tf.square(small)));
  },
};

const missingOf = (message) => /Kernel '([^']+)' not registered for backend 'wasm'/.exec(message)?.[1];

async function runBlocks(label) {
  console.log(`\n${label}`);
  const missing = new Set();
  for (const [name, f] of Object.entries(blocks)) {
    try {
      const { value, grads } = tf.variableGrads(f);
      const n = Object.keys(grads).length;
      tf.dispose([value, grads]);
      console.log(`  ok       ${name} (${n} variable grads)`);
    } catch (error) {
      const k = missingOf(String(error?.message ?? error));
      if (k) missing.add(k);
      console.log(`  ${k ? 'MISSING ' : 'FAILED  '} ${name}: ${k ?? String(error?.message ?? error)}`);
    }
  }
  console.log(`  missing kernels: ${missing.size === 0 ? '(none)' : [...missing].join(', ')}`);
  return missing;
}

await runBlocks('forward + backward on wasm, plain engine:');

const { registerWasmTrainingKernels, unregisterWasmTrainingKernels } = await loadWasmGradients();
const registered = registerWasmTrainingKernels(tf);
const again = registerWasmTrainingKernels(tf);
console.log(`\nregisterWasmTrainingKernels: [${registered.join(', ')}]; second call: [${again.join(', ')}]`);
await runBlocks('forward + backward on wasm, after registerWasmTrainingKernels:');
const filterKernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');

// ---------------------------------------------------------------- part 4: engines disagreeing
// tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad offsets dy by the IMAGES' batch stride, so
// for batch > 1 its gradient is wrong; wasm's matches the hand sum of 2×2 blocks.
{
  const [b, h, c] = [2, 3, 2];
  const dyHost = Float32Array.from({ length: b * 4 * h * h * c }, (_, i) => ((i * 37) % 11) - 5);
  const reference = new Float32Array(b * h * h * c);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < 2 * h; y++)
      for (let x = 0; x < 2 * h; x++)
        for (let k = 0; k < c; k++)
          reference[((n * h + (y >> 1)) * h + (x >> 1)) * c + k] += dyHost[((n * 2 * h + y) * 2 * h + x) * c + k];
  console.log('\nresizeNearestNeighbor gradient, batch 2, vs the hand sum of 2×2 blocks:');
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const g = tf.tidy(() =>
      tf.grad((x) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x, [2 * h, 2 * h]), tf.tensor4d(dyHost, [b, 2 * h, 2 * h, c]))))(
        tf.zeros([b, h, h, c]),
      ),
    );
    const got = g.dataSync();
    g.dispose();
    const err = Math.max(...reference.map((v, i) => Math.abs(v - got[i])));
    console.log(`  ${backend}: max abs error ${err}${err > 1e-5 ? '  <-- WRONG' : ''}`);
  }
  await tf.setBackend('wasm');
}

// ---------------------------------------------------------------- part 5: where backward time goes
{
  const [b, s, c] = [8, 32, 64];
  const big = {
    conv3: tf.variable(tf.randomNormal([3, 3, c, c], 0, 0.05)),
    conv3s2: tf.variable(tf.randomNormal([3, 3, c, c], 0, 0.05)),
    conv1: tf.variable(tf.randomNormal([1, 1, 2 * c, c], 0, 0.05)),
    qkv: tf.variable(tf.randomNormal([c, 3 * c], 0, 0.05)),
    gamma: tf.variable(tf.ones([c])),
    beta: tf.variable(tf.zeros([c])),
  };
  const x = tf.randomNormal([b, s, s, c]);
  const step = () => {
    const h = tf.conv2d(x, big.conv3, 1, 'same');
    const a = silu(groupNormExplicit(h, 4, big.gamma, big.beta));
    const d = tf.conv2d(tf.pad(a, [[0, 0], [0, 1], [0, 1], [0, 0]]), big.conv3s2, 2, 'valid');
    const tokens = tf.reshape(d, [b, (s / 2) * (s / 2), c]);
    const qkv = tf.reshape(tf.matMul(tf.reshape(tokens, [-1, c]), big.qkv), [b, -1, 3 * c]);
    const [q, k, v] = tf.split(qkv, 3, 2);
    const att = tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), v);
    const up = upsampleResize(tf.add(d, tf.reshape(att, d.shape)));
    const u = tf.conv2d(tf.concat([up, a], 3), big.conv1, 1, 'valid');
    return tf.mean(tf.square(u));
  };
  const profileStep = async (label) => {
  tf.dispose(tf.variableGrads(step)); // warm-up
  const t0 = performance.now();
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(step);
    tf.dispose([value, grads]);
  });
  const wall = performance.now() - t0;
  const byKernel = new Map();
  for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
  const top = [...byKernel.entries()].sort((p, q) => q[1] - p[1]).slice(0, 12);
  const total = [...byKernel.values()].reduce((p, q) => p + q, 0);
  console.log(`\nprofile of one training step, ${label}: batch ${b}, ${s}×${s}, ${c} channels; kernels ${total.toFixed(0)} ms, wall ${wall.toFixed(0)} ms incl. profiling`);
  for (const [name, ms] of top) console.log(`  ${name.padEnd(24)} ${ms.toFixed(1)} ms`);
  };
  await profileStep('with registerWasmTrainingKernels');
  // Without them the step cannot run at all (no Conv2DBackpropFilter), so compare against wasm's
  // own Conv2DBackpropInput and BatchMatMul, keeping only our Conv2DBackpropFilter.
  unregisterWasmTrainingKernels(tf);
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: filterKernel.kernelFunc });
  await profileStep("with wasm's own kernels (plus our Conv2DBackpropFilter)");
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  registerWasmTrainingKernels(tf);
}
