// The samplers package over the tfjs backend: every fill, compared with the float64 reference
// backend from the same weights, noise and seed (the samplers draw noise on the host, so both
// backends see identical inputs and any difference is arithmetic).
import { cacheFill, customFill, duplicateFill, interpolateFill, parseUNetSpec, powerSchedule, zeroFill, type FillStrategy } from '@levelskip/core';
import { createReferenceBackend, fixtureWeights, tinySpecs, type ReferenceTensor } from '@levelskip/core/testing';
import { ddim, dpmSolverPlusPlus, sample } from '@levelskip/samplers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, liveTensorCount, type TfjsBackend, type TfjsTensor } from '@levelskip/backend-tfjs';

const spec = parseUNetSpec(tinySpecs.sidePaths);
const weights = fixtureWeights(spec, 11);

// A custom fill over TensorOps: the skip features scaled, cut to the missing input's channels.
const halfSkip = <T>(): FillStrategy<T> =>
  customFill<T>('half-skip', (context, ops) => {
    const [b, c, h, w] = context.shape;
    const skipChannels = ops.shape(context.skip)[1]!;
    const tiled = ops.concat(new Array(Math.ceil(c / skipChannels)).fill(context.skip), 1);
    const cut = ops.slice(tiled, [0, 0, 0, 0], [b, c, h, w]);
    const out = ops.scale(cut, 0.5);
    ops.dispose([tiled, cut]);
    return out;
  });

const fills = <T>(): FillStrategy<T>[] => [zeroFill, duplicateFill, interpolateFill, cacheFill, halfSkip<T>()];
const fillName = (fill: FillStrategy<unknown>): string => (fill.kind === 'custom' ? fill.name : fill.kind);

describe('samplers on tfjs-wasm agree with the float64 reference', () => {
  let backend: TfjsBackend;
  beforeAll(async () => {
    backend = await createTfjsBackend({ engine: 'wasm' });
  });
  afterAll(() => backend.dispose());

  for (const [index, fill] of fills<unknown>().entries()) {
    it(`DDIM-10, c = 2, fill ${fillName(fill)}`, async () => {
      const tfjs = await backend.createDenoiser(spec, weights);
      const reference = await createReferenceBackend().createDenoiser(spec, weights);
      const options = { sampler: ddim({ steps: 10 }), skip: powerSchedule({ c: 2 }), batch: 2, seed: 5 } as const;
      const before = liveTensorCount();
      const ours = await sample({ ...options, denoiser: tfjs, fill: fills<TfjsTensor>()[index]! });
      expect(liveTensorCount()).toBe(before);
      const theirs = await sample({ ...options, denoiser: reference, fill: fills<ReferenceTensor>()[index]! });
      expect(ours.ks).toEqual(theirs.ks);
      expect(ours.ks.some((k) => k > 0)).toBe(true);
      let worst = 0;
      for (let i = 0; i < ours.images.length; i++) worst = Math.max(worst, Math.abs(ours.images[i]! - theirs.images[i]!));
      // float32 vs float64 arithmetic through 10 steps; images are O(1).
      expect(worst).toBeLessThan(1e-3);
      tfjs.dispose();
    });
  }

  it('DPM-Solver++ with the same seed twice gives identical images', async () => {
    const tfjs = await backend.createDenoiser(spec, weights);
    const options = { denoiser: tfjs, sampler: dpmSolverPlusPlus({ steps: 8 }), skip: powerSchedule({ c: 3 }), batch: 2, seed: 9 };
    const a = await sample(options);
    const b = await sample(options);
    expect(a.images).toEqual(b.images);
    tfjs.dispose();
  });
});
