/**
 * The mean fill (beyond the paper; training-free or trainable): the duplicate fill's features with
 * each channel replaced by its spatial mean, broadcast over the level. With skip the cut level's
 * encoder features (C_skip channels, H × W) and C the missing input's channels:
 *
 *   fill[b, c, y, x] = (1 / (H·W)) · Σ_{y′ < H, x′ < W} skip[b, c mod C_skip, y′, x′]
 *
 * It keeps the skip's per-channel level (global context) and drops its spatial detail, which the
 * concatenated skip itself still carries to the decoder.
 */
import type { TensorOps } from '../../backend/tensor-ops.js';
import { duplicateChannels } from './duplicate-fill.js';
import { defineStatelessFill } from './fill-definition.js';

/** The cut level's skip features, tiled along channels as the duplicate fill does, then averaged over space per (sample, channel) and broadcast. */
export interface MeanFill {
  readonly kind: 'mean';
}

/**
 * The mean fill over `TensorOps`: `skip` [B, C_skip, H, W] → [B, `channels`, `height`, `width`],
 * channel c holding the spatial mean of skip channel c mod C_skip. The mean is a single average
 * pool whose window covers the whole map (`avgPool` leaves padded cells out), the broadcast a
 * nearest resize of the 1 × 1 means. Returns a new tensor.
 */
export function spatialMeanChannels<T>(ops: TensorOps<T>, skip: T, channels: number, height: number, width: number): T {
  const shape = ops.shape(skip);
  const window = Math.max(shape[2]!, shape[3]!);
  const means = ops.avgPool(skip, window, window);
  // Tiling the C_skip means equals averaging the tiled skip, on 1 × 1 maps instead of H × W.
  const tiled = duplicateChannels(ops, means, channels);
  ops.dispose(means);
  const out = ops.resize(tiled, height, width, 'nearest');
  ops.dispose(tiled);
  return out;
}

const mean = defineStatelessFill({
  kind: 'mean',
  description: 'the spatial mean of each channel of the duplicate fill, broadcast over the level',
  // Opt-in: each exported fill adds a graph per depth, every one holding the full weights.
  exportedByDefault: false,
  calibratedByDefault: false,
  apply: (context, ops) => spatialMeanChannels(ops, context.skip, context.shape[1], context.shape[2], context.shape[3]),
});

export const meanFill: MeanFill = mean.fill;

/** The mean fill's registry entry. */
export const meanFillDefinition = mean.definition;
