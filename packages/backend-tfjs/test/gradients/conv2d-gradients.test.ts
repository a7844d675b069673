/**
 * The wasm Conv2DBackpropFilter / Conv2DBackpropInput kernels against the cpu engine's kernels
 * (tfjs-backend-cpu: direct loops over the defining sums, an independent implementation), on
 * random shapes, strides, paddings and layouts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../src/gradients/register-wasm-gradients.js';
import { initEngines, onEngine, relativeMaxError, seededFloats, tf, type HostArray } from './engines.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  readonly inC: number;
  readonly outC: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: 1 | 2;
  readonly pad: Pad;
  readonly seed: number;
}

const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    inC: fc.integer({ min: 3, max: 16 }),
    outC: fc.integer({ min: 3, max: 16 }),
    h: fc.integer({ min: 4, max: 9 }),
    w: fc.integer({ min: 4, max: 9 }),
    kh: fc.constantFrom(1, 2, 3),
    kw: fc.constantFrom(1, 3, 4),
    stride: fc.constantFrom(1 as const, 2 as const),
    pad: fc.oneof(
      fc.constant('same' as const),
      fc.constant('valid' as const),
      fc
        .tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2))
        .map(([t, b, l, r]): Pad => [[0, 0], [t, b], [l, r], [0, 0]]),
    ),
    seed: fc.nat(),
  })
  .filter((c) => c.pad !== 'valid' || (c.h >= c.kh && c.w >= c.kw));

const BATCH = 2;
const ALL = ['BatchMatMul', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];

/** dx and dW of Σ conv2d(x, W)·r (r random, so dy is not all ones) via tf.grads. */
function convGrads(c: ConvCase): tf.Tensor[] {
  const x = tf.tensor4d(seededFloats(c.seed, BATCH * c.h * c.w * c.inC), [BATCH, c.h, c.w, c.inC]);
  const filter = tf.tensor4d(seededFloats(c.seed + 1, c.kh * c.kw * c.inC * c.outC), [c.kh, c.kw, c.inC, c.outC]);
  const outShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
  const r = tf.tensor(seededFloats(c.seed + 2, outShape.reduce((a, b) => a * b, 1)), outShape);
  const f = (xs: tf.Tensor, ws: tf.Tensor): tf.Scalar =>
    tf.sum(tf.mul(tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, c.stride, c.pad), r));
  const [dx, dw] = tf.grads(f)([x, filter]);
  if (dx === undefined || dw === undefined) throw new Error('tf.grads returned no gradient');
  return [dx, dw];
}

function describeCase(c: ConvCase): string {
  return JSON.stringify({ ...c, seed: undefined });
}

beforeAll(async () => {
  await initEngines();
  registerWasmTrainingKernels(tf);
  // Makes the engine check every kernel for internal data leaks.
  tf.env().set('IS_TEST', true);
});

afterAll(() => {
  tf.env().set('IS_TEST', false);
});

describe('wasm conv2d gradients vs cpu engine', () => {
  it('dx and dW of conv2d match cpu within 1e-4 relative (random shapes, strides 1/2, same/valid/explicit)', async () => {
    const cases = fc.sample(convCase, { numRuns: 40, seed: 20240611 });
    // Cover each stride × padding kind at least once, whatever the sampler drew.
    const base = { inC: 5, outC: 7, h: 7, w: 8, kh: 3, kw: 3, seed: 11 };
    for (const stride of [1, 2] as const) {
      for (const pad of ['same', 'valid', [[0, 0], [1, 0], [0, 2], [0, 0]]] as Pad[]) {
        cases.push({ ...base, stride, pad });
      }
    }
    // 1×1 convs take a matMul path for dW when nothing is padded; padded ones take the conv path.
    for (const pad of ['valid', 'same', [[0, 0], [0, 2], [1, 0], [0, 0]]] as Pad[]) {
      cases.push({ ...base, kh: 1, kw: 1, stride: 1, pad });
    }
    for (const c of cases) {
      const [wasmDx, wasmDw] = (await onEngine('wasm', () => convGrads(c))) as [HostArray, HostArray];
      const [cpuDx, cpuDw] = (await onEngine('cpu', () => convGrads(c))) as [HostArray, HostArray];
      expect(relativeMaxError(wasmDx, cpuDx), `dx ${describeCase(c)}`).toBeLessThan(1e-4);
      expect(relativeMaxError(wasmDw, cpuDw), `dW ${describeCase(c)}`).toBeLessThan(1e-4);
    }
  });

  it('the kernels called directly match cpu for NCHW, strides 3 and unequal strides (incl. native fallback)', async () => {
    // Paths of the dx kernel: stride 1, sub-pixel (equal strides), zero insertion (unequal,
    // area ≤ 4), native fallback (unequal, area > 4); NCHW through transposes.
    const cases: { stride: [number, number]; dataFormat: 'NHWC' | 'NCHW'; pad: 'same' | 'valid' | number[][] }[] = [
      { stride: [1, 1], dataFormat: 'NCHW', pad: 'same' },
      { stride: [2, 1], dataFormat: 'NCHW', pad: [[0, 0], [0, 0], [1, 2], [0, 1]] },
      { stride: [2, 2], dataFormat: 'NCHW', pad: 'same' },
      { stride: [3, 3], dataFormat: 'NHWC', pad: 'same' },
      { stride: [3, 3], dataFormat: 'NHWC', pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
      { stride: [1, 3], dataFormat: 'NHWC', pad: 'valid' },
      { stride: [2, 3], dataFormat: 'NHWC', pad: 'same' },
    ];
    for (const [i, c] of cases.entries()) {
      const [n, h, w, ci, co, k] = [2, 8, 7, 4, 6, 3];
      const xShape = c.dataFormat === 'NHWC' ? [n, h, w, ci] : [n, ci, h, w];
      const filterShape: [number, number, number, number] = [k, k, ci, co];
      // wasm's forward Conv2D has no NCHW, so dy's shape comes from the cpu forward.
      const [y] = await onEngine('cpu', () => [
        tf.engine().runKernel('Conv2D', { x: tf.zeros(xShape), filter: tf.zeros(filterShape) }, { strides: c.stride, pad: c.pad, dataFormat: c.dataFormat, dilations: 1 }) as tf.Tensor,
      ]);
      const run = (): tf.Tensor[] => {
        const x = tf.tensor(seededFloats(100 + i, n * h * w * ci), xShape);
        const filter = tf.tensor(seededFloats(200 + i, k * k * ci * co), filterShape);
        const dy = tf.tensor(seededFloats(300 + i, y!.data.length), y!.shape);
        const attrs = { strides: c.stride, pad: c.pad, dataFormat: c.dataFormat };
        const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape }) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: xShape }) as tf.Tensor;
        return [dx, dW];
      };
      const cpu = await onEngine('cpu', run);
      const wasm = await onEngine('wasm', run);
      expect(relativeMaxError(wasm[0]!, cpu[0]!), `dx case ${i}`).toBeLessThan(1e-4);
      expect(relativeMaxError(wasm[1]!, cpu[1]!), `dW case ${i}`).toBeLessThan(1e-4);
    }
  });

  it('stride-1 dx equals wasm’s native Conv2DBackpropInput, and unregistering restores it', async () => {
    const run = (): tf.Tensor[] => {
      const dy = tf.tensor4d(seededFloats(7, 2 * 9 * 9 * 12), [2, 9, 9, 12]);
      const filter = tf.tensor4d(seededFloats(8, 3 * 3 * 10 * 12), [3, 3, 10, 12]);
      return [tf.conv2dTranspose(dy, filter, [2, 9, 9, 10], 1, 'same')];
    };
    const ours = await onEngine('wasm', run);
    expect(unregisterWasmTrainingKernels(tf).sort()).toEqual(ALL);
    try {
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      const native = await onEngine('wasm', run);
      expect(relativeMaxError(ours[0]!, native[0]!)).toBeLessThan(1e-6);
    } finally {
      registerWasmTrainingKernels(tf);
    }
  });

  it('kernels called directly with bare TensorInfos leave their inputs alive and leak nothing', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seededFloats(5, 2 * 6 * 5 * 3), [2, 6, 5, 3]);
    const dy = tf.tensor4d(seededFloats(6, 2 * 3 * 3 * 4), [2, 3, 3, 4]);
    const filter = tf.tensor4d(seededFloats(7, 3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC' } as const;
    const bare = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
    const backend = tf.engine().backend;
    const before = backend.numDataIds();
    const calls: { name: string; inputs: Record<string, tf.Tensor>; attrs: Record<string, unknown> }[] = [
      { name: 'Conv2DBackpropFilter', inputs: { x, dy }, attrs: { ...attrs, filterShape: filter.shape } },
      { name: 'Conv2DBackpropInput', inputs: { dy, filter }, attrs: { ...attrs, inputShape: x.shape } },
    ];
    for (const call of calls) {
      const viaEngine = tf.engine().runKernel(call.name, call.inputs, call.attrs as tf.NamedAttrMap) as tf.Tensor;
      const expected = { shape: viaEngine.shape, data: viaEngine.dataSync() as Float32Array };
      viaEngine.dispose();
      const bareInputs = Object.fromEntries(Object.entries(call.inputs).map(([k, t]) => [k, bare(t)]));
      const out = tf.getKernel(call.name, 'wasm').kernelFunc({ inputs: bareInputs, backend, attrs: call.attrs as tf.NamedAttrMap }) as tf.TensorInfo;
      const got = tf.engine().makeTensorFromTensorInfo(out);
      expect(relativeMaxError({ shape: got.shape, data: got.dataSync() as Float32Array }, expected), call.name).toBe(0);
      got.dispose();
    }
    expect(Array.from(x.dataSync())).toEqual(Array.from(seededFloats(5, 2 * 6 * 5 * 3)));
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, dy, filter]);
  });

  it('leaks no tensors or backend data', async () => {
    await tf.setBackend('wasm');
    const c: ConvCase = { inC: 6, outC: 5, h: 9, w: 6, kh: 3, kw: 3, stride: 2, pad: [[0, 0], [0, 1], [2, 1], [0, 0]], seed: 3 };
    const x = tf.tensor4d(seededFloats(1, BATCH * c.h * c.w * c.inC), [BATCH, c.h, c.w, c.inC]);
    const filter = tf.tensor4d(seededFloats(2, 9 * c.inC * c.outC), [3, 3, c.inC, c.outC]);
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad)))([x, filter]);
      tf.dispose([dx!, dw!]);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
    tf.dispose([x, filter]);
  });
});
