import { describe, expect, it } from 'vitest';
import { customSchedule } from '../../src/schedules/custom-schedule.js';
import { errorOf } from '../support/level-skip-errors.js';


describe('customSchedule', () => {
  it('passes t and levels through and returns the function\'s k', () => {
    const calls: [number, number][] = [];
    const s = customSchedule((t, levels) => {
      calls.push([t, levels]);
      return t > 0.8 ? levels - 1 : 0;
    }, 'late');
    expect(s.kAt(0.9, 4)).toBe(3);
    expect(s.kAt(0.2, 4)).toBe(0);
    expect(calls).toEqual([
      [0.9, 4],
      [0.2, 4],
    ]);
    expect(s.kind).toBe('custom');
    expect(s.description).toBe('late');
    expect(s.toJSON()).toBeUndefined();
  });

  it('defaults the description to "custom"', () => {
    expect(customSchedule(() => 0).description).toBe('custom');
  });

  it.each([
    [2.5, '2.5'],
    [-1, '-1'],
    [4, '4'],
    [Number.NaN, 'NaN'],
    ['1' as unknown as number, '1'],
  ])('rejects the returned value %s with INVALID_SCHEDULE naming t and the value', (value, shown) => {
    const error = errorOf(() => customSchedule(() => value).kAt(0.25, 4));
    expect(error.code).toBe('INVALID_SCHEDULE');
    expect(error.message).toContain(`returned ${shown} at t=0.25`);
    expect(error.message).toContain('[0, 3]');
  });

  it('checks its arguments before calling the function', () => {
    let called = false;
    const s = customSchedule(() => {
      called = true;
      return 0;
    });
    expect(errorOf(() => s.kAt(-0.5, 4)).code).toBe('INVALID_OPTION');
    expect(called).toBe(false);
  });

  it('rejects a non-function', () => {
    expect(errorOf(() => customSchedule(3 as unknown as () => number)).code).toBe('INVALID_SCHEDULE');
  });
});
