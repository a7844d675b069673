/**
 * Custom skip schedules: any user function (t, levels) → k. The function is checked at every
 * call, since nothing else guards a backend against an out-of-range or fractional depth.
 * Custom schedules do not serialise (`toJSON()` is `undefined`).
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkKAtArguments } from './schedule-arguments.js';
import type { SkipSchedule } from './skip-schedule.js';

/**
 * Wraps a function as a skip schedule.
 *
 * @param fn - returns the levels to skip at normalised time `t` ∈ [0, 1] (1 = pure noise) for a
 *   model with `levels` levels; must return an integer in [0, levels - 1]. It should be pure:
 *   samplers and time-saved predictions may call it more than once per step.
 * @param description - shown in tables and logs; defaults to `custom`.
 * @throws LevelskipError `INVALID_SCHEDULE` when `fn` is not a function; `kAt` throws
 *   `INVALID_SCHEDULE` naming t and the value when `fn` returns anything but an integer in range.
 *
 * @example
 * ```ts
 * const late = customSchedule((t, levels) => (t > 0.8 ? levels - 1 : 0), 'last 20% shallow');
 * ```
 */
export function customSchedule(fn: (t: number, levels: number) => number, description = 'custom'): SkipSchedule {
  if (typeof fn !== 'function') {
    throw new LevelskipError('INVALID_SCHEDULE', `custom schedule: expected a function (t, levels) => k, got ${typeof fn}`);
  }
  if (typeof description !== 'string') {
    throw new LevelskipError('INVALID_SCHEDULE', `custom schedule: description must be a string, got ${typeof description}`);
  }
  return Object.freeze({
    kind: 'custom' as const,
    description,
    kAt(t: number, levels: number): number {
      checkKAtArguments(description, t, levels);
      const k = fn(t, levels);
      if (!(typeof k === 'number' && Number.isInteger(k) && k >= 0 && k <= levels - 1)) {
        throw new LevelskipError(
          'INVALID_SCHEDULE',
          `custom schedule "${description}" returned ${String(k)} at t=${t} for a ${levels}-level model; ` +
            `it must return an integer in [0, ${levels - 1}]`,
        );
      }
      return k;
    },
    toJSON: () => undefined,
  });
}
