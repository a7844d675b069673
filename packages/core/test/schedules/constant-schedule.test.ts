import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantSchedule } from '../../src/schedules/constant-schedule.js';
import { errorOf } from '../support/level-skip-errors.js';


describe('constantSchedule', () => {
  it('returns k at every t when the model has enough levels', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), (k, n, t) => {
        fc.pre(k <= n - 1);
        return constantSchedule(k).kAt(t, n) === k;
      }),
    );
  });

  it('throws INVALID_OPTION naming the level count when k does not fit', () => {
    const error = errorOf(() => constantSchedule(3).kAt(0.5, 3));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('only has 3 levels');
    expect(error.message).toContain('at most 2');
  });

  it('rejects k that is not an integer ≥ 0 at construction', () => {
    for (const k of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = errorOf(() => constantSchedule(k));
      expect(error.code).toBe('INVALID_SCHEDULE');
      expect(error.message).toContain('k must be');
    }
  });

  it('rejects t outside [0, 1]', () => {
    expect(errorOf(() => constantSchedule(0).kAt(2, 4)).code).toBe('INVALID_OPTION');
  });

  it('describes and serialises itself', () => {
    const s = constantSchedule(2);
    expect(s.kind).toBe('constant');
    expect(s.description).toBe('constant(k=2)');
    expect(s.toJSON()).toEqual({ kind: 'constant', k: 2 });
  });
});
