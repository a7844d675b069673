/**
 * Core's skip plan against the traversal that executes it and against the U-Net's definition:
 * a plan written out by hand, the shapes the reference backend really produces at every depth
 * (skip stack, fill, cache stores), the blocks it really calls, the cache fall-back decided by the
 * fill registry's `stateful` flag, and the custom-fill rules shared with backend-onnx.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import type { TensorOps } from '../../src/backend/tensor-ops.js';
import { fillContextAt, resolveCustomFill } from '../../src/composition/fill-at-cut.js';
import { runLevelSkippingUNet, type UNetBlocks } from '../../src/composition/level-skipping-unet.js';
import { resolvePrediction } from '../../src/composition/predict-arguments.js';
import { planSkip, plannedFillShape } from '../../src/composition/skip-plan.js';
import { FeatureCache } from '../../src/fills/feature-cache.js';
import { builtinFills, cacheFill, fillsSupportedBy, zeroFill } from '../../src/fills/fill-registry.js';
import { customFill, type FillStrategy } from '../../src/fills/fill-strategy.js';
import { describeArchitecture } from '../../src/geometry/architecture.js';
import { levelGeometry, skipStackShapes } from '../../src/geometry/level-geometry.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { fixtureWeights, tinySpecNames, tinySpecs } from '../../src/testing/fixtures.js';
import { createReferenceBlocks, referenceOps, referenceTensor, type ReferenceTensor } from '../../src/testing/reference/index.js';

/** The LevelskipError `fn` throws, checked to carry `code`. */
function errorOf(fn: () => unknown, code: LevelskipErrorCode): LevelskipError {
  try {
    fn();
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected a LevelskipError ${code}, but the call returned`);
}

/** Reference blocks and ops that record each call and the shapes the decoder concatenates. */
function recording(blocks: UNetBlocks<ReferenceTensor>) {
  const calls: string[] = [];
  const concats: { deep: readonly number[]; skip: readonly number[] }[] = [];
  const traced: UNetBlocks<ReferenceTensor> = {
    ...blocks,
    encoderBlock: (l, j, h, t) => (calls.push(`enc ${l}.${j}`), blocks.encoderBlock(l, j, h, t)),
    downsample: (l, h) => (calls.push(`down ${l}`), blocks.downsample(l, h)),
    middle: (h, t) => (calls.push('middle'), blocks.middle(h, t)),
    decoderBlock: (s, l, j, h, t) => (calls.push(`dec ${l}.${j}`), blocks.decoderBlock(s, l, j, h, t)),
    upsample: (s, l, h) => (calls.push(`up ${l}`), blocks.upsample(s, l, h)),
  };
  const ops: TensorOps<ReferenceTensor> = {
    ...referenceOps,
    concat: (xs, axis) => {
      concats.push({ deep: referenceOps.shape(xs[0]!), skip: referenceOps.shape(xs[1]!) });
      return referenceOps.concat(xs, axis);
    },
  };
  return { calls, concats, blocks: traced, ops };
}

describe('planSkip', () => {
  it('matches a plan written out by hand (ddpmStyle: 2 blocks per level, channels 8/16/16, sizes 8/4/2, k = 1)', () => {
    const arch = describeArchitecture(parseUNetSpec(tinySpecs.ddpmStyle));
    const plan = planSkip(arch, { stage: 0, k: 1, fill: zeroFill });
    expect(plan).toMatchObject({ levels: 3, k: 1, requestedK: 1, fellBack: false, cut: 1, fill: { mode: 'builtin', kind: 'zero' } });
    expect(plan.encoderSteps).toEqual([
      { kind: 'block', level: 0, index: 0 },
      { kind: 'block', level: 0, index: 1 },
      { kind: 'downsample', level: 0 },
      { kind: 'block', level: 1, index: 0 },
      { kind: 'block', level: 1, index: 1 },
    ]);
    // conv_in, two level-0 blocks, the downsample (level 0's channels at level 1's size), two level-1 blocks.
    expect(plan.skipShapes).toEqual([
      { channels: 8, size: 8 },
      { channels: 8, size: 8 },
      { channels: 8, size: 8 },
      { channels: 8, size: 4 },
      { channels: 16, size: 4 },
      { channels: 16, size: 4 },
    ]);
    // Decoder levels have resBlocks + 1 = 3 blocks (one per skip); the upsample of level 1 produces level 0's input.
    expect(plan.decoderSteps).toEqual([
      { kind: 'block', level: 1, index: 0 },
      { kind: 'block', level: 1, index: 1 },
      { kind: 'block', level: 1, index: 2 },
      { kind: 'upsample', level: 1, stores: 0 },
      { kind: 'block', level: 0, index: 0 },
      { kind: 'block', level: 0, index: 1 },
      { kind: 'block', level: 0, index: 2 },
    ]);
    expect(plan.cacheStoreLevels).toEqual([0]);
    // The fill replaces the middle-side input of decoder level 1: level 2's 16 channels at level 1's size 4.
    expect(plan.fillSite).toEqual({ level: 1, channels: 16, size: 4 });
    expect(plannedFillShape(plan.fillSite!, 3)).toEqual([3, 16, 4, 4]);
    expect(Object.isFrozen(plan) && Object.isFrozen(plan.encoderSteps)).toBe(true);
  });

  it('at k = 0 runs every level and the middle block, with no fill site', () => {
    const arch = describeArchitecture(parseUNetSpec(tinySpecs.resnet));
    const plan = planSkip(arch, { stage: 0, k: 0, fill: zeroFill });
    expect(plan).toMatchObject({ k: 0, cut: 2, fill: { mode: 'none' }, fillSite: undefined, cacheStoreLevels: [1, 0] });
    expect(plan.encoderSteps.filter((s) => s.kind === 'downsample').map((s) => s.level)).toEqual([0, 1]);
  });

  it('is what level geometry reports at every depth (ddpmStyle, shapes written out by hand)', () => {
    // ddpmStyle: 2 blocks per level, channels 8/16/16, sizes 8/4/2. Level geometry reads the plan, so
    // the expectation is written out independently: conv_in and the level-0 blocks at 8×8, the
    // downsample (level 0's channels at level 1's size), level 1's blocks, then level 2's likewise.
    const spec = parseUNetSpec(tinySpecs.ddpmStyle);
    const arch = describeArchitecture(spec);
    const level0: number[][] = [[1, 8, 8, 8], [1, 8, 8, 8], [1, 8, 8, 8]];
    const level1: number[][] = [[1, 8, 4, 4], [1, 16, 4, 4], [1, 16, 4, 4]];
    const level2: number[][] = [[1, 16, 2, 2], [1, 16, 2, 2], [1, 16, 2, 2]];
    const expected = [
      { k: 0, cutLevel: 2, skipShapes: [...level0, ...level1, ...level2], fillShape: undefined },
      { k: 1, cutLevel: 1, skipShapes: [...level0, ...level1], fillShape: [1, 16, 4, 4] },
      { k: 2, cutLevel: 0, skipShapes: level0, fillShape: [1, 16, 8, 8] },
    ];
    expect(levelGeometry(spec).map(({ k, cutLevel, skipShapes, fillShape }) => ({ k, cutLevel, skipShapes, fillShape }))).toEqual(expected);
    for (const { cutLevel, skipShapes } of expected) expect(skipStackShapes(arch, cutLevel)).toEqual(skipShapes);
  });

  it('falls back to full depth exactly for the fills the registry marks stateful, until the cache holds the cut level', () => {
    const arch = describeArchitecture(parseUNetSpec(tinySpecs.sidePaths));
    const empty = { has: () => false };
    const holding = { has: (stage: number, level: number) => stage === 0 && level === 1 };
    for (const definition of builtinFills) {
      const fill = definition.parse(definition.syntax[0]!) as FillStrategy;
      const cold = planSkip(arch, { stage: 0, k: 1, fill, cache: empty });
      expect(cold.fellBack, definition.kind).toBe(definition.stateful);
      expect(cold.k, definition.kind).toBe(definition.stateful ? 0 : 1);
      const warm = planSkip(arch, { stage: 0, k: 1, fill, cache: holding });
      expect(warm).toMatchObject({ k: 1, cut: 1, fellBack: false, fill: { mode: definition.stateful ? 'cached' : 'builtin', kind: definition.kind } });
      // Held features at another level do not count: the cut of k = 2 is level 0.
      expect(planSkip(arch, { stage: 0, k: 2, fill, cache: holding }).k, definition.kind).toBe(definition.stateful ? 0 : 2);
    }
    const custom = customFill('mine', (context, ops) => ops.zeros(context.shape));
    expect(planSkip(arch, { stage: 0, k: 1, fill: custom, cache: empty })).toMatchObject({ k: 1, fellBack: false, fill: { mode: 'custom', name: 'mine' } });
    expect(planSkip(arch, { stage: 0, k: 1 })).toMatchObject({ k: 1, fill: { mode: 'input' } });
  });

  it('rejects a stage or k outside the architecture, naming it', () => {
    const arch = describeArchitecture(parseUNetSpec(tinySpecs.resnet));
    expect(errorOf(() => planSkip(arch, { stage: 1, k: 0 }), 'INVALID_OPTION').message).toMatch(/stage must be an integer in \[0, 0\], got 1/);
    expect(errorOf(() => planSkip(arch, { stage: 0, k: 3 }), 'INVALID_OPTION').message).toMatch(/k must be an integer in \[0, 2\].*got 3/);
  });
});

describe('the traversal executes the plan', () => {
  for (const name of tinySpecNames) {
    it(`${name}: blocks called, skip stack, fill and cache stores are the plan's at every k and stage`, () => {
      const spec = parseUNetSpec(tinySpecs[name]);
      const arch = describeArchitecture(spec);
      const weights = fixtureWeights(spec, 3);
      const batch = 2;
      const x = referenceTensor([batch, spec.inChannels, spec.imageSize, spec.imageSize], Array.from({ length: batch * spec.inChannels * spec.imageSize ** 2 }, (_, i) => Math.sin(i)));
      for (let stage = 0; stage < arch.decoders.length; stage++) {
        const t = arch.decoders.length === 1 ? 500 : stage === 0 ? 100 : 900;
        for (let k = 0; k < arch.levels; k++) {
          const fills = fillsSupportedBy(spec).filter((f) => f !== 'cache');
          const fill = (k === 0 ? zeroFill : { kind: fills[k % fills.length]! }) as FillStrategy<ReferenceTensor>;
          const plan = planSkip(arch, { stage, k, fill });
          const r = recording(createReferenceBlocks(arch, weights));
          const cache = new FeatureCache(referenceOps);
          const prediction = resolvePrediction(arch, referenceOps.shape(x), t, { k, fill, cache });
          expect(prediction.stage).toBe(stage);
          referenceOps.dispose(runLevelSkippingUNet(arch, r.blocks, r.ops, x, prediction));

          const expected = [
            ...plan.encoderSteps.map((s) => (s.kind === 'block' ? `enc ${s.level}.${s.index}` : `down ${s.level}`)),
            ...(k === 0 ? ['middle'] : []),
            ...plan.decoderSteps.map((s) => (s.kind === 'block' ? `dec ${s.level}.${s.index}` : `up ${s.level}`)),
          ];
          expect(r.calls, `k=${k}`).toEqual(expected);
          // The decoder's concats are the last ones (a fill may concat too, before it); it pops the skip
          // stack from its end, so the skips it concatenated, reversed, are the stack.
          const decoderConcats = r.concats.slice(r.concats.length - expected.filter((c) => c.startsWith('dec')).length);
          const stack = decoderConcats.map((c) => c.skip).reverse();
          expect(stack, `k=${k}`).toEqual(plan.skipShapes.map((s) => [batch, s.channels, s.size, s.size]));
          if (plan.fillSite !== undefined) expect(decoderConcats[0]!.deep).toEqual(plannedFillShape(plan.fillSite, batch));
          expect([...Array(arch.levels).keys()].filter((l) => cache.has(stage, l))).toEqual([...plan.cacheStoreLevels].sort());
          for (const level of plan.cacheStoreLevels) {
            const step = plan.decoderSteps.find((s) => s.kind === 'upsample' && s.stores === level)!;
            const stored = referenceOps.shape(cache.get(stage, level)!);
            // Decoder level `level`'s input: the upsampled features of the level above at this level's size.
            expect(stored[2]).toBe(arch.sizes[level]);
            expect(step.level).toBe(level + 1);
          }
          cache.dispose();
        }
      }
      referenceOps.dispose(x);
    });
  }

  it('the cache fill runs the plan\'s fall-back: full depth (the middle block) on an empty cache, then the skipping plan', () => {
    const spec = parseUNetSpec(tinySpecs.resnet);
    const arch = describeArchitecture(spec);
    const weights = fixtureWeights(spec, 5);
    const x = referenceTensor([1, 2, 8, 8], new Array<number>(2 * 8 * 8).fill(0.25));
    const cache = new FeatureCache(referenceOps);
    const run = () => {
      const r = recording(createReferenceBlocks(arch, weights));
      referenceOps.dispose(runLevelSkippingUNet(arch, r.blocks, r.ops, x, resolvePrediction(arch, [1, 2, 8, 8], 10, { k: 2, fill: cacheFill, cache })));
      return r.calls;
    };
    expect(run()).toContain('middle');
    expect(planSkip(arch, { stage: 0, k: 2, fill: cacheFill, cache })).toMatchObject({ k: 2, fill: { mode: 'cached' } });
    const skipping = run();
    expect(skipping).not.toContain('middle');
    expect(skipping).not.toContain('down 0');
    cache.dispose();
    referenceOps.dispose(x);
  });
});

describe('resolveCustomFill', () => {
  const spec = parseUNetSpec(tinySpecs.resnet);
  const arch = describeArchitecture(spec);
  const plan = planSkip(arch, { stage: 0, k: 1 });
  const make = () => {
    const skips = plan.skipShapes.map((s) => referenceOps.zeros([1, s.channels, s.size, s.size]));
    return { skips, context: fillContextAt<ReferenceTensor>(arch, plan, { batch: 1, skips, cached: undefined, timesteps: [3] }) };
  };

  it('gives the fill the plan\'s site and returns what it made, or a clone of a borrowed tensor', () => {
    const { skips, context } = make();
    expect(context).toMatchObject({ level: 1, k: 1, levels: 3, stage: 0, shape: [1, plan.fillSite!.channels, 4, 4], timesteps: [3] });
    expect(context.skip).toBe(skips[skips.length - 1]);
    const made = resolveCustomFill(customFill<ReferenceTensor>('zeros', (c, ops) => ops.zeros(c.shape)), context, referenceOps);
    expect(skips).not.toContain(made);
    // resnet: decoder level 2 has level 2's 16 channels and the cut level's skip has level 1's 16: a fill may return the skip itself.
    expect(referenceOps.shape(context.skip)[1]).toBe(context.shape[1]);
    const borrowed = resolveCustomFill(customFill<ReferenceTensor>('skip', (c) => c.skip), context, referenceOps);
    expect(borrowed).not.toBe(context.skip);
    expect(Array.from(borrowed.data)).toEqual(Array.from(context.skip.data));
    referenceOps.dispose([made, borrowed, ...skips]);
  });

  it('rejects a wrong shape with INVALID_SHAPE naming the fill and both shapes, and disposes what the fill made', () => {
    const { skips, context } = make();
    let made: ReferenceTensor | undefined;
    const disposed: ReferenceTensor[] = [];
    const ops: TensorOps<ReferenceTensor> = { ...referenceOps, dispose: (t) => (disposed.push(...(Array.isArray(t) ? t : [t as ReferenceTensor])), referenceOps.dispose(t)) };
    const wrong = customFill<ReferenceTensor>('wrong', (c, o) => (made = o.zeros([1, 3, 4, 4])));
    expect(errorOf(() => resolveCustomFill(wrong, context, ops), 'INVALID_SHAPE').message).toMatch(
      /custom fill "wrong" returned shape \[1, 3, 4, 4\]; at k = 1 it must return \[1, 16, 4, 4\]/,
    );
    expect(disposed).toEqual([made]);
    referenceOps.dispose(skips);
  });
});
