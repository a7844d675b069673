/**
 * The split (head → fill → tail) path of custom fills: a fill that hands back a tensor of its
 * context, a fill that returns the wrong shape, and that no tensor is left alive either way.
 */
import { describe, expect, it } from 'vitest';
import { customFill, duplicateFill, parseUNetSpec, SeededRng } from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import * as ort from 'onnxruntime-node';
import { createOnnxBackend, liveTensorCount } from '../src/index.js';

// In the resnet fixture at k = 2 (cut level 0) the fill has 16 channels and the skip 8, so
// "the skip twice" is the duplicate fill written by hand.
const spec = parseUNetSpec(tinySpecs.resnet);
const weights = fixtureWeights(spec, 5);

describe('custom fills on the head/tail graphs', () => {
  it('a fill built from the context equals the fused duplicate fill; borrowed tensors are cloned, not disposed', async () => {
    const backend = await createOnnxBackend();
    try {
      const denoiser = await backend.createDenoiser(spec, weights);
      const ops = backend.ops;
      const x = ops.fromFloat32(new SeededRng(1).normal(2 * 2 * 8 * 8), [2, 2, 8, 8]);
      const t = [250, 800];
      const before = liveTensorCount();
      let seenSkip: ort.Tensor | undefined;
      const tiled = customFill<ort.Tensor>('tiled-skip', (context, o) => {
        seenSkip = context.skip;
        return o.concat([context.skip, context.skip], 1);
      });
      const viaCustom = await denoiser.predict(x, t, { k: 2, fill: tiled });
      const fused = await denoiser.predict(x, t, { k: 2, fill: duplicateFill });
      expect(await ops.toFloat32(viaCustom)).toEqual(await ops.toFloat32(fused));
      // The context's skip is still readable after predict: nothing disposed it.
      expect(seenSkip!.data).toBeInstanceOf(Float32Array);

      // k = 1 (cut level 1): fill and skip both have 16 channels, so returning the skip itself is valid.
      const borrowing = customFill<ort.Tensor>('borrowed-skip', (context) => context.skip);
      ops.dispose(await denoiser.predict(x, t, { k: 1, fill: borrowing }));

      const wrong = customFill<ort.Tensor>('wrong', (context, o) => o.zeros([context.shape[0], context.shape[1] + 1, context.shape[2], context.shape[3]]));
      await expect(denoiser.predict(x, t, { k: 2, fill: wrong })).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
      ops.dispose([viaCustom, fused]);
      expect(liveTensorCount()).toBe(before);
      // Sessions: head and tail at k = 2 and at k = 1, and the fused k = 2 duplicate graph.
      expect(denoiser.sessionCount).toBe(5);
      ops.dispose(x);
    } finally {
      backend.dispose();
    }
  });
});
