/**
 * One graph emitter per graph-fusable fill of core's fill registry (`fillEmitters`, typed
 * `Record<GraphFusableFillKind, …>`: a fusable fill added to the registry does not compile here
 * until it has one). The mean fill's emitter is checked against hand-computed means, exports can
 * hold it (on request: it is not in the default export), and the backend reports every fusable
 * fill as fused. Its parity with the float64 reference inside whole U-Nets, at every k, is the
 * conformance suite's (conformance.test.ts), which takes its fills from the same registry.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  builtinFills,
  describeArchitecture,
  exportableFillKinds,
  meanFill,
  parseUNetSpec,
  randomWeights,
  type GraphFusableFillKind,
} from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { isExportGraphFileName } from '../src/export/export-directory.js';
import { createOnnxBackend, defaultExportFills, exportOnnxFiles, fillEmitters, GraphBuilder, UNetParts } from '../src/index.js';

describe('fill emitters', () => {
  it('has one emitter for every graph-fusable fill of the registry, and none for the others', () => {
    expectTypeOf<keyof typeof fillEmitters>().toEqualTypeOf<GraphFusableFillKind>();
    expectTypeOf<GraphFusableFillKind>().toEqualTypeOf<'zero' | 'duplicate' | 'interpolate' | 'mean'>();
    expect(Object.keys(fillEmitters).sort()).toEqual([...exportableFillKinds].sort());
    for (const d of builtinFills) expect(d.kind in fillEmitters).toBe(d.graphFusable);
  });

  it('emits the mean fill: per (sample, channel) means of the skip, tiled along channels, broadcast (hand-computed)', async () => {
    // skip [2, 2, 2, 2]; means by hand: sample 0 (1+2+3+4)/4 = 2.5, (0+0+0+8)/4 = 2; sample 1 (−1+1−3+3)/4 = 0, (10+20+30+60)/4 = 30.
    const skipData = Float32Array.from([1, 2, 3, 4, 0, 0, 0, 8, -1, 1, -3, 3, 10, 20, 30, 60]);
    const g = new GraphBuilder('mean-fill');
    const p = new UNetParts(g, describeArchitecture(parseUNetSpec(tinySpecs.resnet)), new Map());
    const skip = g.input('skip', 'float32', ['batch', 2, 2, 2]);
    const out = fillEmitters.mean(p, { x: skip, skip: { value: skip, channels: 2, size: 2 }, shape: { channels: 3, size: 2 }, stage: 0, cut: 0 });
    expect(out).toMatchObject({ channels: 3, size: 2 });
    g.output(out.value, 'fill', 'float32', ['batch', 3, 2, 2]);
    const session = await ort.InferenceSession.create(g.encode());
    try {
      const result = (await session.run({ skip: new ort.Tensor('float32', skipData, [2, 2, 2, 2]) }))['fill']!;
      expect(result.dims).toEqual([2, 3, 2, 2]);
      const expected = [[2.5, 2, 2.5], [0, 30, 0]].flatMap((channels) => channels.flatMap((v) => [v, v, v, v]));
      expect([...(result.data as Float32Array)]).toEqual(expected);
    } finally {
      await session.release();
    }
  });

  it('exports the mean fill on request; the default export keeps zero, duplicate (and interpolate with side paths)', () => {
    const spec = parseUNetSpec(tinySpecs.resnet);
    const weights = randomWeights(spec, { seed: 6, jitter: 0.1 });
    expect(defaultExportFills(spec)).toEqual(['zero', 'duplicate']);
    expect(defaultExportFills(parseUNetSpec(tinySpecs.sidePaths))).toEqual(['zero', 'duplicate', 'interpolate']);
    const names = [...exportOnnxFiles(spec, weights, { ks: [0, 1], fills: ['mean'] })].map((f) => f.name);
    expect(names).toEqual(['stage0-k0-full.onnx', 'stage0-k1-mean.onnx', 'manifest.json']);
    expect(isExportGraphFileName('stage0-k1-mean.onnx')).toBe(true);
    expect(isExportGraphFileName('stage0-k1-mean.0a1b2c3d.onnx')).toBe(true);
    expect(isExportGraphFileName('stage0-k1-cache.onnx')).toBe(false);
    expect(() => exportOnnxFiles(spec, weights, { fills: ['cache' as never] })).toThrow(/exportOnnx fuses the fills zero, duplicate, interpolate, mean, got "cache"/);
  });

  it('reports every graph-fusable fill as fused, and runs the mean fill in one fused graph per k', async () => {
    const backend = await createOnnxBackend({ executionProviders: ['cpu'] });
    try {
      expect(backend.capabilities.fusedFills).toEqual(exportableFillKinds);
      const spec = parseUNetSpec(tinySpecs.resnet);
      const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 2 }));
      await denoiser.prepare({ ks: [1, 2], fills: ['mean'] });
      expect(denoiser.sessionCount).toBe(2);
      const x = denoiser.ops.zeros([1, spec.inChannels, spec.imageSize, spec.imageSize]);
      denoiser.ops.dispose(await denoiser.predict(x, 500, { k: 2, fill: meanFill }));
      expect(denoiser.sessionCount).toBe(2);
      denoiser.ops.dispose(x);
      denoiser.dispose();
    } finally {
      backend.dispose();
    }
  });
});
