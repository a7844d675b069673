import { describe, expect, it } from 'vitest';
import { cacheDepths, constantSchedule, deepCache, LevelskipError } from '../../src/index.js';

/** DDIM-50 with leading spacing over T = 1000: timesteps 980, 960, …, 0. */
const timesteps = Array.from({ length: 50 }, (_, i) => 980 - 20 * i);
const depths = (settings: ReturnType<typeof deepCache>, levels = 4): number[] =>
  cacheDepths(
    timesteps.map((ts) => settings.skip.kAt(ts / 1000, levels)),
    settings.fill,
  );

describe('deepCache', () => {
  it('is the constant k = N − 1 schedule with cache:m: DeepCache with branch 0 (Table 4\'s setting)', () => {
    const settings = deepCache({ interval: 3 });
    expect(settings.fill).toEqual({ kind: 'cache', interval: 3 });
    expect(depths(settings)).toEqual(cacheDepths(timesteps.map(() => constantSchedule(3).kAt(0.5, 4)), settings.fill));
    // DeepCache's uniform interval: a full step at 0, 3, 6, …, cached steps in between.
    expect(depths(settings)).toEqual(timesteps.map((_, i) => (i % 3 === 0 ? 0 : 3)));
  });

  it('keeps branch + 1 levels at the cached steps', () => {
    expect(depths(deepCache({ interval: 2, branch: 1 }))).toEqual(timesteps.map((_, i) => (i % 2 === 0 ? 0 : 2)));
    expect(depths(deepCache({ interval: 2, branch: 3 }), 4)).toEqual(timesteps.map(() => 0));
  });

  it('caches only inside the window of steps: t ∈ [1 − end, 1 − start]', () => {
    // t_i = (980 − 20 i) / 1000 lies in [0.2, 0.8] for steps i = 9 … 39. Step 8 is the last full
    // step before the window, so the cache refreshes at steps 11, 14, … (every 3rd after 8).
    const expected = timesteps.map((_, i) => (i >= 9 && i <= 39 && (i - 8) % 3 !== 0 ? 3 : 0));
    expect(depths(deepCache({ interval: 3, start: 0.2, end: 0.8 }))).toEqual(expected);
    expect(deepCache({ interval: 3, start: 0.2, end: 0.8 }).skip.description).toBe('deepCache(interval=3, branch=0, steps 0.2–0.8)');
  });

  it('refuses impossible settings, naming the field', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        if (LevelskipError.is(error)) return `${error.code}: ${error.message}`;
        throw error;
      }
      return undefined;
    };
    expect(code(() => deepCache({ interval: 0 }))).toMatch(/INVALID_OPTION: deepCache: interval/);
    expect(code(() => deepCache({ interval: 2.5 }))).toMatch(/interval must be an integer/);
    expect(code(() => deepCache({ interval: 3, branch: -1 }))).toMatch(/branch/);
    expect(code(() => deepCache({ interval: 3, start: 0.5, end: 0.5 }))).toMatch(/start \(0.5\) must be below end/);
    expect(code(() => deepCache({ interval: 3, end: 1.5 }))).toMatch(/end must be a fraction/);
    expect(code(() => deepCache({ interval: 3, branch: 4 }).skip.kAt(0.5, 4))).toMatch(/INVALID_SCHEDULE: .*at least 5 levels, this one has 4/);
  });
});
