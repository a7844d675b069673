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

/** `4096` → `4,096`, so a bound reads at a glance in messages and help texts. */
export function formatCount(value: number): string {
  return value === Number.MAX_SAFE_INTEGER ? '2^53 − 1' : value.toLocaleString('en-US');
}

/** An inclusive integer range of a flag, as its `--help` text and errors state it. */
export interface IntegerBounds {
  readonly min: number;
  readonly max: number;
}

/** `1–4,096`: a bound as `--help` texts show it. */
export function formatBounds(bounds: IntegerBounds): string {
  return `${formatCount(bounds.min)}–${formatCount(bounds.max)}`;
}

/**
 * An integer in `[bounds.min, bounds.max]`. Above the bound, `fix` (when given) says what to do
 * instead, e.g. "sample in several runs with different --seed".
 */
export function parseIntegerIn(flag: string, text: string, bounds: IntegerBounds, fix?: string): number {
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  const most = formatCount(bounds.max);
  const kind = bounds.min === 1 ? 'a positive integer' : bounds.min === 0 ? 'an integer ≥ 0' : `an integer in [${formatCount(bounds.min)}, ${most}]`;
  if (!Number.isInteger(value) || value < bounds.min) throw optionError(flag, `must be ${kind}, got ${shown(text)}`);
  if (value > bounds.max) throw optionError(flag, `must be ${kind}, at most ${most}, got ${shown(text)}${fix === undefined ? '' : `; ${fix}`}`);
  return value;
}

const sizeUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * A byte size: a number with an optional unit, `512MiB`, `4GiB`, `2G` (binary: K, M, G, T),
 * `1.5GB` (decimal: KB, MB, GB, TB) or plain bytes, within `bounds` (bytes).
 */
export function parseByteSize(flag: string, text: string, bounds: IntegerBounds): number {
  const match = /^\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = sizeUnits[(match?.[2] ?? '').toLowerCase()];
  const range = `between ${formatByteSize(bounds.min)} and ${formatByteSize(bounds.max)}`;
  if (match === null || unit === undefined) {
    throw optionError(flag, `must be a size such as 512MiB, 4GiB or 8G (${range}), got ${shown(text)}`);
  }
  const value = Math.round(Number(match[1]) * unit);
  if (!(Number.isFinite(value) && value >= bounds.min && value <= bounds.max)) throw optionError(flag, `must be ${range}, got ${shown(text)}`);
  return value;
}

/** `4.0 GiB`, `512.0 MiB`. */
export function formatByteSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
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
