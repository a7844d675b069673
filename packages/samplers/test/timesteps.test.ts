import { LevelskipError } from '@levelskip/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dpmSolverTimesteps, inferenceTimesteps, timestepSpacings, type TimestepSpacing } from '../src/timesteps.js';
import { errorOf } from './helpers/errors.js';

/*
 * Expected lists computed with numpy 1.24 by the formulas of diffusers' set_timesteps
 * (scripts/dev/sampler-reference.py, `ddim_timesteps` / `dpm_timesteps`), e.g. for DDIM:
 *   linspace: np.linspace(0, T - 1, n).round()[::-1]
 *   leading:  (np.arange(0, n) * (T // n)).round()[::-1] + steps_offset
 *   trailing: np.round(np.arange(T, 0, -T / n)) - 1
 * and for DPMSolverMultistep the same on n + 1 points with the last dropped (leading: T // (n + 1)).
 */
const ddimExpected: Record<string, number[]> = {
  'leading 10': [900, 800, 700, 600, 500, 400, 300, 200, 100, 0],
  'leading 50': [
    980, 960, 940, 920, 900, 880, 860, 840, 820, 800, 780, 760, 740, 720, 700, 680, 660, 640, 620, 600, 580, 560, 540, 520, 500, 480, 460,
    440, 420, 400, 380, 360, 340, 320, 300, 280, 260, 240, 220, 200, 180, 160, 140, 120, 100, 80, 60, 40, 20, 0,
  ],
  'linspace 10': [999, 888, 777, 666, 555, 444, 333, 222, 111, 0],
  'linspace 50': [
    999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775, 754, 734, 714, 693, 673, 652, 632, 612, 591, 571, 550, 530, 510, 489, 469,
    449, 428, 408, 387, 367, 347, 326, 306, 285, 265, 245, 224, 204, 183, 163, 143, 122, 102, 82, 61, 41, 20, 0,
  ],
  'trailing 10': [999, 899, 799, 699, 599, 499, 399, 299, 199, 99],
  'trailing 50': [
    999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779, 759, 739, 719, 699, 679, 659, 639, 619, 599, 579, 559, 539, 519, 499, 479,
    459, 439, 419, 399, 379, 359, 339, 319, 299, 279, 259, 239, 219, 199, 179, 159, 139, 119, 99, 79, 59, 39, 19,
  ],
};

const dpmExpected: Record<string, number[]> = {
  'leading 10': [900, 810, 720, 630, 540, 450, 360, 270, 180, 90],
  'leading 50': [
    950, 931, 912, 893, 874, 855, 836, 817, 798, 779, 760, 741, 722, 703, 684, 665, 646, 627, 608, 589, 570, 551, 532, 513, 494, 475, 456,
    437, 418, 399, 380, 361, 342, 323, 304, 285, 266, 247, 228, 209, 190, 171, 152, 133, 114, 95, 76, 57, 38, 19,
  ],
  // linspace(0, 999, 11)[5] = 499.5 rounds half to even: 500.
  'linspace 10': [999, 899, 799, 699, 599, 500, 400, 300, 200, 100],
  'linspace 50': [
    999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779, 759, 739, 719, 699, 679, 659, 639, 619, 599, 579, 559, 539, 519, 500, 480,
    460, 440, 420, 400, 380, 360, 340, 320, 300, 280, 260, 240, 220, 200, 180, 160, 140, 120, 100, 80, 60, 40, 20,
  ],
  'trailing 10': [999, 899, 799, 699, 599, 499, 399, 299, 199, 99],
  'trailing 50': [
    999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779, 759, 739, 719, 699, 679, 659, 639, 619, 599, 579, 559, 539, 519, 499, 479,
    459, 439, 419, 399, 379, 359, 339, 319, 299, 279, 259, 239, 219, 199, 179, 159, 139, 119, 99, 79, 59, 39, 19,
  ],
};

describe('inferenceTimesteps (diffusers DDIMScheduler.set_timesteps)', () => {
  for (const [key, expected] of Object.entries(ddimExpected)) {
    const [spacing, n] = key.split(' ') as [TimestepSpacing, string];
    it(`${spacing}, T = 1000, n = ${n}`, () => {
      expect(inferenceTimesteps({ trainTimesteps: 1000, steps: Number(n), timestepSpacing: spacing })).toEqual(expected);
    });
  }

  it('rounds linspace half to even like numpy (166.5 → 166, 499.5 → 500, 832.5 → 832)', () => {
    // np.linspace(0, 999, 7) = [0, 166.5, 333, 499.5, 666, 832.5, 999].
    expect(inferenceTimesteps({ trainTimesteps: 1000, steps: 7, timestepSpacing: 'linspace' })).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(inferenceTimesteps({ trainTimesteps: 1000, steps: 3, timestepSpacing: 'linspace' })).toEqual([999, 500, 0]);
  });

  it('adds stepsOffset to the leading spacing', () => {
    expect(inferenceTimesteps({ trainTimesteps: 1000, steps: 10, stepsOffset: 1 })).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  it('follows numpy for other T (T = 50, n = 7)', () => {
    expect(inferenceTimesteps({ trainTimesteps: 50, steps: 7, timestepSpacing: 'trailing' })).toEqual([49, 42, 35, 28, 20, 13, 6]);
    expect(inferenceTimesteps({ trainTimesteps: 50, steps: 7, timestepSpacing: 'linspace' })).toEqual([49, 41, 33, 24, 16, 8, 0]);
    expect(inferenceTimesteps({ trainTimesteps: 1000, steps: 3, timestepSpacing: 'trailing' })).toEqual([999, 666, 332]);
  });

  it("keeps exactly n values where numpy's float arange returns n + 1 (trailing, n = 61)", () => {
    // np.round(np.arange(1000, 0, -1000/61)) - 1 has 62 entries, the last -1; the first 61 are these.
    expect(inferenceTimesteps({ trainTimesteps: 1000, steps: 61, timestepSpacing: 'trailing' })).toEqual([
      999, 983, 966, 950, 933, 917, 901, 884, 868, 851, 835, 819, 802, 786, 769, 753, 737, 720, 704, 688, 671, 655, 638, 622, 606, 589, 573,
      556, 540, 524, 507, 491, 474, 458, 442, 425, 409, 392, 376, 360, 343, 327, 310, 294, 278, 261, 245, 229, 212, 196, 179, 163, 147, 130,
      114, 97, 81, 65, 48, 32, 15,
    ]);
  });

  it('gives n strictly decreasing timesteps in [0, T-1] for every spacing, T and n ≤ T (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }).chain((T) => fc.tuple(fc.constant(T), fc.integer({ min: 1, max: T }), fc.constantFrom(...timestepSpacings))),
        ([T, n, spacing]) => {
          for (const list of [inferenceTimesteps({ trainTimesteps: T, steps: n, timestepSpacing: spacing })]) {
            expect(list).toHaveLength(n);
            expect(list.every((t) => Number.isInteger(t) && t >= 0 && t <= T - 1)).toBe(true);
            expect(list.every((t, i) => i === 0 || t < (list[i - 1] as number))).toBe(true);
          }
          if (n <= T - 1) {
            const list = dpmSolverTimesteps({ trainTimesteps: T, steps: n, timestepSpacing: spacing });
            expect(list).toHaveLength(n);
            expect(list.every((t, i) => t >= 0 && t <= T - 1 && (i === 0 || t < (list[i - 1] as number)))).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects bad options with INVALID_OPTION naming the option', () => {
    const cases: [() => unknown, string][] = [
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 0 }), 'steps'],
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 1001 }), 'steps'],
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 2.5 }), 'steps'],
      [() => inferenceTimesteps({ trainTimesteps: 0, steps: 1 }), 'trainTimesteps'],
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 10, timestepSpacing: 'uniform' as TimestepSpacing }), 'timestepSpacing'],
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 10, stepsOffset: -1 }), 'stepsOffset'],
      // leading n = 10 reaches 900 + 100 = 1000 > 999.
      [() => inferenceTimesteps({ trainTimesteps: 1000, steps: 10, stepsOffset: 100 }), 'stepsOffset'],
      [() => dpmSolverTimesteps({ trainTimesteps: 1000, steps: 1000 }), 'steps'],
    ];
    for (const [fn, field] of cases) {
      const error = errorOf(fn);
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain(field);
      expect(error.issues[0]?.path).toEqual([field]);
    }
    expect(errorOf(() => inferenceTimesteps(null as never))).toBeInstanceOf(LevelskipError);
  });
});

describe('dpmSolverTimesteps (diffusers DPMSolverMultistepScheduler.set_timesteps)', () => {
  for (const [key, expected] of Object.entries(dpmExpected)) {
    const [spacing, n] = key.split(' ') as [TimestepSpacing, string];
    it(`${spacing}, T = 1000, n = ${n}`, () => {
      expect(dpmSolverTimesteps({ trainTimesteps: 1000, steps: Number(n), timestepSpacing: spacing })).toEqual(expected);
    });
  }

  it('rounds half to even on the n + 1 grid (n = 6: 166.5 → 166, 832.5 → 832)', () => {
    expect(dpmSolverTimesteps({ trainTimesteps: 1000, steps: 6, timestepSpacing: 'linspace' })).toEqual([999, 832, 666, 500, 333, 166]);
    expect(dpmSolverTimesteps({ trainTimesteps: 50, steps: 7, timestepSpacing: 'leading' })).toEqual([42, 36, 30, 24, 18, 12, 6]);
  });
});
