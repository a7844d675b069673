/**
 * The architecture a spec describes, block by block, with the canonical tensor names
 * (🤗 diffusers `UNet2DModel` naming) and channel counts. Backends, the reference
 * implementation, parameter counting and checkpoint validation all walk this one structure.
 *
 * Skip stack (as in diffusers): conv_in's output, then for each encoder level l its block
 * outputs r_{l,0..R-1} and, below the last level, its downsample output d_l. Decoder level l
 * (R + 1 blocks) pops r_{l,R-1..0} and then d_{l-1} (or conv_in's output at level 0).
 */
import type { UNetSpec } from '../spec/unet-spec.js';

export interface ResBlockDescription {
  readonly kind: 'resnet' | 'ode2';
  /** Tensor-name prefix, e.g. `down_blocks.0.resnets.1`. */
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  /** A 1×1 `conv_shortcut` projects the input when channel counts differ. */
  readonly hasShortcut: boolean;
}

export interface AttentionDescription {
  readonly prefix: string;
  readonly channels: number;
  readonly heads: number;
}

export interface ConvDescription {
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
}

export interface EncoderLevelDescription {
  readonly level: number;
  /** Spatial size (height = width) of this level's features. */
  readonly size: number;
  readonly channels: number;
  readonly blocks: readonly ResBlockDescription[];
  /** One attention after each block at attention levels, else empty. */
  readonly attentions: readonly AttentionDescription[];
  /** Stride-2 conv to the next level; absent at the last level. */
  readonly downsample: ConvDescription | undefined;
}

export interface DecoderLevelDescription {
  readonly level: number;
  readonly size: number;
  readonly channels: number;
  /** R + 1 blocks; block j's input is concat(h, skip_j). */
  readonly blocks: readonly ResBlockDescription[];
  /** Channels of the skip each block concatenates, in order. */
  readonly skipChannels: readonly number[];
  readonly attentions: readonly AttentionDescription[];
  /** Nearest ×2 upsample + 3×3 conv to level l-1; absent at level 0. */
  readonly upsample: ConvDescription | undefined;
}

export interface SidePathDescription {
  /** Cut level L the path serves. */
  readonly level: number;
  /** 1×1 conv after the bicubic resize. */
  readonly projection: ConvDescription;
}

export interface DecoderDescription {
  readonly stage: number;
  /** Normalised-t interval this decoder serves: [tStart, tEnd). */
  readonly tStart: number;
  readonly tEnd: number;
  /** Tensor-name prefix: '' for a single decoder, `decoders.{s}.` for multi-decoder U-Nets. */
  readonly prefix: string;
  /** Indexed by level (0 = full resolution). */
  readonly levels: readonly DecoderLevelDescription[];
  readonly normOut: { readonly prefix: string; readonly channels: number };
  readonly convOut: ConvDescription;
  /** Middle → decoder level L side paths for the interpolate fill (indexed by L = 0..N-2). */
  readonly sideDecoder: readonly SidePathDescription[];
}

export interface Architecture {
  readonly spec: UNetSpec;
  readonly levels: number;
  /** Encoder channels per level. */
  readonly channels: readonly number[];
  /** Spatial size per level. */
  readonly sizes: readonly number[];
  readonly timeEmbedding: { readonly inChannels: number; readonly dim: number };
  readonly convIn: ConvDescription;
  readonly encoder: readonly EncoderLevelDescription[];
  readonly middle: {
    readonly size: number;
    readonly channels: number;
    readonly blocks: readonly [ResBlockDescription, ResBlockDescription];
    readonly attention: AttentionDescription | undefined;
  };
  /** One decoder, or one per stage of `decoderStages`. */
  readonly decoders: readonly DecoderDescription[];
  /** Encoder level L → middle-shape side paths for the interpolate fill (indexed by L = 0..N-2). */
  readonly sideEncoder: readonly SidePathDescription[];
}

function block(spec: UNetSpec, prefix: string, inChannels: number, outChannels: number): ResBlockDescription {
  return { kind: spec.block, prefix, inChannels, outChannels, hasShortcut: inChannels !== outChannels };
}

/** Describes every block of the U-Net a spec defines. */
export function describeArchitecture(spec: UNetSpec): Architecture {
  const levels = spec.channelMults.length;
  const channels = spec.channelMults.map((m) => m * spec.baseChannels);
  const sizes = channels.map((_, l) => spec.imageSize / 2 ** l);
  const R = spec.resBlocks;
  const attentionAt = (level: number): boolean => spec.attentionLevels.includes(level);
  const ch = (l: number): number => channels[l]!;
  const size = (l: number): number => sizes[l]!;

  const encoder: EncoderLevelDescription[] = [];
  for (let l = 0; l < levels; l++) {
    const blocks: ResBlockDescription[] = [];
    const attentions: AttentionDescription[] = [];
    for (let j = 0; j < R; j++) {
      const inCh = j === 0 ? (l === 0 ? ch(0) : ch(l - 1)) : ch(l);
      blocks.push(block(spec, `down_blocks.${l}.resnets.${j}`, inCh, ch(l)));
      if (attentionAt(l)) attentions.push({ prefix: `down_blocks.${l}.attentions.${j}`, channels: ch(l), heads: spec.attentionHeads });
    }
    const downsample =
      l < levels - 1 ? { prefix: `down_blocks.${l}.downsamplers.0.conv`, inChannels: ch(l), outChannels: ch(l), kernel: 3 } : undefined;
    encoder.push({ level: l, size: size(l), channels: ch(l), blocks, attentions, downsample });
  }

  const deepest = levels - 1;
  const middle = {
    size: size(deepest),
    channels: ch(deepest),
    blocks: [
      block(spec, 'mid_block.resnets.0', ch(deepest), ch(deepest)),
      block(spec, 'mid_block.resnets.1', ch(deepest), ch(deepest)),
    ] as const,
    attention: spec.midAttention ? { prefix: 'mid_block.attentions.0', channels: ch(deepest), heads: spec.attentionHeads } : undefined,
  };

  const stages = spec.decoderStages ?? [{ tStart: 0, tEnd: 1, baseChannels: spec.baseChannels }];
  const multi = spec.decoderStages !== undefined;
  const decoders: DecoderDescription[] = stages.map((stage, s) => {
    const prefix = multi ? `decoders.${s}.` : '';
    const dch = spec.channelMults.map((m) => m * stage.baseChannels);
    const dec = (l: number): number => dch[l]!;
    const decoderLevels: DecoderLevelDescription[] = [];
    for (let l = 0; l < levels; l++) {
      const upIndex = levels - 1 - l; // up_blocks are numbered deepest first
      const blocks: ResBlockDescription[] = [];
      const skipChannels: number[] = [];
      const attentions: AttentionDescription[] = [];
      for (let j = 0; j <= R; j++) {
        const skip = j < R ? ch(l) : l === 0 ? ch(0) : ch(l - 1);
        const hIn = j === 0 ? (l === deepest ? ch(deepest) : dec(l + 1)) : dec(l);
        skipChannels.push(skip);
        blocks.push(block(spec, `${prefix}up_blocks.${upIndex}.resnets.${j}`, hIn + skip, dec(l)));
        if (attentionAt(l)) attentions.push({ prefix: `${prefix}up_blocks.${upIndex}.attentions.${j}`, channels: dec(l), heads: spec.attentionHeads });
      }
      const upsample = l > 0 ? { prefix: `${prefix}up_blocks.${upIndex}.upsamplers.0.conv`, inChannels: dec(l), outChannels: dec(l), kernel: 3 } : undefined;
      decoderLevels.push({ level: l, size: size(l), channels: dec(l), blocks, skipChannels, attentions, upsample });
    }
    const sideDecoder: SidePathDescription[] = [];
    if (spec.sidePaths) {
      for (let L = 0; L < deepest; L++) {
        sideDecoder.push({
          level: L,
          projection: { prefix: `${prefix}side_paths.decoder.${L}`, inChannels: ch(deepest), outChannels: dec(L + 1), kernel: 1 },
        });
      }
    }
    return {
      stage: s,
      tStart: stage.tStart,
      tEnd: stage.tEnd,
      prefix,
      levels: decoderLevels,
      normOut: { prefix: `${prefix}conv_norm_out`, channels: dec(0) },
      convOut: { prefix: `${prefix}conv_out`, inChannels: dec(0), outChannels: spec.outChannels, kernel: 3 },
      sideDecoder,
    };
  });

  const sideEncoder: SidePathDescription[] = [];
  if (spec.sidePaths) {
    for (let L = 0; L < deepest; L++) {
      sideEncoder.push({ level: L, projection: { prefix: `side_paths.encoder.${L}`, inChannels: ch(L), outChannels: ch(deepest), kernel: 1 } });
    }
  }

  return {
    spec,
    levels,
    channels,
    sizes,
    timeEmbedding: { inChannels: spec.baseChannels, dim: spec.timeEmbedDim },
    convIn: { prefix: 'conv_in', inChannels: spec.inChannels, outChannels: ch(0), kernel: 3 },
    encoder,
    middle,
    decoders,
    sideEncoder,
  };
}

/** The decoder stage serving normalised time `t` (the stage whose [tStart, tEnd) holds t; t = 1 → last). */
export function stageForTime(architecture: Pick<Architecture, 'decoders'>, t: number): number {
  const decoders = architecture.decoders;
  for (let s = 0; s < decoders.length; s++) {
    if (t < decoders[s]!.tEnd) return s;
  }
  return decoders.length - 1;
}
