/**
 * Level geometry for each depth k: which levels run, the tensor shapes at every boundary
 * (skip stack, the missing input a fill supplies, the output), the parameters in use and
 * the FLOPs. With L = N - 1 - k: encoder levels 0..L run (L without its downsample), the
 * middle block runs only at k = 0, decoder levels L..0 run. The levels, the skip stack and the
 * fill's shape are core's skip plan's (`planSkip`), where that rule is written once.
 */
import { describeArchitecture, type Architecture } from './architecture.js';
import { flopTable, flopsAtDepth } from './flops.js';
import { parameterLayout, type NetworkPart } from './parameter-layout.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import { cutLevel, planSkip, plannedFillShape } from '../composition/skip-plan.js';

export type Shape4 = readonly [number, number, number, number];

export interface DepthGeometry {
  readonly k: number;
  /** The cut level L = N - 1 - k (the deepest level computed). */
  readonly cutLevel: number;
  /** Shapes (batch 1) of the skip stack when decoding starts, in push order. */
  readonly skipShapes: readonly Shape4[];
  /** Shape of the missing input the fill supplies, or undefined at k = 0. */
  readonly fillShape: Shape4 | undefined;
  readonly outputShape: Shape4;
  /** Parameters used at this depth (fill side paths excluded). */
  readonly parameters: number;
  /** FLOPs per sample with the zero fill. */
  readonly flops: number;
  /** FLOPs per sample with the interpolate fill (equal to `flops` without side paths). */
  readonly flopsInterpolate: number;
}

/** Whether a parameter of `part` is used at cut level L (for decoder `stage`). */
export function partUsedAtCut(part: NetworkPart, cut: number, levels: number, stage = 0): boolean {
  switch (part.kind) {
    case 'time':
    case 'input':
      return true;
    case 'output':
      return part.stage === stage;
    case 'encoder':
      return part.level <= cut;
    case 'downsample':
      return part.level < cut;
    case 'middle':
      return cut === levels - 1;
    case 'decoder':
      return part.stage === stage && part.level <= cut;
    case 'upsample':
      return part.stage === stage && part.level <= cut && part.level > 0;
    case 'side-encoder':
    case 'side-decoder':
      return false;
  }
}

/** The skip stack's shapes (batch 1) when the encoder stops at cut level L: core's skip plan's (`planSkip`) at k = N − 1 − L. */
export function skipStackShapes(arch: Architecture, cut: number): Shape4[] {
  // k = N − 1 − L: the cut rule is its own inverse.
  return planSkip(arch, { stage: 0, k: cutLevel(arch.levels, cut) }).skipShapes.map((s): Shape4 => [1, s.channels, s.size, s.size]);
}

/** Geometry for every k = 0..N-1 (decoder `stage` for multi-decoder U-Nets). */
export function levelGeometry(spec: UNetSpec, stage = 0): DepthGeometry[] {
  const arch = describeArchitecture(spec);
  if (!Number.isInteger(stage) || stage < 0 || stage >= arch.decoders.length) {
    throw new LevelskipError('INVALID_OPTION', `stage must be an integer in [0, ${arch.decoders.length - 1}], got ${stage}`);
  }
  const table = flopTable(arch);
  const layout = parameterLayout(arch);
  const N = arch.levels;
  const result: DepthGeometry[] = [];
  for (let k = 0; k < N; k++) {
    // Which levels run, the skip stack and the fill's site: core's skip plan, the one statement of the cut rule.
    const plan = planSkip(arch, { stage, k });
    const cut = plan.cut;
    let parameters = 0;
    for (const entry of layout) {
      if (partUsedAtCut(entry.part, cut, N, stage)) parameters += entry.shape.reduce((a, b) => a * b, 1);
    }
    result.push({
      k,
      cutLevel: cut,
      skipShapes: plan.skipShapes.map((s): Shape4 => [1, s.channels, s.size, s.size]),
      fillShape: plan.fillSite === undefined ? undefined : plannedFillShape(plan.fillSite, 1),
      outputShape: [1, spec.outChannels, spec.imageSize, spec.imageSize],
      parameters,
      flops: flopsAtDepth(table, k, { stage }),
      flopsInterpolate: flopsAtDepth(table, k, { stage, fill: 'interpolate' }),
    });
  }
  return result;
}
