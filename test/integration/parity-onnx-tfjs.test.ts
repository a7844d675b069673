/**
 * Parity with the tfjs backend (wasm engine) on an mnistSmall-sized U-Net with random weights:
 * per-prediction ε for every depth and fill, and whole DDIM runs from the same seed. The two
 * backends share nothing but core (different graphs, kernels and engines), so agreement checks
 * both against each other; each is separately checked against the float64 reference by the
 * conformance suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type TfjsBackend } from '@levelskip/backend-tfjs';
import {
  customFill,
  duplicateFill,
  parseFill,
  parseUNetSpec,
  powerSchedule,
  presets,
  randomWeights,
  SeededRng,
  statelessFillKinds,
  zeroFill,
  type Denoiser,
  type FillStrategy,
  type PredictOptions,
} from '@levelskip/core';
import { ddim, sample } from '@levelskip/samplers';
import { createOnnxBackend, type OnnxBackend } from '@levelskip/backend-onnx';

// mnistSmall with side paths, so the interpolate fill is covered too.
const spec = parseUNetSpec({ ...presets.mnistSmall, sidePaths: true });
const weights = randomWeights(spec, { seed: 7, gain: 1, jitter: 0.1 });
const batch = 2;

let onnx: OnnxBackend;
let tfjs: TfjsBackend;
let onnxModel: Denoiser<unknown>;
let tfjsModel: Denoiser<unknown>;

beforeAll(async () => {
  onnx = await createOnnxBackend();
  tfjs = await createTfjsBackend({ engine: 'wasm' });
  onnxModel = (await onnx.createDenoiser(spec, weights)) as Denoiser<unknown>;
  tfjsModel = (await tfjs.createDenoiser(spec, weights)) as Denoiser<unknown>;
});

afterAll(() => {
  onnx?.dispose();
  tfjs?.dispose();
});

async function predictHost(model: Denoiser<unknown>, x: Float32Array, t: readonly number[], options: PredictOptions<unknown>): Promise<Float32Array> {
  const ops = model.ops;
  const input = ops.fromFloat32(x, [batch, 1, 32, 32]);
  try {
    const out = await model.predict(input, t, options);
    try {
      return await ops.toFloat32(out);
    } finally {
      ops.dispose(out);
    }
  } finally {
    ops.dispose(input);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

// A custom fill over TensorOps: the cut level's skip tiled to the fill's channels, halved.
const halfDuplicate = <T,>(): FillStrategy<T> =>
  customFill<T>('half-duplicate', (context, ops) => {
    const c = context.shape[1];
    const skipChannels = ops.shape(context.skip)[1]!;
    const copies = Math.ceil(c / skipChannels);
    const tiled = ops.concat(new Array<T>(copies).fill(context.skip), 1);
    const cut = ops.slice(tiled, [0, 0, 0, 0], [...context.shape]);
    const out = ops.scale(cut, 0.5);
    ops.dispose([tiled, cut]);
    return out;
  });

// Every stateless built-in fill (from core's registry: a new one is checked here without an edit), and a custom one.
const fills: [string, () => FillStrategy<unknown>][] = [
  ...statelessFillKinds.map((kind): [string, () => FillStrategy<unknown>] => [kind, () => parseFill(kind)]),
  ['custom', () => halfDuplicate()],
];

describe('parity with backend-tfjs (wasm) on mnistSmall-sized random weights', () => {
  const x = new SeededRng(3).normal(batch * 32 * 32);
  const t = [913, 377];
  const cases: [number, string, () => FillStrategy<unknown>][] = [[0, 'full', () => zeroFill]];
  for (let k = 1; k < 4; k++) for (const [label, make] of fills) cases.push([k, label, make]);

  it.each(cases)('k=%i fill=%s: max |Δε| ≤ 1e-4', async (k, _label, make) => {
    const a = await predictHost(onnxModel, x, t, { k, fill: make() });
    const b = await predictHost(tfjsModel, x, t, { k, fill: make() });
    const diff = maxAbsDiff(a, b);
    let scale = 0;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    // A non-trivial prediction (not all zeros) that both backends agree on.
    expect(scale).toBeGreaterThan(0.1);
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('DDIM-50 from the same seed gives images within 1/255 (on the [0, 1] pixel scale), full depth and with a power schedule', async () => {
    for (const options of [{}, { skip: powerSchedule({ c: 2 }), fill: duplicateFill }]) {
      const run = (denoiser: Denoiser<unknown>) => sample({ denoiser, sampler: ddim({ steps: 50 }), batch: 2, seed: 11, ...options });
      const a = await run(onnxModel);
      const b = await run(tfjsModel);
      expect(a.ks).toEqual(b.ks);
      // Images live in [-1, 1]; a pixel value is (x + 1) / 2.
      const diff = maxAbsDiff(a.images, b.images) / 2;
      expect(diff).toBeLessThanOrEqual(1 / 255);
      expect(a.images.some((v) => Math.abs(v) > 0.05)).toBe(true);
    }
  });
});
