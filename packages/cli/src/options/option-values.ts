/**
 * Parsing of command-line option values. Commander hands every value over as a string; these
 * turn them into numbers, lists and choices, and reject anything else with a
 * `LevelskipError('INVALID_OPTION')` that names the flag and says what it takes.
 */
import { LevelskipError } from '@levelskip/core';

/** A plain decimal number: digits with an optional fraction and exponent (no hex, no Infinity, no empty string). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An `INVALID_OPTION` error for `flag` (e.g. `--steps`). */
export function optionError(flag: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `${flag} ${message}`, { issues: [{ path: [flag], message }] });
}

function shown(text: string): string {
  return JSON.stringify(text);
}

/** A finite decimal number. */
export function parseNumber(flag: string, text: string): number {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) throw optionError(flag, `must be a number, got ${shown(text)}`);
  return Number(trimmed);
}

/** An integer ≥ 1 (a step count, a batch size). */
export function parsePositiveInteger(flag: string, text: string): number {
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(Number.isSafeInteger(value) && value >= 1)) throw optionError(flag, `must be a positive integer, got ${shown(text)}`);
  return value;
}

/** An integer ≥ 0 (a seed, a k). */
export function parseNonNegativeInteger(flag: string, text: string): number {
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(Number.isSafeInteger(value) && value >= 0)) throw optionError(flag, `must be an integer ≥ 0, got ${shown(text)}`);
  return value;
}

/** A number within a range: `test` decides, `range` describes it (`in [0, 1]`, `> 0`). */
export function parseNumberIn(flag: string, text: string, test: (value: number) => boolean, range: string): number {
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(Number.isFinite(value) && test(value))) throw optionError(flag, `must be a number ${range}, got ${shown(text)}`);
  return value;
}

/** One of `choices`. */
export function parseChoice<C extends string>(flag: string, text: string, choices: readonly C[]): C {
  if ((choices as readonly string[]).includes(text)) return text as C;
  throw optionError(flag, `must be one of ${choices.join(', ')}, got ${shown(text)}`);
}

/** A comma-separated list of non-empty items (spaces around items allowed). */
export function parseList(flag: string, text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === '')) throw optionError(flag, `must be a comma-separated list without empty items, got ${shown(text)}`);
  return items;
}

/** A comma-separated list of integers ≥ 0, without duplicates. */
export function parseIntegerList(flag: string, text: string): number[] {
  const values = parseList(flag, text).map((item) => {
    const value = DECIMAL.test(item) ? Number(item) : Number.NaN;
    if (!(Number.isSafeInteger(value) && value >= 0)) throw optionError(flag, `must be a comma-separated list of integers ≥ 0, got ${shown(text)}`);
    return value;
  });
  if (new Set(values).size !== values.length) throw optionError(flag, `lists a value twice: ${shown(text)}`);
  return values;
}

/** A comma-separated list of `choices`, without duplicates. */
export function parseChoiceList<C extends string>(flag: string, text: string, choices: readonly C[]): C[] {
  const values = parseList(flag, text).map((item) => {
    if (!(choices as readonly string[]).includes(item)) throw optionError(flag, `takes a comma-separated list of ${choices.join(', ')}; ${shown(item)} is not one of them`);
    return item as C;
  });
  if (new Set(values).size !== values.length) throw optionError(flag, `lists a value twice: ${shown(text)}`);
  return values;
}

/** Parses `text` with `parse` when it is given; `undefined` otherwise. */
export function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}
