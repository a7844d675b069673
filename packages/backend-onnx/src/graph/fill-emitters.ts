/**
 * The ONNX graph of every graph-fusable built-in fill: one emitter per fill of core's fill registry
 * that a compiled graph can hold (`GraphFusableFillKind`). The table is a `Record` over that type,
 * so a fill added to the registry with `graphFusable: true` does not compile here until it has an
 * emitter. Each emitter follows the fill's `apply` in core (what the reference and tfjs backends
 * run); the conformance suite checks them against the float64 reference.
 */
import type { GraphFusableFillKind } from '@levelskip/core';
import type { FeatureValue, UNetParts } from './unet-parts.js';

/** Where the fill enters the graph: decoder level `cut` of decoder `stage`, beside `skip`. */
export interface FillSite {
  /** The graph input x (its batch dimension sizes the zero fill). */
  readonly x: string;
  /** The cut level's skip features: the last entry of the skip stack. */
  readonly skip: FeatureValue;
  /** The fill's channels (decoder level cut + 1's) and spatial size (level cut's). */
  readonly shape: { readonly channels: number; readonly size: number };
  readonly stage: number;
  /** The cut level L = N − 1 − k. */
  readonly cut: number;
}

/** Adds one fill's nodes to the graph and returns its value [B, channels, size, size]. */
export type FillEmitter = (p: UNetParts, site: FillSite) => FeatureValue;

/**
 * The mean fill: ReduceMean over H and W (keepdims, [B, C_skip, 1, 1]), the duplicate fill's
 * channel tiling on those means, then Expand to [B, channels, size, size] (numpy broadcasting of
 * the 1 × 1 maps).
 */
function emitMean(p: UNetParts, { skip, shape }: FillSite): FeatureValue {
  const { g } = p;
  const means = g.op('ReduceMean', [skip.value], { axes: [2, 3], keepdims: 1 }, 'mean_fill_means');
  const tiled = p.duplicate({ value: means, channels: skip.channels, size: 1 }, shape.channels);
  const value = g.op('Expand', [tiled, g.constInts([1, 1, shape.size, shape.size])], {}, 'mean_fill');
  return { ...shape, value };
}

/** One emitter per graph-fusable fill of core's registry. */
export const fillEmitters: Readonly<Record<GraphFusableFillKind, FillEmitter>> = Object.freeze({
  zero: (p, { x, shape }) => ({ ...shape, value: p.zeros(x, shape.channels, shape.size) }),
  duplicate: (p, { skip, shape }) => ({ ...shape, value: p.duplicate(skip, shape.channels) }),
  interpolate: (p, { skip, stage, cut }) => p.sideDecoder(stage, cut, p.sideEncoder(cut, skip)),
  mean: emitMean,
});
