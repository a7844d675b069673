/**
 * The generic level-skipping U-Net forward, written once against per-block operations.
 * Backends that do not fuse whole graphs (the reference implementation, tfjs) implement
 * `UNetBlocks` and call `runLevelSkippingUNet`.
 *
 * Skipping k levels, with L = N - 1 - k: encoder levels 0..L run, level L without its
 * downsample; the middle block runs only when k = 0; decoder level L's first block receives
 * concat(fill, skip) in place of concat(h, skip), where the fill has decoder level L+1's
 * channels and level L's size; decoder levels L..0 then run as usual.
 */
import type { TensorOps } from '../backend/tensor-ops.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import type { Architecture } from '../geometry/architecture.js';
import { fillDefinition, fillNeedsCache } from '../fills/fill-registry.js';
import type { FillContext } from '../fills/fill-strategy.js';
import type { ResolvedPrediction } from './predict-arguments.js';

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

/** Runs one prediction. `x` is not consumed; the result belongs to the caller. */
export function runLevelSkippingUNet<T>(
  arch: Architecture,
  blocks: UNetBlocks<T>,
  ops: TensorOps<T>,
  x: T,
  prediction: ResolvedPrediction<T>,
): T {
  const N = arch.levels;
  const { stage, fill, cache, timesteps } = prediction;
  let k = prediction.k;
  // The cache fill needs features from an earlier step of the run; until it has them the step runs at full depth.
  if (k > 0 && fillNeedsCache(fill) && !cache?.has(stage, N - 1 - k)) k = 0;
  const cut = N - 1 - k;
  const decoder = arch.decoders[stage]!;

  const temb = blocks.timeEmbedding(timesteps);
  const skips: T[] = [blocks.inputConv(x)];
  let h: T = skips[0]!;
  for (let l = 0; l <= cut; l++) {
    const level = arch.encoder[l]!;
    for (let j = 0; j < level.blocks.length; j++) {
      h = blocks.encoderBlock(l, j, h, temb);
      skips.push(h);
    }
    if (l < cut) {
      h = blocks.downsample(l, h);
      skips.push(h);
    }
  }

  let deep: T;
  if (k === 0) {
    deep = blocks.middle(h, temb);
  } else {
    const size = arch.sizes[cut]!;
    const shape = [prediction.batch, decoder.levels[cut + 1]!.channels, size, size] as const;
    deep = makeFill(arch, blocks, ops, { cut, k, shape, skips, stage, timesteps }, prediction);
  }

  for (let l = cut; l >= 0; l--) {
    const level = decoder.levels[l]!;
    for (let j = 0; j < level.blocks.length; j++) {
      const skip = skips.pop()!;
      const input = ops.concat([deep, skip], 1);
      ops.dispose([deep, skip]);
      deep = blocks.decoderBlock(stage, l, j, input, temb);
      ops.dispose(input);
    }
    if (l > 0) {
      const up = blocks.upsample(stage, l, deep);
      ops.dispose(deep);
      deep = up;
      // `deep` is now decoder level l-1's input: the features a later skipped step can reuse.
      if (cache) cache.set(stage, l - 1, ops.clone(deep));
    }
  }
  const out = blocks.output(stage, deep);
  ops.dispose([deep, temb]);
  return out;
}

interface FillSite<T> {
  readonly cut: number;
  readonly k: number;
  readonly shape: readonly [number, number, number, number];
  readonly skips: readonly T[];
  readonly stage: number;
  readonly timesteps: readonly number[];
}

/**
 * The fill at the cut: a built-in fill's registry entry computes it over `ops` (the interpolate
 * fill with the backend's side-path blocks); a custom fill's function gets the same context, and
 * its result is checked and owned.
 */
function makeFill<T>(
  arch: Architecture,
  blocks: UNetBlocks<T>,
  ops: TensorOps<T>,
  site: FillSite<T>,
  prediction: ResolvedPrediction<T>,
): T {
  const { fill, cache } = prediction;
  const skip = site.skips[site.skips.length - 1]!;
  const context: FillContext<T> = {
    level: site.cut,
    k: site.k,
    levels: arch.levels,
    stage: site.stage,
    shape: site.shape,
    skip,
    skips: site.skips,
    cached: cache?.get(site.stage, site.cut),
    timesteps: site.timesteps,
    spec: arch.spec,
  };
  if (fill.kind !== 'custom') return fillDefinition(fill.kind).apply(context, ops, blocks);
  const out = fill.fill(context, ops);
  const shape = ops.shape(out);
  if (shape.length !== 4 || shape.some((d, i) => d !== site.shape[i])) {
    throw new LevelskipError(
      'INVALID_SHAPE',
      `custom fill "${fill.name}" returned shape [${shape.join(', ')}]; at k = ${site.k} it must return [${site.shape.join(', ')}] (context.shape)`,
    );
  }
  // A fill may hand back one of the context's tensors; the composition must own what it disposes.
  const borrowed = out === skip || site.skips.includes(out) || out === context.cached;
  return borrowed ? ops.clone(out) : out;
}
