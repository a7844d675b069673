/**
 * Stage-table skip schedule: normalised time [0, 1] is cut into contiguous stages, each
 * skipping a fixed number of levels. Covers hand-tuned schedules and the piecewise-constant
 * schedules that multi-decoder models (Zhang et al.) are trained with.
 *
 * Text form (CLI flag `--k-table`): comma-separated `tStart:tEnd=k` rows,
 * e.g. `0:0.3=0,0.3:0.7=1,0.7:1=3`.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkDepthFits, checkKAtArguments } from './schedule-arguments.js';
import type { SkipSchedule, StageEntry } from './skip-schedule.js';

function tableError(row: number, message: string): LevelskipError {
  return new LevelskipError('INVALID_SCHEDULE', `stage table row ${row}: ${message}`, {
    issues: [{ path: ['table', row], message }],
  });
}

/**
 * Checks that `table` is a valid stage table and returns a frozen copy.
 * Rows must be contiguous (each tStart equals the previous tEnd exactly), start at 0, end at 1,
 * have tStart < tEnd, and k an integer ≥ 0.
 */
function validateTable(table: readonly StageEntry[]): readonly StageEntry[] {
  if (!Array.isArray(table) || table.length === 0) {
    throw new LevelskipError(
      'INVALID_SCHEDULE',
      'stage table: expected a non-empty array of { tStart, tEnd, k } rows covering [0, 1], e.g. [{ tStart: 0, tEnd: 1, k: 0 }]',
    );
  }
  const rows: StageEntry[] = [];
  table.forEach((entry: unknown, row) => {
    if (typeof entry !== 'object' || entry === null) throw tableError(row, 'expected an object { tStart, tEnd, k }');
    const { tStart, tEnd, k } = entry as Record<string, unknown>;
    for (const [name, value] of [['tStart', tStart], ['tEnd', tEnd]] as const) {
      if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
        throw tableError(row, `${name} must be a number in [0, 1], got ${String(value)}`);
      }
    }
    if (!(typeof k === 'number' && Number.isInteger(k) && k >= 0)) {
      throw tableError(row, `k must be an integer ≥ 0 (levels to skip), got ${String(k)}`);
    }
    const start = tStart as number;
    const end = tEnd as number;
    if (!(start < end)) throw tableError(row, `tStart (${start}) must be less than tEnd (${end})`);
    const previous = rows[row - 1];
    if (previous === undefined && start !== 0) {
      throw tableError(row, `the first row must start at t = 0, got tStart = ${start}`);
    }
    if (previous !== undefined && start !== previous.tEnd) {
      throw tableError(
        row,
        `tStart (${start}) must equal the previous row's tEnd (${previous.tEnd}); rows must be sorted and leave no gap or overlap`,
      );
    }
    rows.push(Object.freeze({ tStart: start, tEnd: end, k }));
  });
  const last = rows[rows.length - 1] as StageEntry;
  if (last.tEnd !== 1) throw tableError(rows.length - 1, `the last row must end at t = 1, got tEnd = ${last.tEnd}`);
  return Object.freeze(rows);
}

/** Writes a stage table in the text form `parseKTable` reads, e.g. `0:0.3=0,0.3:1=2`. */
export function formatKTable(table: readonly StageEntry[]): string {
  return table.map((row) => `${row.tStart}:${row.tEnd}=${row.k}`).join(',');
}

/**
 * A piecewise-constant schedule: a row `{ tStart, tEnd, k }` skips `k` levels for t in
 * [tStart, tEnd); the last row also includes t = 1.
 *
 * @throws LevelskipError `INVALID_SCHEDULE` (naming the row) when the rows are not contiguous,
 *   do not cover [0, 1] exactly, have tStart ≥ tEnd, or k is not an integer ≥ 0. `kAt` throws
 *   `INVALID_OPTION` when a row's k does not fit the model's levels.
 *
 * @example
 * ```ts
 * stageSchedule([{ tStart: 0, tEnd: 0.5, k: 0 }, { tStart: 0.5, tEnd: 1, k: 2 }]).kAt(0.7, 4); // 2
 * ```
 */
export function stageSchedule(table: readonly StageEntry[]): SkipSchedule {
  const rows = validateTable(table);
  const description = `stage(${formatKTable(rows)})`;
  return Object.freeze({
    kind: 'stage' as const,
    description,
    kAt(t: number, levels: number): number {
      checkKAtArguments(description, t, levels);
      // Validation guarantees a hit: rows tile [0, 1) and the last row takes t = 1.
      const row = rows.find((entry) => t < entry.tEnd) ?? (rows[rows.length - 1] as StageEntry);
      checkDepthFits(`${description} at t=${t}`, row.k, levels);
      return row.k;
    },
    toJSON: () => ({ kind: 'stage' as const, table: rows }),
  });
}

/** A plain decimal number: digits with an optional fraction and exponent (no hex, no Infinity, no empty string). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ROW = /^([^:=]*):([^:=]*)=([^:=]*)$/;

/**
 * Parses the text form of a stage table, as given on the command line:
 * comma-separated `tStart:tEnd=k` rows, e.g. `"0:0.3=0,0.3:0.7=1,0.7:1=3"` (spaces allowed).
 * The result is validated like `stageSchedule`'s argument.
 *
 * @throws LevelskipError `INVALID_SCHEDULE` naming the offending row and what was expected.
 */
export function parseKTable(text: string): StageEntry[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new LevelskipError(
      'INVALID_SCHEDULE',
      'k table: expected comma-separated tStart:tEnd=k rows covering [0, 1], e.g. "0:0.3=0,0.3:0.7=1,0.7:1=3"',
    );
  }
  const rows = text.split(',').map((part, row): StageEntry => {
    const match = ROW.exec(part.trim());
    const fields = match?.slice(1).map((field) => field.trim());
    if (fields === undefined || !fields.every((field) => DECIMAL.test(field))) {
      throw tableError(row, `"${part.trim()}" is not of the form tStart:tEnd=k with decimal numbers, e.g. "0.3:0.7=1"`);
    }
    const [tStart, tEnd, k] = fields.map(Number) as [number, number, number];
    return { tStart, tEnd, k };
  });
  validateTable(rows);
  return rows;
}
