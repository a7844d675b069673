import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { powerSchedule } from '../../src/schedules/power-schedule.js';
import { LevelskipError } from '../../src/errors/levelskip-error.js';

const PAPER_CS = [0.5, 1, 2, 3, 5];
const levels = fc.integer({ min: 1, max: 8 });
const time = fc.double({ min: 0, max: 1, noNaN: true });
// c in (0, 10]: the smallest positive double up to 10.
const positiveC = fc.double({ min: Number.MIN_VALUE, max: 10, noNaN: true });
const anyC = fc.oneof(fc.constantFrom(...PAPER_CS), positiveC);

function expectCode(fn: () => unknown, code: string, fragment: string): void {
  try {
    fn();
  } catch (error) {
    expect(LevelskipError.is(error)).toBe(true);
    expect((error as LevelskipError).code).toBe(code);
    expect((error as Error).message).toContain(fragment);
    return;
  }
  throw new Error('expected a LevelskipError');
}

describe('powerSchedule golden values (eq. 1, k = min(N-1, ⌊N - N(1-t)^c⌋), by hand)', () => {
  it('N = 4, c = 2', () => {
    const s = powerSchedule({ c: 2 });
    // t = 0.5: ⌊4 - 4·0.5²⌋ = ⌊4 - 1⌋ = 3 (exactly on a breakpoint)
    expect(s.kAt(0.5, 4)).toBe(3);
    // t = 0.1: ⌊4 - 4·0.81⌋ = ⌊0.76⌋ = 0
    expect(s.kAt(0.1, 4)).toBe(0);
    // t = 0.2: ⌊4 - 4·0.64⌋ = ⌊1.44⌋ = 1
    expect(s.kAt(0.2, 4)).toBe(1);
    // t = 0.3: ⌊4 - 4·0.49⌋ = ⌊2.04⌋ = 2
    expect(s.kAt(0.3, 4)).toBe(2);
    // t = 0.75: ⌊4 - 4·0.0625⌋ = ⌊3.75⌋ = 3, the cap N - 1
    expect(s.kAt(0.75, 4)).toBe(3);
    // t = 1: ⌊4 - 0⌋ = 4 → min(3, 4) = 3
    expect(s.kAt(1, 4)).toBe(3);
    // t = 0: ⌊4 - 4⌋ = 0
    expect(s.kAt(0, 4)).toBe(0);
  });

  it('N = 4, c = 1 is linear in t, exact on breakpoints', () => {
    const s = powerSchedule({ c: 1 });
    // t = 0.5: ⌊4 - 4·0.5⌋ = ⌊2⌋ = 2
    expect(s.kAt(0.5, 4)).toBe(2);
    // t = 0.25: ⌊4 - 3⌋ = 1; t = 0.75: ⌊4 - 1⌋ = 3
    expect(s.kAt(0.25, 4)).toBe(1);
    expect(s.kAt(0.75, 4)).toBe(3);
    // just below a breakpoint: t = 0.2499: ⌊4 - 3.0004⌋ = ⌊0.9996⌋ = 0
    expect(s.kAt(0.2499, 4)).toBe(0);
  });

  it('breakpoints whose float evaluation is inexact', () => {
    // N = 5, c = 0.5, t = 0.96: 5·√0.04 = 5·0.2 = 1 → ⌊5 - 1⌋ = 4.
    // In doubles 5·(1 - 0.96)^0.5 = 1.0000000000000004, so a naive floor gives 3.
    expect(Math.floor(5 - 5 * (1 - 0.96) ** 0.5)).toBe(3);
    expect(powerSchedule({ c: 0.5 }).kAt(0.96, 5)).toBe(4);
    // N = 3, c = 0.5, t = 8/9 (timestep 8 of 9): 3·√(1/9) = 1 → ⌊3 - 1⌋ = 2 (naive: 1).
    expect(powerSchedule({ c: 0.5 }).kAt(8 / 9, 3)).toBe(2);
    // N = 6, same t: 6·(1/3) = 2 → ⌊6 - 2⌋ = 4 (naive: 3).
    expect(powerSchedule({ c: 0.5 }).kAt(8 / 9, 6)).toBe(4);
    // N = 8, c = 0.5, t = 0.75: 8·√0.25 = 4 → ⌊8 - 4⌋ = 4
    expect(powerSchedule({ c: 0.5 }).kAt(0.75, 8)).toBe(4);
    // N = 3, c = 3, t = 0.5: 3·0.125 = 0.375 → ⌊2.625⌋ = 2
    expect(powerSchedule({ c: 3 }).kAt(0.5, 3)).toBe(2);
  });

  it('N = 4, c = 5 (the paper\'s most aggressive)', () => {
    const s = powerSchedule({ c: 5 });
    // t = 0.1: 4·0.9⁵ = 4·0.59049 = 2.36196 → ⌊1.63804⌋ = 1
    expect(s.kAt(0.1, 4)).toBe(1);
    // t = 0.2: 4·0.8⁵ = 4·0.32768 = 1.31072 → ⌊2.68928⌋ = 2
    expect(s.kAt(0.2, 4)).toBe(2);
    // t = 0.3: 4·0.7⁵ = 4·0.16807 = 0.67228 → ⌊3.32772⌋ = 3
    expect(s.kAt(0.3, 4)).toBe(3);
  });

  it('describes and serialises itself', () => {
    const s = powerSchedule({ c: 2 });
    expect(s.kind).toBe('power');
    expect(s.description).toBe('power(c=2)');
    expect(s.toJSON()).toEqual({ kind: 'power', c: 2 });
  });
});

describe('powerSchedule properties', () => {
  it('k is an integer in [0, N - 1]', () => {
    fc.assert(
      fc.property(anyC, time, levels, (c, t, n) => {
        const k = powerSchedule({ c }).kAt(t, n);
        return Number.isInteger(k) && k >= 0 && k <= n - 1;
      }),
    );
  });

  it('k is non-decreasing in t', () => {
    fc.assert(
      fc.property(anyC, time, time, levels, (c, a, b, n) => {
        const s = powerSchedule({ c });
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return s.kAt(lo, n) <= s.kAt(hi, n);
      }),
    );
  });

  it('k(1) = N - 1 and k(0) = 0 for c > 0', () => {
    fc.assert(
      fc.property(anyC, levels, (c, n) => {
        const s = powerSchedule({ c });
        return s.kAt(1, n) === n - 1 && s.kAt(0, n) === 0;
      }),
    );
  });

  it('c = 0 is the full network everywhere', () => {
    const s = powerSchedule({ c: 0 });
    fc.assert(fc.property(time, levels, (t, n) => s.kAt(t, n) === 0));
  });

  it('larger c skips at least as much', () => {
    fc.assert(
      fc.property(anyC, anyC, time, levels, (a, b, t, n) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return powerSchedule({ c: lo }).kAt(t, n) <= powerSchedule({ c: hi }).kAt(t, n);
      }),
    );
  });

  it('matches the formula wherever N(1-t)^c is not within 1e-9 of an integer', () => {
    fc.assert(
      fc.property(anyC, time, levels, (c, t, n) => {
        const kept = n * (1 - t) ** c;
        fc.pre(Math.abs(kept - Math.round(kept)) > 1e-9);
        return powerSchedule({ c }).kAt(t, n) === Math.min(n - 1, Math.floor(n - kept));
      }),
    );
  });
});

describe('powerSchedule validation', () => {
  it('rejects bad c at construction, naming c', () => {
    for (const c of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      expectCode(() => powerSchedule({ c }), 'INVALID_SCHEDULE', 'c must be');
    }
  });

  it('rejects t outside [0, 1] and bad levels', () => {
    const s = powerSchedule({ c: 2 });
    for (const t of [-0.1, 1.0001, Number.NaN]) expectCode(() => s.kAt(t, 4), 'INVALID_OPTION', 't must be');
    for (const n of [0, 2.5, -1, Number.NaN]) expectCode(() => s.kAt(0.5, n), 'INVALID_OPTION', 'levels must be');
  });
});
