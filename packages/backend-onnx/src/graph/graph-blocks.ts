/**
 * Core's per-block operations over ONNX graph values: `UNetParts` (which emits each block's nodes)
 * seen as core's `EncoderBlocks`/`DecoderBlocks` and the middle block, plus the one tensor
 * operation core's decoder phase needs (concat → a Concat node; dispose is a no-op, graph values
 * are not owned). With these, core's `encodeToCut` / `deepFeatures` / `decodeFromCut` trace a
 * skip plan into a graph: backend-onnx has no traversal of its own.
 */
import type { DecoderBlocks, DecoderOps, EncoderBlocks, UNetBlocks } from '@levelskip/core';
import type { FeatureValue, UNetParts } from './unet-parts.js';

/** The blocks core's phases call, emitting nodes into `p`'s graph. */
export type GraphBlocks = EncoderBlocks<FeatureValue> & DecoderBlocks<FeatureValue> & Pick<UNetBlocks<FeatureValue>, 'middle'>;

/**
 * The time embedding as a graph value for core's phases: a [B, timeEmbedDim] value, recorded with
 * `channels` = timeEmbedDim and `size` 1 (the blocks read only its name).
 */
export function timeEmbeddingValue(p: UNetParts, value: string): FeatureValue {
  return { value, channels: p.arch.timeEmbedding.dim, size: 1 };
}

/** `UNetParts` as the blocks of core's encoder, middle and decoder phases. */
export function graphBlocks(p: UNetParts): GraphBlocks {
  const { spec } = p.arch;
  return {
    inputConv: (x) => p.inputConv(x.value),
    encoderBlock: (level, index, h, temb) => p.encoderBlock(level, index, h.value, temb.value),
    downsample: (level, h) => p.downsample(level, h.value),
    middle: (h, temb) => p.middle(h.value, temb.value),
    decoderBlock: (stage, level, index, h, temb) => p.decoderBlock(stage, level, index, h.value, temb.value),
    upsample: (stage, level, h) => p.upsample(stage, level, h.value),
    output: (stage, h) => ({ value: p.output(stage, h.value), channels: spec.outChannels, size: spec.imageSize }),
  };
}

/** The tensor operations of core's decoder phase on graph values: concat emits a Concat node, dispose does nothing. */
export function graphOps(p: UNetParts): DecoderOps<FeatureValue> {
  return {
    concat: (xs, axis) => ({
      value: p.g.op('Concat', xs.map((x) => x.value), { axis }),
      channels: xs.reduce((sum, x) => sum + x.channels, 0),
      size: xs[0]!.size,
    }),
    dispose: () => undefined,
  };
}
