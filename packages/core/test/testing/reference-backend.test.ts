/**
 * The reference backend's contract: building denoisers (spec parsing, weight validation, fill
 * checks), predict over every k and fill, custom-fill shape checks, the cache fill and disposal.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { FeatureCache } from '../../src/fills/feature-cache.js';
import { cacheFill, duplicateFill, interpolateFill, zeroFill } from '../../src/fills/fill-registry.js';
import { customFill, type FillStrategy } from '../../src/fills/fill-strategy.js';
import { describeArchitecture } from '../../src/geometry/architecture.js';
import { parseUNetSpec, type UNetSpecInput } from '../../src/spec/unet-spec.js';
import {
  createReferenceBackend,
  createReferenceBlocks,
  referenceOps,
  type ReferenceTensor,
} from '../../src/testing/reference/index.js';
import { deterministicData, deterministicWeights } from './deterministic-weights.js';

const withSidePaths: UNetSpecInput = {
  imageSize: 8,
  inChannels: 2,
  baseChannels: 8,
  channelMults: [1, 2, 2],
  resBlocks: 1,
  attentionLevels: [1],
  attentionHeads: 2,
  groups: 4,
  sidePaths: true,
};
const plain: UNetSpecInput = { ...withSidePaths, sidePaths: false };
const ode2: UNetSpecInput = { ...plain, block: 'ode2', ode: { solver: 'euler', steps: 2 } };
const multiDecoder: UNetSpecInput = {
  ...withSidePaths,
  decoderStages: [
    { tStart: 0, tEnd: 0.5, baseChannels: 8 },
    { tStart: 0.5, tEnd: 1, baseChannels: 4 },
  ],
};

const backend = createReferenceBackend();

function input(batch: number, seed = 7): ReferenceTensor {
  return referenceOps.fromFloat32(deterministicData(batch * 2 * 8 * 8, seed), [batch, 2, 8, 8]);
}

async function expectLevelskipError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<LevelskipError> {
  try {
    await promise;
  } catch (e) {
    expect(LevelskipError.is(e)).toBe(true);
    const error = e as LevelskipError;
    expect(error.code).toBe(code);
    if (message) expect(error.message).toMatch(message);
    return error;
  }
  throw new Error(`expected a LevelskipError ${code}`);
}

function maxAbsDiff(a: ReferenceTensor, b: ReferenceTensor): number {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  a.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.data[i]!))));
  return worst;
}

describe('createReferenceBackend', () => {
  it('describes itself', () => {
    expect(backend.name).toBe('reference');
    expect(backend.specificationVersion).toBe('v1');
    expect(backend.capabilities).toEqual({ fusedFills: [], customFills: true, training: false, devices: ['cpu'] });
    expect(backend.ops).toBe(referenceOps);
  });

  it('builds from a spec input or an already parsed spec', async () => {
    const spec = parseUNetSpec(plain);
    const weights = deterministicWeights(spec);
    const fromInput = await backend.createDenoiser(plain, weights);
    const fromParsed = await backend.createDenoiser(spec, weights);
    expect(fromInput.spec).toEqual(spec);
    expect(fromParsed.levels).toBe(3);
    expect(fromParsed.backend).toBe('reference');
    const x = input(1);
    expect(maxAbsDiff(await fromInput.predict(x, 500), await fromParsed.predict(x, 500))).toBe(0);
  });

  it('copies the weights: changing the caller\'s arrays afterwards does not change predictions', async () => {
    const spec = parseUNetSpec(plain);
    const weights = deterministicWeights(spec);
    const denoiser = await backend.createDenoiser(spec, weights);
    const x = input(1);
    const before = await denoiser.predict(x, 500);
    weights.get('conv_in.weight')!.data.fill(0);
    expect(maxAbsDiff(before, await denoiser.predict(x, 500))).toBe(0);
  });

  it('rejects an invalid spec with INVALID_SPEC', async () => {
    await expectLevelskipError(backend.createDenoiser({ ...plain, groups: 3 }, new Map()), 'INVALID_SPEC');
  });

  describe('weight validation (WEIGHTS_MISMATCH naming the tensor)', () => {
    const spec = parseUNetSpec(plain);

    it('missing tensor', async () => {
      const weights = deterministicWeights(spec);
      weights.delete('mid_block.attentions.0.to_k.weight');
      await expectLevelskipError(backend.createDenoiser(spec, weights), 'WEIGHTS_MISMATCH', /mid_block\.attentions\.0\.to_k\.weight/);
    });

    it('unexpected tensor', async () => {
      const weights = deterministicWeights(spec);
      weights.set('side_paths.encoder.0.weight', { shape: [16, 8, 1, 1], data: new Float32Array(128) });
      await expectLevelskipError(backend.createDenoiser(spec, weights), 'WEIGHTS_MISMATCH', /side_paths\.encoder\.0\.weight/);
    });

    it('wrong shape', async () => {
      const weights = deterministicWeights(spec);
      weights.set('conv_in.weight', { shape: [8, 2, 1, 1], data: new Float32Array(16) });
      await expectLevelskipError(backend.createDenoiser(spec, weights), 'WEIGHTS_MISMATCH', /conv_in\.weight/);
    });
  });

  describe('predict over every k and fill', () => {
    const cases: [string, UNetSpecInput, FillStrategy<ReferenceTensor>[]][] = [
      ['resnet with side paths', withSidePaths, [zeroFill, duplicateFill, interpolateFill, cacheFill]],
      ['ode2 (euler)', ode2, [zeroFill, duplicateFill, cacheFill]],
      ['multi-decoder', multiDecoder, [zeroFill, duplicateFill, interpolateFill, cacheFill]],
    ];
    for (const [name, specInput, fills] of cases) {
      it(name, async () => {
        const spec = parseUNetSpec(specInput);
        const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
        const x = input(2);
        const custom = customFill<ReferenceTensor>('half-skip', (context, ops) => ops.scale(ops.zeros(context.shape), 0.5));
        for (const fill of [...fills, custom]) {
          for (let k = 0; k < denoiser.levels; k++) {
            for (const t of [[100, 200], [900, 950]]) {
              const cache = denoiser.createFeatureCache();
              const out = await denoiser.predict(x, t, { k, fill, cache });
              expect(out.shape).toEqual([2, 2, 8, 8]);
              expect(out.data.every(Number.isFinite)).toBe(true);
            }
          }
        }
      });
    }

    it('different fills give different outputs once levels are skipped, and the same at k = 0', async () => {
      const spec = parseUNetSpec(withSidePaths);
      const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
      const x = input(1);
      const at = (k: number, fill: FillStrategy<ReferenceTensor>): Promise<ReferenceTensor> => denoiser.predict(x, 300, { k, fill });
      expect(maxAbsDiff(await at(0, zeroFill), await at(0, interpolateFill))).toBe(0);
      expect(maxAbsDiff(await at(1, zeroFill), await at(1, duplicateFill))).toBeGreaterThan(1e-6);
      expect(maxAbsDiff(await at(1, zeroFill), await at(1, interpolateFill))).toBeGreaterThan(1e-6);
      expect(maxAbsDiff(await at(1, zeroFill), await at(2, zeroFill))).toBeGreaterThan(1e-6);
    });

    it('a single timestep equals the same timestep repeated per sample; samples are independent', async () => {
      const spec = parseUNetSpec(plain);
      const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
      const x = input(2);
      const a = await denoiser.predict(x, 400, { k: 1 });
      const b = await denoiser.predict(x, [400, 400], { k: 1 });
      expect(maxAbsDiff(a, b)).toBe(0);
      const first = await denoiser.predict(referenceOps.slice(x, [0, 0, 0, 0], [1, 2, 8, 8]), 400, { k: 1 });
      expect(maxAbsDiff(first, referenceOps.slice(a, [0, 0, 0, 0], [1, 2, 8, 8]))).toBeLessThan(1e-12);
    });
  });

  describe('interpolate without side paths', () => {
    const spec = parseUNetSpec(plain);
    const weights = deterministicWeights(spec);

    it('is rejected when the denoiser is built', async () => {
      await expectLevelskipError(backend.createDenoiser(spec, weights, { fill: interpolateFill }), 'INVALID_FILL', /sidePaths/);
    });

    it('is rejected at predict', async () => {
      const denoiser = await backend.createDenoiser(spec, weights, { fill: zeroFill });
      await expectLevelskipError(denoiser.predict(input(1), 500, { k: 1, fill: interpolateFill }), 'INVALID_FILL', /sidePaths/);
    });
  });

  it('a custom fill of the wrong shape is INVALID_SHAPE', async () => {
    const spec = parseUNetSpec(plain);
    const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
    const wrong = customFill<ReferenceTensor>('wrong', (context, ops) => ops.zeros([context.shape[0], context.shape[1] + 1, context.shape[2], context.shape[3]]));
    await expectLevelskipError(denoiser.predict(input(1), 500, { k: 1, fill: wrong }), 'INVALID_SHAPE', /custom fill "wrong"/);
  });

  it('bad x, timesteps and k are rejected with clear codes', async () => {
    const spec = parseUNetSpec(plain);
    const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
    await expectLevelskipError(denoiser.predict(referenceOps.zeros([1, 3, 8, 8]), 500), 'INVALID_SHAPE');
    await expectLevelskipError(denoiser.predict(input(1), 5000), 'INVALID_OPTION');
    await expectLevelskipError(denoiser.predict(input(1), 500, { k: 3 }), 'INVALID_OPTION');
  });

  describe('cache fill', () => {
    const spec = parseUNetSpec(withSidePaths);
    const weights = deterministicWeights(spec);
    const arch = describeArchitecture(spec);

    /**
     * Decoder level `level`'s input features of a full-depth run, computed by walking the blocks
     * directly (diffusers' UNet2DModel forward, written out here rather than taken from the composition).
     */
    function fullDepthFeatures(x: ReferenceTensor, timestep: number, level: number): ReferenceTensor {
      const blocks = createReferenceBlocks(arch, weights);
      const temb = blocks.timeEmbedding(new Array<number>(x.shape[0]!).fill(timestep));
      let h = blocks.inputConv(x);
      const skips = [h];
      for (let l = 0; l < arch.levels; l++) {
        h = blocks.encoderBlock(l, 0, h, temb);
        skips.push(h);
        if (l < arch.levels - 1) {
          h = blocks.downsample(l, h);
          skips.push(h);
        }
      }
      h = blocks.middle(h, temb);
      for (let l = arch.levels - 1; l > level; l--) {
        for (let j = 0; j < 2; j++) h = blocks.decoderBlock(0, l, j, referenceOps.concat([h, skips.pop()!], 1), temb);
        h = blocks.upsample(0, l, h);
      }
      return h;
    }

    for (const k of [1, 2]) {
      it(`k = ${k}: the first call runs at full depth, the next reuses its deep features`, async () => {
        const denoiser = await backend.createDenoiser(spec, weights);
        const cache = denoiser.createFeatureCache();
        expect(cache).toBeInstanceOf(FeatureCache);
        const x1 = input(1, 11);
        const x2 = input(1, 12);

        const first = await denoiser.predict(x1, 700, { k, fill: cacheFill, cache });
        expect(maxAbsDiff(first, await denoiser.predict(x1, 700, { k: 0 }))).toBe(0);
        expect(cache.size).toBe(arch.levels - 1);

        const second = await denoiser.predict(x2, 650, { k, fill: cacheFill, cache });
        const cut = arch.levels - 1 - k;
        const captured = fullDepthFeatures(x1, 700, cut);
        const expected = await denoiser.predict(x2, 650, { k, fill: customFill<ReferenceTensor>('captured', (_, ops) => ops.clone(captured)) });
        expect(maxAbsDiff(second, expected)).toBe(0);
        // and the fill mattered: the zero fill gives something else
        expect(maxAbsDiff(second, await denoiser.predict(x2, 650, { k }))).toBeGreaterThan(1e-6);
      });
    }

    it('without a cache in the options it is INVALID_FILL', async () => {
      const denoiser = await backend.createDenoiser(spec, weights);
      await expectLevelskipError(denoiser.predict(input(1), 500, { k: 1, fill: cacheFill }), 'INVALID_FILL', /createFeatureCache/);
    });
  });

  it('predict after dispose is a LevelskipError; dispose twice is harmless', async () => {
    const spec = parseUNetSpec(plain);
    const denoiser = await backend.createDenoiser(spec, deterministicWeights(spec));
    denoiser.dispose();
    denoiser.dispose();
    const error = await expectLevelskipError(denoiser.predict(input(1), 500), 'DISPOSED', /disposed/);
    expect(error).toBeInstanceOf(LevelskipError);
  });
});
