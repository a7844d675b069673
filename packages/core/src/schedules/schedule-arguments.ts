/**
 * Argument checks shared by every built-in skip schedule's `kAt(t, levels)`, so that all
 * schedules reject the same bad input with the same message.
 */
import { LevelskipError } from '../errors/levelskip-error.js';

/** Throws `INVALID_OPTION` unless `t` is in [0, 1] and `levels` is an integer ≥ 1. */
export function checkKAtArguments(schedule: string, t: number, levels: number): void {
  if (!(typeof t === 'number' && t >= 0 && t <= 1)) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `${schedule}: normalised time t must be a number in [0, 1] (timestep / trainTimesteps), got ${String(t)}`,
    );
  }
  if (!(typeof levels === 'number' && Number.isInteger(levels) && levels >= 1)) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `${schedule}: levels must be an integer ≥ 1 (the U-Net's number of levels), got ${String(levels)}`,
    );
  }
}

/** Throws `INVALID_OPTION` when a schedule asks to skip `k` levels of a model that has only `levels`. */
export function checkDepthFits(schedule: string, k: number, levels: number): void {
  if (k > levels - 1) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `${schedule} skips ${k} level${k === 1 ? '' : 's'} but the model only has ${levels} level${levels === 1 ? '' : 's'}, ` +
        `so at most ${levels - 1} can be skipped; use a smaller k or a model with more levels`,
    );
  }
}
