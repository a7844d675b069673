/**
 * The skip plan: what one prediction of a level-skipping U-Net runs, computed once as plain data
 * from (architecture, decoder stage, k, fill, what the feature cache holds). Every backend executes
 * or compiles the same plan: core's composition (`runLevelSkippingUNet`, the reference and tfjs
 * backends) runs it block by block, backend-onnx traces it into ONNX graphs.
 *
 * With L = N − 1 − k (the cut): encoder levels 0..L run, level L without its downsample; the middle
 * block runs only at k = 0; otherwise a fill of decoder level L+1's channels at level L's size takes
 * its place; decoder levels L..0 run, each but the last ending in an upsample whose output (decoder
 * level l − 1's input) is what a later skipped step can reuse from a `FeatureCache`.
 *
 * The cache fall-back is decided here and nowhere else: a fill that reads the cache (the registry's
 * `stateful` flag, `fillNeedsCache`) runs the step at full depth until the cache holds the cut
 * level's features.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import type { Architecture } from '../geometry/architecture.js';
import { fillNeedsCache } from '../fills/fill-registry.js';
import type { BuiltinFillKind } from '../fills/fill-registry.js';
import type { FillStrategy } from '../fills/fill-strategy.js';

/** Channels and spatial size of an NCHW feature map (the batch is the caller's). */
export interface FeatureShape {
  readonly channels: number;
  readonly size: number;
}

/** One encoder step, in execution order: a block (its output is pushed on the skip stack) or a downsample (also pushed). */
export type EncoderStep =
  | { readonly kind: 'block'; readonly level: number; readonly index: number }
  | { readonly kind: 'downsample'; readonly level: number };

/**
 * One decoder step, in execution order: a block (its input is concat(features, popped skip)) or an
 * upsample from `level` to `level − 1`, whose output is decoder level `stores`' input: the features
 * a cache-writing prediction stores.
 */
export type DecoderStep =
  | { readonly kind: 'block'; readonly level: number; readonly index: number }
  | { readonly kind: 'upsample'; readonly level: number; readonly stores: number };

/**
 * How the deep features at the cut are produced.
 * - `none`: k = 0, nothing is skipped, the middle block runs;
 * - `builtin`: a stateless built-in fill of core's registry (`kind`), computed from the skip stack;
 * - `cached`: a stateful built-in fill (`kind`) reading the features an earlier step stored in the cache;
 * - `custom`: a custom fill function (`name`) over `TensorOps`;
 * - `input`: supplied from outside the traversal (a compiled graph's `fill` input); only when the
 *   plan is made without a fill.
 */
export type PlannedFill =
  | { readonly mode: 'none' }
  | { readonly mode: 'builtin'; readonly kind: BuiltinFillKind }
  | { readonly mode: 'cached'; readonly kind: BuiltinFillKind }
  | { readonly mode: 'custom'; readonly name: string }
  | { readonly mode: 'input' };

/** Where the fill enters: decoder level `level` (the cut) takes concat(fill, skip); the fill is [B, channels, size, size]. */
export interface PlannedFillSite extends FeatureShape {
  /** The cut level L. */
  readonly level: number;
}

/** What one prediction runs (see the file comment). Plain, frozen data. */
export interface SkipPlan {
  /** Number of levels N. */
  readonly levels: number;
  /** Decoder stage in use. */
  readonly stage: number;
  /** The depth asked for. */
  readonly requestedK: number;
  /** The depth that runs: `requestedK`, or 0 after the cache fall-back. */
  readonly k: number;
  /** Whether the cache fall-back turned a skipping step into a full-depth one. */
  readonly fellBack: boolean;
  /** The cut level L = N − 1 − k: the deepest level computed. */
  readonly cut: number;
  readonly fill: PlannedFill;
  /** Where the fill enters, or undefined at k = 0. */
  readonly fillSite: PlannedFillSite | undefined;
  /** Encoder blocks and downsamples up to the cut, after `conv_in` (whose output is the first skip). */
  readonly encoderSteps: readonly EncoderStep[];
  /** Decoder blocks and upsamples from the cut to level 0, before the output head. */
  readonly decoderSteps: readonly DecoderStep[];
  /** Decoder levels whose inputs a cache-writing prediction stores, in the order they are produced (L − 1 down to 0). */
  readonly cacheStoreLevels: readonly number[];
  /** The skip stack when decoding starts, in push order (`conv_in`'s output first); the decoder pops it from the end. */
  readonly skipShapes: readonly FeatureShape[];
}

/** What a plan is made from. */
export interface SkipPlanInput<T = unknown> {
  readonly stage: number;
  /** The depth asked for, already validated (an integer in [0, N − 1]; `resolvePrediction` checks it). */
  readonly k: number;
  /**
   * The fill. Omitted: the fill comes from outside the traversal (`mode: 'input'`, a compiled
   * graph's input) and no cache fall-back applies.
   */
  readonly fill?: FillStrategy<T>;
  /** The run's feature cache (only `has` is read), for the cache fall-back of fills that read it. */
  readonly cache?: { has(stage: number, level: number): boolean } | undefined;
}

/**
 * The cut level L = N − 1 − k: the deepest level computed by a prediction of an N-level U-Net
 * that skips `k` levels (and the decoder level a skipping step's fill, or cached features, enter
 * at). The one place the rule is written; `k` is assumed validated (an integer in [0, N − 1]).
 */
export function cutLevel(levels: number, k: number): number {
  return levels - 1 - k;
}

/**
 * The plan of one prediction.
 *
 * @throws LevelskipError `INVALID_OPTION` for a `stage` or `k` outside the architecture (both are
 *   normally validated before, by `resolvePrediction`).
 */
export function planSkip<T>(arch: Architecture, input: SkipPlanInput<T>): SkipPlan {
  const N = arch.levels;
  const { stage, fill, cache } = input;
  const decoder = arch.decoders[stage];
  if (decoder === undefined) {
    throw new LevelskipError('INVALID_OPTION', `stage must be an integer in [0, ${arch.decoders.length - 1}], got ${stage}`);
  }
  if (!Number.isInteger(input.k) || input.k < 0 || input.k > N - 1) {
    throw new LevelskipError('INVALID_OPTION', `k must be an integer in [0, ${N - 1}] for this ${N}-level U-Net, got ${input.k}`);
  }
  let k = input.k;
  // A fill that reads the cache needs features from an earlier step of the run; until it has them the step runs at full depth.
  if (k > 0 && fill !== undefined && fillNeedsCache(fill) && cache?.has(stage, cutLevel(N, k)) !== true) k = 0;
  const cut = cutLevel(N, k);

  const encoderSteps: EncoderStep[] = [];
  const skipShapes: FeatureShape[] = [{ channels: arch.channels[0]!, size: arch.sizes[0]! }];
  for (let l = 0; l <= cut; l++) {
    const level = arch.encoder[l]!;
    for (let j = 0; j < level.blocks.length; j++) {
      encoderSteps.push(Object.freeze({ kind: 'block', level: l, index: j }));
      skipShapes.push(Object.freeze({ channels: level.channels, size: level.size }));
    }
    if (l < cut) {
      encoderSteps.push(Object.freeze({ kind: 'downsample', level: l }));
      skipShapes.push(Object.freeze({ channels: level.channels, size: arch.sizes[l + 1]! }));
    }
  }

  const decoderSteps: DecoderStep[] = [];
  const cacheStoreLevels: number[] = [];
  for (let l = cut; l >= 0; l--) {
    const level = decoder.levels[l]!;
    for (let j = 0; j < level.blocks.length; j++) decoderSteps.push(Object.freeze({ kind: 'block', level: l, index: j }));
    if (l > 0) {
      decoderSteps.push(Object.freeze({ kind: 'upsample', level: l, stores: l - 1 }));
      cacheStoreLevels.push(l - 1);
    }
  }

  const fillSite: PlannedFillSite | undefined =
    k === 0 ? undefined : Object.freeze({ level: cut, channels: decoder.levels[cut + 1]!.channels, size: arch.sizes[cut]! });
  return Object.freeze({
    levels: N,
    stage,
    requestedK: input.k,
    k,
    fellBack: k !== input.k,
    cut,
    fill: Object.freeze(plannedFill(k, fill)),
    fillSite,
    encoderSteps: Object.freeze(encoderSteps),
    decoderSteps: Object.freeze(decoderSteps),
    cacheStoreLevels: Object.freeze(cacheStoreLevels),
    skipShapes: Object.freeze(skipShapes),
  });
}

function plannedFill<T>(k: number, fill: FillStrategy<T> | undefined): PlannedFill {
  if (k === 0) return { mode: 'none' };
  if (fill === undefined) return { mode: 'input' };
  if (fill.kind === 'custom') return { mode: 'custom', name: fill.name };
  return fillNeedsCache(fill) ? { mode: 'cached', kind: fill.kind } : { mode: 'builtin', kind: fill.kind };
}

/** The fill's NCHW shape for a batch of `batch`: [batch, channels of decoder level L+1, size of level L, same]. */
export function plannedFillShape(site: PlannedFillSite, batch: number): readonly [number, number, number, number] {
  return [batch, site.channels, site.size, site.size];
}
