/**
 * Constant skip schedule: skip the same k deepest levels at every timestep. The simplest
 * baseline against the paper's time-dependent schedules, and handy for measuring per-depth cost.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkDepthFits, checkKAtArguments } from './schedule-arguments.js';
import type { SkipSchedule } from './skip-schedule.js';

/**
 * A schedule that always skips `k` levels.
 *
 * @param k - levels to skip, an integer ≥ 0 (0 = the full network).
 * @throws LevelskipError `INVALID_SCHEDULE` when `k` is not an integer ≥ 0. `kAt` throws
 *   `INVALID_OPTION` when the model has too few levels for `k` (rather than silently clamping,
 *   which would hide a mismatch between a schedule and its model).
 */
export function constantSchedule(k: number): SkipSchedule {
  if (!(typeof k === 'number' && Number.isInteger(k) && k >= 0)) {
    throw new LevelskipError('INVALID_SCHEDULE', `constant schedule: k must be an integer ≥ 0 (levels to skip), got ${String(k)}`);
  }
  const description = `constant(k=${k})`;
  return Object.freeze({
    kind: 'constant' as const,
    description,
    kAt(t: number, levels: number): number {
      checkKAtArguments(description, t, levels);
      checkDepthFits(description, k, levels);
      return k;
    },
    toJSON: () => ({ kind: 'constant' as const, k }),
  });
}
