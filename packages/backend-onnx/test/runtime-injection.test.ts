/**
 * The injected runtime: the backend on an explicitly passed onnxruntime-node, on onnxruntime-web
 * (its WebAssembly build runs in Node.js too) matching onnxruntime-node at every depth with the
 * zero and cache fills, the browser entry's default runtime, and the errors for a module that is
 * not an ONNX Runtime, for providers onnxruntime-web lacks and for a thread count that can no
 * longer change.
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFill, LevelskipError, meanFill, parseUNetSpec, SeededRng, zeroFill, type FillStrategy } from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { createOnnxBackend as createBrowserBackend } from '../src/browser.js';
import { createOnnxBackend, type OnnxBackend, type OnnxDenoiser, type OnnxTensor } from '../src/index.js';

// onnxruntime-web reads this once, when its WebAssembly starts: one thread, as a test machine shares its cores.
ortWeb.env.wasm.numThreads = 1;

const spec = parseUNetSpec(tinySpecs.resnet); // 3 levels: k = 0, 1, 2
const weights = fixtureWeights(spec, 11);
const batch = 2;
const x = new SeededRng(4).normal(batch * 2 * 8 * 8);
const t = [640, 90];
// The cache fill's earlier full-depth step: another input and time, as in sampling.
const earlierX = new SeededRng(5).normal(batch * 2 * 8 * 8);
const earlierT = [700, 150];

let node: OnnxBackend;
let web: OnnxBackend;
// One denoiser per backend, so each graph's session opens once for all the cases below.
const models = new Map<OnnxBackend, OnnxDenoiser>();

beforeAll(async () => {
  node = await createOnnxBackend({ ort: ortNode });
  web = await createOnnxBackend({ ort: ortWeb, intraOpNumThreads: 1 });
  for (const backend of [node, web]) models.set(backend, await backend.createDenoiser(spec, weights));
});

afterAll(() => {
  node?.dispose();
  web?.dispose();
});

/** ε at depth k; for the cache fill, after an earlier full-depth step that fills the cache (as in sampling). */
async function predict(backend: OnnxBackend, k: number, fill: FillStrategy<OnnxTensor>): Promise<Float32Array> {
  const denoiser = models.get(backend)!;
  const { ops } = backend;
  const input = ops.fromFloat32(x, [batch, 2, 8, 8]);
  const cache = fill.kind === 'cache' ? denoiser.createFeatureCache() : undefined;
  try {
    if (cache) {
      const earlier = ops.fromFloat32(earlierX, [batch, 2, 8, 8]);
      ops.dispose([earlier, await denoiser.predict(earlier, earlierT, { k: 0, cache })]);
    }
    const eps = await denoiser.predict(input, t, { k, fill, ...(cache ? { cache } : {}) });
    const out = await ops.toFloat32(eps);
    ops.dispose(eps);
    return out;
  } finally {
    cache?.dispose();
    ops.dispose(input);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('an explicitly injected onnxruntime-node', () => {
  it('is the runtime the backend runs on, on the CPU provider by default', () => {
    expect(node.runtime).toBe('onnxruntime-node');
    expect(node.ort).toBe(ortNode);
    expect(node.name).toBe('onnx-cpu');
    expect(node.executionProvider).toBe('cpu');
    expect(node.ops.zeros([1])).toBeInstanceOf(ortNode.Tensor);
  });
});

describe('onnxruntime-web (WebAssembly) in Node.js', () => {
  it('runs on the wasm provider with the thread count asked for', () => {
    expect(web.runtime).toBe('onnxruntime-web');
    expect(web.name).toBe('onnx-wasm');
    expect(web.capabilities.devices).toEqual(['wasm']);
    expect(web.intraOpNumThreads).toBe(1);
    expect(ortWeb.env.wasm.numThreads).toBe(1);
    // Passing runs print nothing: onnxruntime's own logging is cut to fatal errors.
    expect(ortWeb.env.logLevel).toBe('fatal');
  });

  const cases: [number, string, FillStrategy<OnnxTensor>][] = [];
  for (let k = 0; k < spec.channelMults.length; k++) {
    cases.push([k, 'zero', zeroFill]);
    if (k > 0) cases.push([k, 'cache', cacheFill], [k, 'mean', meanFill]);
  }

  it.each(cases)('k=%i fill=%s: ε matches onnxruntime-node to ≤ 1e-5', async (k, _label, fill) => {
    const a = await predict(node, k, fill);
    const b = await predict(web, k, fill);
    let scale = 0;
    for (const v of a) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(0.1);
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5);
  });

  it('the depths and fills compared above give different ε (so the comparison tells them apart)', async () => {
    const full = await predict(web, 0, zeroFill);
    const zero = await predict(web, 2, zeroFill);
    const cached = await predict(web, 2, cacheFill);
    expect(maxAbsDiff(full, zero)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(full, cached)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(zero, cached)).toBeGreaterThan(1e-2);
  });

  it("reads 'cpu' as 'wasm', and names each missing provider with advice when none starts", async () => {
    const cpu = await createOnnxBackend({ ort: ortWeb, executionProviders: ['cpu'] });
    expect(cpu.executionProvider).toBe('wasm');
    cpu.dispose();
    const error = await createOnnxBackend({ ort: ortWeb, executionProviders: ['webgpu', 'webnn'] }).catch((e: unknown) => e);
    expect(LevelskipError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/^no onnxruntime-web execution provider could start: webgpu: \S.*; webnn: \S.*Add 'wasm' to executionProviders/);
  });

  it('rejects a thread count other than the one its WebAssembly started with, saying which to pass', async () => {
    await expect(createOnnxBackend({ ort: ortWeb, intraOpNumThreads: 2 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/^intraOpNumThreads: .*already runs with 1 thread\(s\).*pass intraOpNumThreads: 1/),
    });
    const same = await createOnnxBackend({ ort: ortWeb });
    expect(same.intraOpNumThreads).toBe(1);
    same.dispose();
  });

  it("rejects another runtime's tensors with a clear error", async () => {
    const foreign = node.ops.fromFloat32(new Float32Array(4), [1, 4]);
    expect(() => web.ops.scale(foreign, 2)).toThrow(/expected a Tensor of this backend's onnxruntime/);
    node.ops.dispose(foreign);
  });
});

describe("the browser entry's default runtime", () => {
  it('is onnxruntime-web, imported on first use, on the wasm provider', async () => {
    const backend = await createBrowserBackend();
    try {
      expect(backend.runtime).toBe('onnxruntime-web');
      expect(backend.ort.Tensor).toBe(ortWeb.Tensor);
      expect(backend.executionProvider).toBe('wasm');
    } finally {
      backend.dispose();
    }
  });
});

describe('a value that is not an ONNX Runtime module', () => {
  it.each([
    ['an empty object', {}],
    ['a module without InferenceSession', { Tensor: ortNode.Tensor, env: ortNode.env }],
    ['a string', 'onnxruntime-web'],
    ['null', null],
  ])('%s: BACKEND_UNAVAILABLE saying what to pass', async (_label, value) => {
    const error = await createOnnxBackend({ ort: value as never }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/^options\.ort is not an ONNX Runtime module \(it needs InferenceSession\.create, Tensor and env; got .+\)\. Pass the module itself: import \* as ort from 'onnxruntime-web'/);
  });

  it('a pending import: BACKEND_UNAVAILABLE saying to await it', async () => {
    await expect(createOnnxBackend({ ort: import('onnxruntime-web') as never })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('is a Promise: await the import'),
    });
  });

  it('a namespace whose default export is the runtime is unwrapped', async () => {
    const backend = await createOnnxBackend({ ort: { default: ortNode } as never });
    expect(backend.runtime).toBe('onnxruntime-node');
    backend.dispose();
  });

  it('malformed log levels are INVALID_OPTION', async () => {
    await expect(createOnnxBackend({ ort: ortNode, logLevel: 'quiet' as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'logLevel must be one of verbose, info, warning, error, fatal, got quiet',
    });
  });
});
