import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { skipScheduleFromJSON } from '../../src/schedules/schedule-from-json.js';
import { powerSchedule } from '../../src/schedules/power-schedule.js';
import { constantSchedule } from '../../src/schedules/constant-schedule.js';
import { stageSchedule } from '../../src/schedules/stage-schedule.js';
import { customSchedule } from '../../src/schedules/custom-schedule.js';
import { errorOf } from '../support/level-skip-errors.js';


const builtIn = fc.oneof(
  fc.double({ min: 0, max: 10, noNaN: true }).map((c) => powerSchedule({ c })),
  fc.integer({ min: 0, max: 7 }).map((k) => constantSchedule(k)),
  fc.integer({ min: 0, max: 7 }).map((k) =>
    stageSchedule([
      { tStart: 0, tEnd: 0.5, k: 0 },
      { tStart: 0.5, tEnd: 1, k },
    ]),
  ),
);

describe('skipScheduleFromJSON', () => {
  it('rebuilds every built-in schedule through a JSON string round trip', () => {
    fc.assert(
      fc.property(builtIn, fc.double({ min: 0, max: 1, noNaN: true }), (schedule, t) => {
        const rebuilt = skipScheduleFromJSON(JSON.parse(JSON.stringify(schedule)));
        expect(rebuilt.kind).toBe(schedule.kind);
        expect(rebuilt.description).toBe(schedule.description);
        expect(rebuilt.toJSON()).toEqual(schedule.toJSON());
        expect(rebuilt.kAt(t, 8)).toBe(schedule.kAt(t, 8));
      }),
    );
  });

  it('rejects custom schedules, which have no JSON form', () => {
    expect(JSON.stringify({ s: customSchedule(() => 0) })).toBe('{}');
    const error = errorOf(() => skipScheduleFromJSON({ kind: 'custom' }));
    expect(error.code).toBe('INVALID_SCHEDULE');
    expect(error.message).toContain('customSchedule(fn)');
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'expected an object'],
    ['an array', [], 'expected an object'],
    ['unknown kind', { kind: 'cosine' }, 'kind must be "power", "constant" or "stage", got "cosine"'],
    ['missing kind', { c: 2 }, 'kind must be'],
    ['unknown field', { kind: 'power', c: 2, C: 3 }, 'unknown field "C"'],
    ['bad c', { kind: 'power', c: -1 }, 'c must be'],
    ['missing c', { kind: 'power' }, 'c must be'],
    ['bad k', { kind: 'constant', k: 'two' }, 'k must be'],
    ['table not an array', { kind: 'stage', table: {} }, 'table must be an array'],
    ['bad table row', { kind: 'stage', table: [{ tStart: 0, tEnd: 0.5, k: 0 }] }, 'row 0: the last row must end at t = 1'],
  ])('rejects %s with INVALID_SCHEDULE', (_name, json, fragment) => {
    const error = errorOf(() => skipScheduleFromJSON(json));
    expect(error.code).toBe('INVALID_SCHEDULE');
    expect(error.message).toContain(fragment);
  });
});
