// @ts-check
/**
 * The attainable peak of each runtime on this machine: a plain large 3×3 convolution and a large
 * matrix product, run through the same runtime (and the same session options / engine) as the
 * U-Net, so a backend's achieved GFLOP/s can be read against what its kernels reach at best.
 *
 * FLOPs count 2 per multiply-accumulate, as core's flopTable does.
 */
import { timeInterleaved } from './lib/timing.mjs';

/** Sizes: a mid-U-Net conv (64→64 channels, 32×32, batch 16: 1.2 GFLOP) and a 1024² matmul (2.1 GFLOP). */
export const peakShapes = Object.freeze({
  conv: Object.freeze({ batch: 16, channels: 64, size: 32, kernel: 3 }),
  matmul: Object.freeze({ n: 1024 }),
});

/**
 * FLOPs of the peak convolution (2 per multiply-accumulate).
 *
 * @param {import('./lib/types.js').ConvShape} shape
 * @returns {number}
 */
export function convFlops({ batch, channels, size, kernel }) {
  return 2 * batch * channels * channels * kernel * kernel * size * size;
}

/**
 * FLOPs of an n×n by n×n matrix product (2 per multiply-accumulate).
 *
 * @param {import('./lib/types.js').MatmulShape} shape
 * @returns {number}
 */
export function matmulFlops({ n }) {
  return 2 * n ** 3;
}

/**
 * A peak measurement: its shape, FLOPs, timing and GFLOP/s.
 *
 * @template {object} Shape
 * @param {number} flops
 * @param {import('./lib/types.js').Timing} timing
 * @param {Shape} extra the shape measured
 * @returns {import('./lib/types.js').PeakFigure<Shape>}
 */
function figure(flops, timing, extra) {
  return { ...extra, flops, ...timing, gflops: Math.round((flops / (timing.ms / 1000) / 1e9) * 100) / 100 };
}

/**
 * Deterministic values in [-0.5, 0.5): the data does not change dense kernels' speed.
 *
 * @param {number} length
 * @param {number} seed
 * @returns {Float32Array}
 */
function pattern(length, seed) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (Math.sin((i + seed) * 12.9898) * 43758.5453) % 1 / 2;
  return out;
}

/**
 * onnxruntime-node: one-node Conv and MatMul graphs (weights as initializers, like the U-Net's),
 * built with backend-onnx's GraphBuilder, on the CPU execution provider with `threads` intra-op threads.
 *
 * @param {object} run
 * @param {typeof import('onnxruntime-node')} run.ort
 * @param {import('./lib/types.js').BackendOnnxPackage['GraphBuilder']} run.GraphBuilder
 * @param {number} run.threads intra-op threads
 * @param {import('./lib/types.js').TimingOptions} run.timing
 * @returns {Promise<import('./lib/types.js').PeakResult>}
 */
export async function onnxPeak({ ort, GraphBuilder, threads, timing }) {
  /** @type {import('onnxruntime-node').InferenceSession.SessionOptions} */
  const sessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, logSeverityLevel: 3 };
  const { batch, channels, size, kernel } = peakShapes.conv;
  const conv = new GraphBuilder('peak_conv');
  const x = conv.input('x', 'float32', [batch, channels, size, size]);
  const w = conv.initializer('w', pattern(channels * channels * kernel * kernel, 1), [channels, channels, kernel, kernel]);
  const pad = Math.floor(kernel / 2);
  conv.output(conv.op('Conv', [x, w], { kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad] }), 'y', 'float32', [batch, channels, size, size]);
  const { n } = peakShapes.matmul;
  const matmul = new GraphBuilder('peak_matmul');
  const a = matmul.input('a', 'float32', [n, n]);
  const b = matmul.initializer('b', pattern(n * n, 2), [n, n]);
  matmul.output(matmul.op('MatMul', [a, b]), 'y', 'float32', [n, n]);

  /**
   * Times one graph on its input shape.
   *
   * @param {InstanceType<typeof GraphBuilder>} builder
   * @param {number[]} feedShape
   */
  const time = async (builder, feedShape) => {
    const session = await ort.InferenceSession.create(builder.encode(), sessionOptions);
    const input = new ort.Tensor('float32', pattern(feedShape.reduce((p, d) => p * d, 1), 3), feedShape);
    const feeds = { [session.inputNames[0]]: input };
    const [t] = await timeInterleaved([() => session.run(feeds)], timing);
    await session.release();
    return t;
  };
  const convFigure = figure(convFlops(peakShapes.conv), await time(conv, [batch, channels, size, size]), peakShapes.conv);
  const matmulFigure = figure(matmulFlops(peakShapes.matmul), await time(matmul, [n, n]), peakShapes.matmul);
  return { conv: convFigure, matmul: matmulFigure };
}

/**
 * TensorFlow.js on its active engine (the caller starts it): tf.conv2d (NHWC, 'same') and tf.matMul, read back like predict().
 *
 * @param {object} run
 * @param {typeof import('@tensorflow/tfjs')} run.tf
 * @param {import('./lib/types.js').TimingOptions} run.timing
 * @returns {Promise<import('./lib/types.js').PeakResult>}
 */
export async function tfjsPeak({ tf, timing }) {
  const { batch, channels, size, kernel } = peakShapes.conv;
  const x = tf.tensor4d(pattern(batch * size * size * channels, 3), [batch, size, size, channels]);
  const w = tf.tensor4d(pattern(kernel * kernel * channels * channels, 1), [kernel, kernel, channels, channels]);
  const { n } = peakShapes.matmul;
  const a = tf.tensor2d(pattern(n * n, 3), [n, n]);
  const b = tf.tensor2d(pattern(n * n, 2), [n, n]);
  const timed = (/** @type {() => import('@tensorflow/tfjs').Tensor} */ make) => async () => {
    const y = make();
    await y.data();
    y.dispose();
  };
  try {
    const [convTime] = await timeInterleaved([timed(() => tf.conv2d(x, w, 1, 'same'))], timing);
    const [matmulTime] = await timeInterleaved([timed(() => tf.matMul(a, b))], timing);
    return {
      conv: figure(convFlops(peakShapes.conv), convTime, peakShapes.conv),
      matmul: figure(matmulFlops(peakShapes.matmul), matmulTime, peakShapes.matmul),
    };
  } finally {
    tf.dispose([x, w, a, b]);
  }
}
