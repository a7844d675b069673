/**
 * DeepCache's settings, by name (Ma et al., "DeepCache: Accelerating Diffusion Models for Free",
 * 2023; github.com/horseee/DeepCache): a skip schedule and the cache fill that together run
 * DeepCache's scheme on any levelskip U-Net, without retraining.
 *
 * How DeepCache's parameters map onto levelskip:
 *
 *   DeepCache                 levelskip
 *   cache_interval = m        fill `cache:m` (`cacheFillEvery(m)`): a full-depth step every m steps,
 *                             the steps between reuse its deep features
 *   cache_branch_id = b       keep the b + 1 shallowest levels at the cached steps: k = N − 1 − b
 *                             (b = 0: only the shallowest level runs, DeepCache's fastest setting).
 *                             DeepCache counts branches per block (a U-Net level holds several);
 *                             levelskip's unit is the level, so b counts levels here.
 *   caching window            `start` / `end`: the fraction of the run's steps in which caching is
 *   (start/end step)          allowed; outside it every step runs at full depth.
 *
 * The window is set on the normalised time t = timestep / T that schedules see: the steps from
 * fraction `start` to `end` of a run from t = 1 (noise) down to t = 0 are those with
 * t ∈ [1 − end, 1 − start]. With the evenly spaced timesteps of DDIM, DDPM and DPM-Solver++ this is
 * the same as counting steps, to within one step at the window's edges.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { customSchedule } from '../schedules/custom-schedule.js';
import type { SkipSchedule } from '../schedules/skip-schedule.js';
import { cacheFillEvery, type CacheFill } from './builtin/cache-fill.js';

export interface DeepCacheOptions {
  /** DeepCache's `cache_interval`: a full-depth step every `interval` steps (an integer ≥ 1; 1 caches nothing). */
  readonly interval: number;
  /** DeepCache's `cache_branch_id`, counted in levels from the shallowest: the levels kept are 0..branch (default 0). */
  readonly branch?: number;
  /** Fraction of the run's steps before which every step runs at full depth (default 0). */
  readonly start?: number;
  /** Fraction of the run's steps after which every step runs at full depth (default 1). */
  readonly end?: number;
}

/** The `{ skip, fill }` pair `sample()` takes. */
export interface DeepCacheSettings {
  readonly skip: SkipSchedule;
  readonly fill: CacheFill;
}

function invalid(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `deepCache: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

/**
 * DeepCache as a levelskip schedule and fill: pass the result's `skip` and `fill` to `sample()`
 * (or spread it into its options).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field for a non-integer or out-of-range
 *   `interval` or `branch`, or a window outside [0, 1] or with `start ≥ end`. The schedule's
 *   `kAt` throws `INVALID_SCHEDULE` when the model has no level `branch` (too few levels).
 *
 * @example
 * ```ts
 * const { skip, fill } = deepCache({ interval: 3, branch: 0 });
 * await sample({ denoiser, sampler: ddim({ steps: 50 }), skip, fill, shape: [1, 32, 32], seed: 0 });
 * ```
 */
export function deepCache(options: DeepCacheOptions): DeepCacheSettings {
  if (typeof options !== 'object' || options === null) throw invalid('options', `must be an object such as { interval: 3 }, got ${String(options)}`);
  const { interval, branch = 0, start = 0, end = 1 } = options;
  if (!(typeof interval === 'number' && Number.isInteger(interval) && interval >= 1 && interval <= 1000)) {
    throw invalid('interval', `must be an integer in [1, 1000] (DeepCache's cache_interval), got ${String(interval)}`);
  }
  if (!(typeof branch === 'number' && Number.isInteger(branch) && branch >= 0 && branch <= 15)) {
    throw invalid('branch', `must be an integer ≥ 0 counting levels from the shallowest (DeepCache's cache_branch_id), got ${String(branch)}`);
  }
  for (const [field, value] of [['start', start], ['end', end]] as const) {
    if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw invalid(field, `must be a fraction of the run's steps in [0, 1], got ${String(value)}`);
  }
  if (start >= end) throw invalid('start', `(${start}) must be below end (${end}): the window of steps that may use the cache would be empty`);
  const window = start === 0 && end === 1 ? '' : `, steps ${start}–${end}`;
  const description = `deepCache(interval=${interval}, branch=${branch}${window})`;
  const tLow = 1 - end;
  const tHigh = 1 - start;
  const skip = customSchedule((t, levels) => {
    if (branch > levels - 1) {
      throw new LevelskipError(
        'INVALID_SCHEDULE',
        `${description}: branch ${branch} needs a model with at least ${branch + 1} levels, this one has ${levels}; choose branch ≤ ${levels - 1}`,
      );
    }
    return t >= tLow && t <= tHigh ? levels - 1 - branch : 0;
  }, description);
  return Object.freeze({ skip, fill: cacheFillEvery(interval) });
}
