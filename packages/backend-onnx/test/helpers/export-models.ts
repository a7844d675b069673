/**
 * The two models the export fault tests write over each other: one architecture (three levels,
 * two decoder stages, side paths: 14 graphs per export) with two sets of weights, so that both
 * exports use the same file names and a mixed directory would go unnoticed by name alone.
 */
import { parseUNetSpec, randomWeights, type NamedTensors, type UNetSpec } from '@levelskip/core';

export const exportSpec: UNetSpec = parseUNetSpec({
  imageSize: 8,
  inChannels: 2,
  baseChannels: 8,
  channelMults: [1, 2, 2],
  resBlocks: 1,
  attentionLevels: [1],
  groups: 4,
  sidePaths: true,
  decoderStages: [
    { tStart: 0, tEnd: 0.5, baseChannels: 8 },
    { tStart: 0.5, tEnd: 1, baseChannels: 4 },
  ],
});

export type ExportModelName = 'a' | 'b';

/** Model `a` (weights seed 1) or `b` (seed 2). */
export function exportModelWeights(name: ExportModelName): NamedTensors {
  return randomWeights(exportSpec, { seed: name === 'a' ? 1 : 2, jitter: 0.1 });
}
