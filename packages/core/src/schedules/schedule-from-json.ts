/**
 * Rebuilds a built-in skip schedule from its `toJSON()` form (as stored in checkpoints,
 * benchmark results and CLI config files), validating everything, since the JSON comes
 * from outside the program.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { constantSchedule } from './constant-schedule.js';
import { powerSchedule } from './power-schedule.js';
import type { SkipSchedule, StageEntry } from './skip-schedule.js';
import { stageSchedule } from './stage-schedule.js';

const FIELDS = {
  power: ['kind', 'c'],
  constant: ['kind', 'k'],
  stage: ['kind', 'table'],
} as const;

function jsonError(message: string, path: readonly (string | number)[] = []): LevelskipError {
  return new LevelskipError('INVALID_SCHEDULE', `skip schedule JSON: ${message}`, { issues: [{ path, message }] });
}

/**
 * Parses `{ kind: 'power', c }`, `{ kind: 'constant', k }` or `{ kind: 'stage', table }`
 * (the `SkipScheduleJSON` union) into a schedule. Unknown fields are rejected so that a typo
 * cannot silently fall back to a default.
 *
 * @throws LevelskipError `INVALID_SCHEDULE` for anything else, including custom schedules,
 *   which have no JSON form.
 */
export function skipScheduleFromJSON(json: unknown): SkipSchedule {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw jsonError(`expected an object such as { "kind": "power", "c": 2 }, got ${Array.isArray(json) ? 'an array' : String(json)}`);
  }
  const record = json as Record<string, unknown>;
  const kind = record['kind'];
  if (kind === 'custom') {
    throw jsonError('custom schedules have no JSON form; rebuild them in code with customSchedule(fn)', ['kind']);
  }
  if (kind !== 'power' && kind !== 'constant' && kind !== 'stage') {
    throw jsonError(`kind must be "power", "constant" or "stage", got ${JSON.stringify(kind) ?? String(kind)}`, ['kind']);
  }
  const allowed: readonly string[] = FIELDS[kind];
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw jsonError(`unknown field "${key}" for a ${kind} schedule (allowed: ${allowed.join(', ')})`, [key]);
    }
  }
  switch (kind) {
    case 'power':
      return powerSchedule({ c: record['c'] as number });
    case 'constant':
      return constantSchedule(record['k'] as number);
    case 'stage':
      // stageSchedule checks every row's type and value; here only the container.
      if (!Array.isArray(record['table'])) throw jsonError('table must be an array of { tStart, tEnd, k } rows', ['table']);
      return stageSchedule(record['table'] as readonly StageEntry[]);
  }
}
