/**
 * The duplicate fill (Giladi et al.): decoder level L's first block gets the level's own encoder
 * skip features in both inputs, concat(skip', skip), where skip' is the skip tiled along channels
 * (or truncated) to the missing input's channel count: channel c of the fill is channel
 * c mod C_skip of the skip.
 */
import type { TensorOps } from '../../backend/tensor-ops.js';
import { defineStatelessFill } from './fill-definition.js';

/** The cut level's own encoder skip features, tiled (or truncated) along channels. */
export interface DuplicateFill {
  readonly kind: 'duplicate';
}

/**
 * The duplicate fill: skip features (C_skip channels) repeated along channels and cut to
 * `channels` (channel c of the fill is channel c mod C_skip of the skip). Returns a new tensor.
 */
export function duplicateChannels<T>(ops: TensorOps<T>, skip: T, channels: number): T {
  const [b, c, hgt, wid] = ops.shape(skip) as [number, number, number, number];
  if (channels === c) return ops.clone(skip);
  if (channels < c) return ops.slice(skip, [0, 0, 0, 0], [b, channels, hgt, wid]);
  const copies = Math.ceil(channels / c);
  const tiled = ops.concat(new Array<T>(copies).fill(skip), 1);
  if (copies * c === channels) return tiled;
  const out = ops.slice(tiled, [0, 0, 0, 0], [b, channels, hgt, wid]);
  ops.dispose(tiled);
  return out;
}

const duplicate = defineStatelessFill({
  kind: 'duplicate',
  description: 'the cut level\'s own skip features, tiled along channels (the paper\'s duplicate fill)',
  // Opt-in for calibration: models are not trained with it by default.
  calibratedByDefault: false,
  apply: (context, ops) => duplicateChannels(ops, context.skip, context.shape[1]),
});

export const duplicateFill: DuplicateFill = duplicate.fill;

/** The duplicate fill's registry entry. */
export const duplicateFillDefinition = duplicate.definition;
