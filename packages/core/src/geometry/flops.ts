/**
 * FLOP accounting per level and per depth k. Convention: 2 FLOPs per multiply-accumulate of
 * convolutions, linear layers and attention matmuls, per sample (batch 1); normalisations,
 * activations, resizes and additions are not counted (they are O(activations), not O(weights·pixels)).
 */
import type { Architecture, AttentionDescription, ResBlockDescription } from './architecture.js';
import { describeArchitecture } from './architecture.js';
import { cutLevel } from '../composition/skip-plan.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { LevelskipError } from '../errors/levelskip-error.js';

/** FLOPs of a k×k convolution producing an `outSize`² map. */
export function convFlops(inChannels: number, outChannels: number, kernel: number, outSize: number): number {
  return 2 * inChannels * outChannels * kernel * kernel * outSize * outSize;
}

/** FLOPs of a res or ode2 block on an `size`² map. */
export function resBlockFlops(b: ResBlockDescription, size: number, timeEmbedDim: number, spec: Pick<UNetSpec, 'ode'>): number {
  const shortcut = b.hasShortcut ? convFlops(b.inChannels, b.outChannels, 1, size) : 0;
  const timeProjection = 2 * timeEmbedDim * b.outChannels;
  if (b.kind === 'resnet') {
    return convFlops(b.inChannels, b.outChannels, 3, size) + convFlops(b.outChannels, b.outChannels, 3, size) + shortcut + timeProjection;
  }
  // ode2: the vector field (two 3×3 convs) is evaluated once per Euler step, four times per RK4 step;
  // the time projection does not depend on the state and is computed once.
  const evaluations = spec.ode.steps * (spec.ode.solver === 'rk4' ? 4 : 1);
  return shortcut + timeProjection + evaluations * 2 * convFlops(b.outChannels, b.outChannels, 3, size);
}

/** FLOPs of a self-attention block: q, k, v, out projections plus QKᵀ and attention·V. */
export function attentionFlops(a: AttentionDescription, size: number): number {
  const tokens = size * size;
  return 4 * 2 * a.channels * a.channels * tokens + 2 * 2 * tokens * tokens * a.channels;
}

/** FLOPs of each part of the network, per sample. */
export interface LevelFlops {
  readonly level: number;
  readonly size: number;
  readonly encoder: number;
  /** Stride-2 conv from this level to the next (0 at the last level). */
  readonly downsample: number;
  /** Per decoder stage. */
  readonly decoder: readonly number[];
  /** Upsample from this level to level - 1, per stage (0 at level 0). */
  readonly upsample: readonly number[];
  /** Interpolate-fill side paths serving cut level L = this level (0 at the last level). */
  readonly sideEncoder: number;
  readonly sideDecoder: readonly number[];
}

export interface FlopTable {
  readonly time: number;
  readonly input: number;
  readonly middle: number;
  /** Per stage. */
  readonly output: readonly number[];
  readonly levels: readonly LevelFlops[];
}

function toArchitecture(specOrArchitecture: UNetSpec | Architecture): Architecture {
  return 'encoder' in specOrArchitecture ? specOrArchitecture : describeArchitecture(specOrArchitecture);
}

/** FLOPs per part and level (batch 1). */
export function flopTable(specOrArchitecture: UNetSpec | Architecture): FlopTable {
  const arch = toArchitecture(specOrArchitecture);
  const { spec } = arch;
  const temb = arch.timeEmbedding.dim;
  const blocksFlops = (blocks: readonly ResBlockDescription[], attentions: readonly AttentionDescription[], size: number): number =>
    blocks.reduce((sum, b) => sum + resBlockFlops(b, size, temb, spec), 0) + attentions.reduce((sum, a) => sum + attentionFlops(a, size), 0);

  const deepest = arch.levels - 1;
  const midSize = arch.sizes[deepest]!;
  const levels: LevelFlops[] = arch.encoder.map((enc) => {
    const l = enc.level;
    return {
      level: l,
      size: enc.size,
      encoder: blocksFlops(enc.blocks, enc.attentions, enc.size),
      downsample: enc.downsample ? convFlops(enc.downsample.inChannels, enc.downsample.outChannels, 3, enc.size / 2) : 0,
      decoder: arch.decoders.map((d) => blocksFlops(d.levels[l]!.blocks, d.levels[l]!.attentions, enc.size)),
      upsample: arch.decoders.map((d) => {
        const up = d.levels[l]!.upsample;
        return up ? convFlops(up.inChannels, up.outChannels, 3, enc.size * 2) : 0;
      }),
      sideEncoder: arch.sideEncoder[l] ? convFlops(arch.sideEncoder[l]!.projection.inChannels, arch.sideEncoder[l]!.projection.outChannels, 1, midSize) : 0,
      sideDecoder: arch.decoders.map((d) =>
        d.sideDecoder[l] ? convFlops(d.sideDecoder[l]!.projection.inChannels, d.sideDecoder[l]!.projection.outChannels, 1, enc.size) : 0,
      ),
    };
  });
  const middle =
    arch.middle.blocks.reduce((sum, b) => sum + resBlockFlops(b, midSize, temb, spec), 0) +
    (arch.middle.attention ? attentionFlops(arch.middle.attention, midSize) : 0);
  return {
    time: 2 * (arch.timeEmbedding.inChannels * temb + temb * temb),
    input: convFlops(arch.convIn.inChannels, arch.convIn.outChannels, 3, spec.imageSize),
    middle,
    output: arch.decoders.map((d) => convFlops(d.convOut.inChannels, d.convOut.outChannels, 3, spec.imageSize)),
    levels,
  };
}

export interface DepthOptions {
  /** Fill kind; `interpolate` adds its side paths' cost. */
  readonly fill?: string;
  /** Decoder stage (multi-decoder U-Nets). */
  readonly stage?: number;
}

/** FLOPs per sample of one prediction that skips `k` levels (`table` from `flopTable(spec)`). */
export function flopsAtDepth(table: FlopTable, k: number, options: DepthOptions = {}): number {
  const N = table.levels.length;
  if (!Number.isInteger(k) || k < 0 || k > N - 1) {
    throw new LevelskipError('INVALID_OPTION', `k must be an integer in [0, ${N - 1}] for a ${N}-level U-Net, got ${k}`);
  }
  const stage = options.stage ?? 0;
  if (!Number.isInteger(stage) || stage < 0 || stage >= table.output.length) {
    throw new LevelskipError('INVALID_OPTION', `stage must be an integer in [0, ${table.output.length - 1}], got ${stage}`);
  }
  const cut = cutLevel(N, k);
  let flops = table.time + table.input + table.output[stage]!;
  for (let l = 0; l <= cut; l++) {
    const level = table.levels[l]!;
    flops += level.encoder + level.decoder[stage]!;
    if (l < cut) flops += level.downsample;
    if (l > 0) flops += level.upsample[stage]!;
  }
  if (k === 0) flops += table.middle;
  else if (options.fill === 'interpolate') flops += table.levels[cut]!.sideEncoder + table.levels[cut]!.sideDecoder[stage]!;
  return flops;
}
