import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatKTable, parseKTable, stageSchedule } from '../../src/schedules/stage-schedule.js';
import type { StageEntry } from '../../src/schedules/skip-schedule.js';
import { errorOf } from '../support/level-skip-errors.js';


const TABLE: StageEntry[] = [
  { tStart: 0, tEnd: 0.3, k: 0 },
  { tStart: 0.3, tEnd: 0.7, k: 1 },
  { tStart: 0.7, tEnd: 1, k: 3 },
];

/** A valid table: sorted distinct breakpoints in (0, 1) plus 0 and 1, and a k per row. */
const validTable = fc
  .uniqueArray(fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }), { maxLength: 6 })
  .map((points) => [0, ...points.filter((p) => p > 0 && p < 1).sort((a, b) => a - b), 1])
  .chain((bounds) =>
    fc.array(fc.integer({ min: 0, max: 7 }), { minLength: bounds.length - 1, maxLength: bounds.length - 1 }).map((ks) =>
      ks.map((k, i): StageEntry => ({ tStart: bounds[i] as number, tEnd: bounds[i + 1] as number, k })),
    ),
  );

describe('stageSchedule', () => {
  it('looks up [tStart, tEnd) rows, the last one including t = 1', () => {
    const s = stageSchedule(TABLE);
    expect(s.kAt(0, 4)).toBe(0);
    expect(s.kAt(0.29, 4)).toBe(0);
    expect(s.kAt(0.3, 4)).toBe(1); // a boundary belongs to the row it starts
    expect(s.kAt(0.69, 4)).toBe(1);
    expect(s.kAt(0.7, 4)).toBe(3);
    expect(s.kAt(1, 4)).toBe(3);
  });

  it('returns the k of the row containing t, for any valid table', () => {
    fc.assert(
      fc.property(validTable, fc.double({ min: 0, max: 1, noNaN: true }), (table, t) => {
        const expected = table.find((row, i) => t >= row.tStart && (t < row.tEnd || i === table.length - 1));
        return stageSchedule(table).kAt(t, 8) === expected?.k;
      }),
    );
  });

  it('throws INVALID_OPTION when a row skips more levels than the model has', () => {
    const s = stageSchedule(TABLE);
    expect(s.kAt(0.5, 2)).toBe(1);
    const error = errorOf(() => s.kAt(0.8, 3));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('only has 3 levels');
  });

  it.each<[string, unknown, string]>([
    ['empty', [], 'non-empty array'],
    ['gap', [{ tStart: 0, tEnd: 0.4, k: 0 }, { tStart: 0.5, tEnd: 1, k: 1 }], 'row 1: tStart (0.5) must equal the previous row\'s tEnd (0.4)'],
    ['overlap', [{ tStart: 0, tEnd: 0.6, k: 0 }, { tStart: 0.5, tEnd: 1, k: 1 }], 'row 1: tStart (0.5)'],
    ['late start', [{ tStart: 0.1, tEnd: 1, k: 0 }], 'row 0: the first row must start at t = 0'],
    ['early end', [{ tStart: 0, tEnd: 0.9, k: 0 }], 'row 0: the last row must end at t = 1'],
    ['empty row', [{ tStart: 0, tEnd: 0.5, k: 0 }, { tStart: 0.5, tEnd: 0.5, k: 0 }, { tStart: 0.5, tEnd: 1, k: 0 }], 'row 1: tStart (0.5) must be less than tEnd (0.5)'],
    ['fractional k', [{ tStart: 0, tEnd: 1, k: 1.5 }], 'row 0: k must be an integer'],
    ['negative k', [{ tStart: 0, tEnd: 1, k: -1 }], 'row 0: k must be an integer'],
    ['t above 1', [{ tStart: 0, tEnd: 1.5, k: 0 }], 'row 0: tEnd must be a number in [0, 1]'],
    ['not an object', [{ tStart: 0, tEnd: 0.5, k: 0 }, null], 'row 1: expected an object'],
  ])('rejects a table with %s (INVALID_SCHEDULE naming the row)', (_name, table, fragment) => {
    const error = errorOf(() => stageSchedule(table as StageEntry[]));
    expect(error.code).toBe('INVALID_SCHEDULE');
    expect(error.message).toContain(fragment);
  });

  it('copies the table, so later mutation of the input changes nothing', () => {
    const table = TABLE.map((row) => ({ ...row }));
    const s = stageSchedule(table);
    (table[2] as { k: number }).k = 0;
    expect(s.kAt(0.9, 4)).toBe(3);
    expect(s.toJSON()).toEqual({ kind: 'stage', table: TABLE });
  });

  it('describes itself in the CLI text form', () => {
    expect(stageSchedule(TABLE).description).toBe('stage(0:0.3=0,0.3:0.7=1,0.7:1=3)');
  });
});

describe('parseKTable', () => {
  it('parses the CLI form, with spaces', () => {
    expect(parseKTable('0:0.3=0,0.3:0.7=1,0.7:1=3')).toEqual(TABLE);
    expect(parseKTable(' 0 : 0.3 = 0 , 0.3:0.7=1, 0.7:1=3 ')).toEqual(TABLE);
    expect(parseKTable('0:1=2')).toEqual([{ tStart: 0, tEnd: 1, k: 2 }]);
    expect(parseKTable('0:.5=0,.5:1e0=1')).toEqual([
      { tStart: 0, tEnd: 0.5, k: 0 },
      { tStart: 0.5, tEnd: 1, k: 1 },
    ]);
  });

  it('round-trips formatKTable for any valid table', () => {
    fc.assert(
      fc.property(validTable, (table) => {
        expect(parseKTable(formatKTable(table))).toEqual(table);
      }),
    );
  });

  it.each<[string, string]>([
    ['', 'expected comma-separated'],
    ['0-1=2', 'row 0: "0-1=2" is not of the form tStart:tEnd=k'],
    ['0:0.5=0,0.5:1', 'row 1: "0.5:1" is not of the form'],
    ['0:0.5=0,,0.5:1=1', 'row 1: "" is not of the form'],
    ['0:0.5=a,0.5:1=1', 'row 0: "0:0.5=a"'],
    ['0::1=1', 'row 0'],
    ['0:0x1=1', 'row 0'],
    ['0:Infinity=1', 'row 0'],
    ['0:0.5=0,0.6:1=1', 'row 1: tStart (0.6) must equal'],
    ['0:1=1.5', 'row 0: k must be an integer'],
  ])('rejects %j with a clear INVALID_SCHEDULE message', (text, fragment) => {
    const error = errorOf(() => parseKTable(text));
    expect(error.code).toBe('INVALID_SCHEDULE');
    expect(error.message).toContain(fragment);
  });
});
