/**
 * `PredictOptions.cacheLevels`: with the cache fill, only the features a later step reads are
 * fetched from the graph and stored (onnxruntime-node copies every fetched output), and the
 * predictions are exactly those of storing every level. Also the `profile` spans of predict.
 */
import { describe, expect, it } from 'vitest';
import { cacheFill, createTimingRecorder, parseUNetSpec, SeededRng } from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { createOnnxBackend, liveTensorCount } from '../src/index.js';

// Three levels: a skipping step at k reads the features of decoder level N − 1 − k = 2 − k.
const spec = parseUNetSpec(tinySpecs.resnet);
const weights = fixtureWeights(spec, 7);

describe('cacheLevels', () => {
  it('stores only the levels asked for, with the same predictions as storing all', async () => {
    const backend = await createOnnxBackend();
    try {
      const denoiser = await backend.createDenoiser(spec, weights);
      const ops = backend.ops;
      const before = liveTensorCount();
      const x = ops.fromFloat32(new SeededRng(3).normal(2 * 2 * 8 * 8), [2, 2, 8, 8]);
      const all = denoiser.createFeatureCache();
      const some = denoiser.createFeatureCache();
      // A full-depth step stores the decoder inputs of levels 1 and 0 (after each upsample).
      const fullAll = await denoiser.predict(x, 900, { k: 0, fill: cacheFill, cache: all });
      const fullSome = await denoiser.predict(x, 900, { k: 0, fill: cacheFill, cache: some, cacheLevels: [0] });
      expect([all.has(0, 0), all.has(0, 1)]).toEqual([true, true]);
      expect([some.has(0, 0), some.has(0, 1)]).toEqual([true, false]);
      expect(await ops.toFloat32(fullSome)).toEqual(await ops.toFloat32(fullAll));
      // k = 2 reads level 0's features: the same prediction from either cache.
      const profile = createTimingRecorder();
      const skipAll = await denoiser.predict(x, 800, { k: 2, fill: cacheFill, cache: all, profile });
      const skipSome = await denoiser.predict(x, 800, { k: 2, fill: cacheFill, cache: some, cacheLevels: [0] });
      expect(await ops.toFloat32(skipSome)).toEqual(await ops.toFloat32(skipAll));
      // Its spans: the cached features taken out, one session.run of the k = 2 graph, a switch (k = 0 ran before).
      expect(profile.spans.map((s) => s.phase)).toEqual(['cacheLoad', 'run', 'cacheStore']);
      expect(profile.spans[1]).toMatchObject({ phase: 'run', k: 2, graph: 'stage0-k2-input+cache', switched: true });
      // An empty list stores nothing.
      const none = denoiser.createFeatureCache();
      ops.dispose(await denoiser.predict(x, 900, { k: 0, fill: cacheFill, cache: none, cacheLevels: [] }));
      expect(none.size).toBe(0);
      ops.dispose([x, fullAll, fullSome, skipAll, skipSome]);
      for (const cache of [all, some, none]) cache.dispose();
      expect(liveTensorCount()).toBe(before);
      denoiser.dispose();
    } finally {
      backend.dispose();
    }
  });

  it.each([[[2]], [[-1]], [[0.5]]])('refuses cacheLevels %j with INVALID_OPTION naming the level', async (levels) => {
    const backend = await createOnnxBackend();
    try {
      const denoiser = await backend.createDenoiser(spec, weights);
      const x = backend.ops.fromFloat32(new Float32Array(2 * 8 * 8), [1, 2, 8, 8]);
      const cache = denoiser.createFeatureCache();
      await expect(denoiser.predict(x, 900, { k: 0, fill: cacheFill, cache, cacheLevels: levels })).rejects.toThrow(/cacheLevels: .* is not a decoder level a skipping step reads; use levels N − 1 − k in \[0, 1\]/);
      backend.ops.dispose(x);
      cache.dispose();
      denoiser.dispose();
    } finally {
      backend.dispose();
    }
  });
});
