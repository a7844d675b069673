/**
 * Small spec files the CLI tests write and pass with `--spec`: each exercises a spec feature
 * end to end at a size every backend runs in well under a second.
 */

/** 16×16, N = 3, ode2 blocks (Euler, 2 steps), side paths and two decoder stages split at t = 0.5. */
export const ode2MultiStageSpec = {
  imageSize: 16,
  inChannels: 1,
  baseChannels: 8,
  channelMults: [1, 2, 2],
  groups: 4,
  resBlocks: 1,
  attentionLevels: [],
  midAttention: false,
  block: 'ode2',
  ode: { solver: 'euler', steps: 2 },
  sidePaths: true,
  decoderStages: [
    { tStart: 0, tEnd: 0.5, baseChannels: 8 },
    { tStart: 0.5, tEnd: 1, baseChannels: 4 },
  ],
} as const;
