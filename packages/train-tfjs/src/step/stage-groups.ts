/**
 * The samples of a batch grouped by decoder stage (Zhang et al.'s multi-decoder U-Net: one decoder
 * per timestep stage), because one forward pass runs one decoder. A single-decoder U-Net gives one
 * group holding the whole batch.
 */
import { stageForTime, type Architecture } from '@levelskip/core';

/** The indices of the samples of each decoder stage, in order of first appearance. */
export function stageGroups(arch: Architecture, timesteps: readonly number[]): { stage: number; indices: number[] }[] {
  const T = arch.spec.trainTimesteps;
  const groups = new Map<number, number[]>();
  timesteps.forEach((t, i) => {
    const stage = stageForTime(arch, t / T);
    const list = groups.get(stage);
    if (list === undefined) groups.set(stage, [i]);
    else list.push(i);
  });
  return [...groups].map(([stage, indices]) => ({ stage, indices }));
}
