/**
 * The generic level-skipping U-Net forward, written once against per-block operations and driven
 * by a `SkipPlan` (`skip-plan.ts`). Backends that do not fuse whole graphs (the reference
 * implementation, tfjs) implement `UNetBlocks` and call `runLevelSkippingUNet`; backends that
 * compile graphs (backend-onnx) trace the same phases (`encodeToCut`, `deepFeatures`,
 * `decodeFromCut`) over graph-building blocks.
 *
 * Skipping k levels, with L = N - 1 - k: encoder levels 0..L run, level L without its
 * downsample; the middle block runs only when k = 0; decoder level L's first block receives
 * concat(fill, skip) in place of concat(h, skip), where the fill has decoder level L+1's
 * channels and level L's size; decoder levels L..0 then run as usual.
 */
import type { TensorOps } from '../backend/tensor-ops.js';
import type { Architecture } from '../geometry/architecture.js';
import { fillAtCut, fillContextAt } from './fill-at-cut.js';
import type { ResolvedPrediction } from './predict-arguments.js';
import { planSkip, type PlannedFillSite, type SkipPlan } from './skip-plan.js';

/** Per-block operations a backend provides. Each returns a new tensor and does not consume its inputs. */
export interface UNetBlocks<T> {
  /** Sinusoidal embedding of the timesteps followed by the MLP: [B, timeEmbedDim]. */
  timeEmbedding(timesteps: readonly number[]): T;
  /** conv_in. */
  inputConv(x: T): T;
  /** Encoder block `index` of `level` (res/ode2 block, then attention at attention levels). */
  encoderBlock(level: number, index: number, h: T, timeEmbedding: T): T;
  /** Stride-2 conv from `level` to `level + 1`. */
  downsample(level: number, h: T): T;
  /** Middle block: block, attention, block. */
  middle(h: T, timeEmbedding: T): T;
  /** Decoder block `index` of `level`; `h` is already concat(previous, skip) along channels. */
  decoderBlock(stage: number, level: number, index: number, h: T, timeEmbedding: T): T;
  /** Nearest ×2 upsample + conv from `level` to `level - 1`. */
  upsample(stage: number, level: number, h: T): T;
  /** conv_norm_out → SiLU → conv_out. */
  output(stage: number, h: T): T;
  /** Interpolate fill, first half: bicubic resize of encoder level L's features to the middle size, 1×1 projection. */
  sideEncoder(level: number, skip: T): T;
  /** Interpolate fill, second half: bicubic resize of the middle estimate to level L's size, 1×1 projection. */
  sideDecoder(stage: number, level: number, middle: T): T;
}

/** The blocks `encodeToCut` runs. */
export type EncoderBlocks<T> = Pick<UNetBlocks<T>, 'inputConv' | 'encoderBlock' | 'downsample'>;
/** The blocks `decodeFromCut` runs. */
export type DecoderBlocks<T> = Pick<UNetBlocks<T>, 'decoderBlock' | 'upsample' | 'output'>;
/** The tensor operations `decodeFromCut` uses (a graph tracer implements concat as a node, dispose and clone as no-ops). */
export type DecoderOps<T> = Pick<TensorOps<T>, 'concat' | 'dispose'>;

/**
 * Encoder phase: `conv_in`, then the plan's encoder steps. Returns the skip stack in push order;
 * its last entry is the cut level's features (the middle block's input at k = 0). `x` and `temb`
 * are not consumed; the skips belong to the caller.
 */
export function encodeToCut<T>(plan: SkipPlan, blocks: EncoderBlocks<T>, x: T, temb: T): T[] {
  const skips: T[] = [blocks.inputConv(x)];
  let h: T = skips[0]!;
  for (const step of plan.encoderSteps) {
    h = step.kind === 'block' ? blocks.encoderBlock(step.level, step.index, h, temb) : blocks.downsample(step.level, h);
    skips.push(h);
  }
  return skips;
}

/**
 * The deep features decoder level L starts from: the middle block on the cut level's features
 * when the plan skips nothing, otherwise `fill(site)` (the plan's fill site). The result belongs
 * to the caller; `skips` and `temb` are not consumed.
 */
export function deepFeatures<T>(plan: SkipPlan, blocks: Pick<UNetBlocks<T>, 'middle'>, skips: readonly T[], temb: T, fill: (site: PlannedFillSite) => T): T {
  return plan.fillSite === undefined ? blocks.middle(skips[skips.length - 1]!, temb) : fill(plan.fillSite);
}

/**
 * Decoder phase: the plan's decoder steps from the cut to level 0, then the output head. Each
 * block takes concat(features, skip) with the skip popped from the end of `skips`; after each
 * upsample, `onCacheFeatures(level, features)` sees decoder level `level`'s input (the features a
 * later skipped step can reuse; the callback must copy what it keeps, the features are disposed
 * here). `deep` and the skips are consumed; `temb` is not; the result belongs to the caller.
 */
export function decodeFromCut<T>(
  plan: SkipPlan,
  blocks: DecoderBlocks<T>,
  ops: DecoderOps<T>,
  deep: T,
  skips: readonly T[],
  temb: T,
  onCacheFeatures?: (level: number, features: T) => void,
): T {
  const stack = [...skips];
  let h = deep;
  for (const step of plan.decoderSteps) {
    if (step.kind === 'block') {
      const skip = stack.pop()!;
      const input = ops.concat([h, skip], 1);
      ops.dispose([h, skip]);
      h = blocks.decoderBlock(plan.stage, step.level, step.index, input, temb);
      ops.dispose(input);
    } else {
      const up = blocks.upsample(plan.stage, step.level, h);
      ops.dispose(h);
      h = up;
      onCacheFeatures?.(step.stores, h);
    }
  }
  const out = blocks.output(plan.stage, h);
  ops.dispose(h);
  return out;
}

/** Runs one prediction. `x` is not consumed; the result belongs to the caller. */
export function runLevelSkippingUNet<T>(
  arch: Architecture,
  blocks: UNetBlocks<T>,
  ops: TensorOps<T>,
  x: T,
  prediction: ResolvedPrediction<T>,
): T {
  const { stage, fill, cache, timesteps, batch } = prediction;
  const plan = planSkip(arch, { stage, k: prediction.k, fill, cache });
  const temb = blocks.timeEmbedding(timesteps);
  const skips = encodeToCut(plan, blocks, x, temb);
  const deep = deepFeatures(plan, blocks, skips, temb, (site) => {
    const context = fillContextAt(arch, plan, { batch, skips, cached: cache?.get(stage, site.level), timesteps });
    return fillAtCut(plan, fill, context, ops, blocks);
  });
  const store = cache === undefined ? undefined : (level: number, features: T) => cache.set(stage, level, ops.clone(features));
  const out = decodeFromCut(plan, blocks, ops, deep, skips, temb, store);
  ops.dispose(temb);
  return out;
}
