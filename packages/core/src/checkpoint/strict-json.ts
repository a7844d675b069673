/**
 * A strict front end for `JSON.parse` on untrusted files (model.json, safetensors headers).
 *
 * One linear, non-recursive pass checks the grammar (RFC 8259) before `JSON.parse` runs, and adds
 * what `JSON.parse` lacks:
 *
 * - duplicate keys in any object are rejected (`JSON.parse` silently keeps the last one). Keys are
 *   compared after unescaping, so `"a"` and `"\u0061"` are the same key;
 * - nesting depth is bounded, so no later recursive walk (zod, `JSON.stringify` in an error
 *   message) can overflow the stack on `[[[[...]]]]`;
 * - a syntax error is reported by position (line, column, character offset) and a description
 *   that never quotes the text: V8's own messages quote it (`Unexpected token 'r', "root:x:0:0"...`),
 *   which would disclose a file the user did not mean to show (a symlink to /etc/passwd).
 */

/** A syntax, depth or duplicate-key fault; `message` holds only the reason and the position. */
export class StrictJsonError extends Error {
  /** The fault's description alone, without the position. */
  readonly reason: string;
  /** Character (UTF-16 code unit) offset of the fault in the text. */
  readonly offset: number;
  /** 1-based line of the fault. */
  readonly line: number;
  /** 1-based column of the fault. */
  readonly column: number;

  constructor(reason: string, text: string, offset: number) {
    const { line, column } = lineAndColumn(text, offset);
    super(`${reason} at line ${line}, column ${column} (character ${offset})`);
    this.name = 'StrictJsonError';
    this.reason = reason;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

export interface StrictJsonOptions {
  /** Deepest accepted nesting of objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** What the scanner expects next. */
const Expect = {
  /** A value (after `:` or `,` in an array, or at the start). */
  Value: 0,
  /** A value or `]` (just after `[`). */
  ValueOrClose: 1,
  /** A key (after `,` in an object). */
  Key: 2,
  /** A key or `}` (just after `{`). */
  KeyOrClose: 3,
  /** `:` after a key. */
  Colon: 4,
  /** `,` or the closing bracket, or the end of the text at the top level. */
  AfterValue: 5,
} as const;
type Expect = (typeof Expect)[keyof typeof Expect];

interface Frame {
  readonly isObject: boolean;
  /** The object's keys so far; an array while short (most objects have a few keys), then a set. */
  keys: string[] | Set<string> | undefined;
}

/** Whether `key` was already in `frame`; adds it. */
function addKey(frame: Frame, key: string): boolean {
  const keys = frame.keys!;
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return true;
    keys.push(key);
    if (keys.length > 16) frame.keys = new Set(keys);
    return false;
  }
  if (keys.has(key)) return true;
  keys.add(key);
  return false;
}

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** Longest name (key, tensor name) an error message quotes; longer ones are shortened. */
const maxQuotedName = 64;

/**
 * Quotes a short identifier read from a file (a key, a tensor name) for an error message, escaped
 * and shortened to 64 characters, so a message can name the fault without echoing a file's body.
 */
export function quoteName(name: string): string {
  if (name.length <= maxQuotedName) return JSON.stringify(name);
  return `${JSON.stringify(name.slice(0, maxQuotedName))}... (${name.length} characters)`;
}

/**
 * Names a JSON value for an error message without quoting a string's text: a file's values may be
 * anything (a symlinked secret), so messages give the kind and size, and numbers, which are short.
 */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return 'an object';
}

/** Quotes a short identifier-like value (a dtype such as "I64"); anything else is described, not quoted. */
export function quoteToken(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? JSON.stringify(value) : describeJsonValue(value);
}

/** Describes the character at `i` without quoting it (a printable ASCII punctuation mark is harmless, letters are not). */
function describeCharacter(text: string, i: number): string {
  const c = text.charCodeAt(i);
  const punctuation = text[i];
  if (punctuation !== undefined && punctuation.length === 1 && '{}[]:,"'.includes(punctuation)) return `'${punctuation}'`;
  if (c < 0x20) return `control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
  return 'character';
}

/**
 * Checks `text` as strict JSON (grammar, depth, no duplicate keys) and parses it.
 *
 * @throws StrictJsonError naming the fault and its position, never quoting the text.
 */
export function parseStrictJson(text: string, options: StrictJsonOptions): unknown {
  checkStrictJson(text, options);
  return JSON.parse(text) as unknown;
}

function fault(text: string, reason: string, at: number): never {
  throw new StrictJsonError(reason, text, at);
}

/**
 * Where the next backslash and the next control character are, at or after some index; each is
 * looked up again only once the scan passes it, so finding them stays linear in the text.
 */
interface StringHints {
  backslash: number;
  control: number;
}

// JSON forbids these unescaped inside strings; matching them is the point (no-control-regex guards against accidents).
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f]/g;

/**
 * Scans the string whose opening quote is at `start`; returns the index after its closing quote.
 * Native searches (indexOf, one regex) find the closing quote, escapes and control characters.
 */
function scanString(text: string, start: number, hints: StringHints): number {
  let j = start + 1;
  for (;;) {
    const quote = text.indexOf('"', j);
    if (quote < 0) return fault(text, 'unterminated string', start);
    if (hints.control < j) {
      controlCharacter.lastIndex = j;
      hints.control = controlCharacter.exec(text)?.index ?? Number.POSITIVE_INFINITY;
    }
    if (hints.backslash < j) {
      const next = text.indexOf('\\', j);
      hints.backslash = next < 0 ? Number.POSITIVE_INFINITY : next;
    }
    const escape = hints.backslash;
    if (hints.control < Math.min(quote, escape)) {
      const c = text.charCodeAt(hints.control);
      fault(text, `unescaped control character U+${c.toString(16).padStart(4, '0').toUpperCase()} in a string`, hints.control);
    }
    if (quote < escape) return quote + 1;
    const e = text.charCodeAt(escape + 1);
    if (e === 0x75) {
      for (let k = escape + 2; k < escape + 6; k++) if (!isHexDigit(text.charCodeAt(k))) fault(text, 'invalid \\u escape in a string', escape);
      j = escape + 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      j = escape + 2;
    } else {
      fault(text, 'invalid escape in a string', escape);
    }
  }
}

/** Scans the number starting at `start`; returns the index after it. */
function scanNumber(text: string, start: number): number {
  let j = start;
  if (text.charCodeAt(j) === 0x2d) j++;
  if (text.charCodeAt(j) === 0x30) j++;
  else if (isDigit(text.charCodeAt(j))) while (isDigit(text.charCodeAt(j))) j++;
  else fault(text, 'invalid number', start);
  if (text.charCodeAt(j) === 0x2e) {
    j++;
    if (!isDigit(text.charCodeAt(j))) fault(text, 'invalid number: a digit must follow the decimal point', start);
    while (isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j);
  if (e === 0x65 || e === 0x45) {
    j++;
    const sign = text.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    if (!isDigit(text.charCodeAt(j))) fault(text, 'invalid number: a digit must follow the exponent', start);
    while (isDigit(text.charCodeAt(j))) j++;
  }
  return j;
}

/** The grammar, depth and duplicate-key check of `parseStrictJson`, without building the value. */
export function checkStrictJson(text: string, options: StrictJsonOptions): void {
  const n = text.length;
  const stack: Frame[] = [];
  let expect: Expect = Expect.Value;
  let i = 0;
  const hints: StringHints = { backslash: -1, control: -1 };
  for (;;) {
    while (i < n && isWhitespace(text.charCodeAt(i))) i++;
    if (i >= n) {
      if (stack.length === 0 && expect === Expect.AfterValue) return;
      fault(text, n === 0 || (stack.length === 0 && expect === Expect.Value) ? 'no JSON value (empty text)' : 'unexpected end of the text (truncated?)', i);
    }
    const c = text.charCodeAt(i);
    switch (expect) {
      case Expect.Value:
      case Expect.ValueOrClose: {
        if (c === 0x5d && expect === Expect.ValueOrClose) {
          stack.pop();
          i++;
          expect = Expect.AfterValue;
        } else if (c === 0x7b || c === 0x5b) {
          if (stack.length >= options.maxDepth) fault(text, `nesting deeper than ${options.maxDepth} levels of objects and arrays`, i);
          const isObject = c === 0x7b;
          stack.push({ isObject, keys: isObject ? [] : undefined });
          i++;
          expect = isObject ? Expect.KeyOrClose : Expect.ValueOrClose;
        } else {
          if (c === 0x22) i = scanString(text, i, hints);
          else if (c === 0x2d || isDigit(c)) i = scanNumber(text, i);
          else if (text.startsWith('true', i)) i += 4;
          else if (text.startsWith('false', i)) i += 5;
          else if (text.startsWith('null', i)) i += 4;
          else fault(text, `unexpected ${describeCharacter(text, i)} where a value was expected`, i);
          expect = Expect.AfterValue;
        }
        break;
      }
      case Expect.Key:
      case Expect.KeyOrClose: {
        if (c === 0x7d && expect === Expect.KeyOrClose) {
          stack.pop();
          i++;
          expect = Expect.AfterValue;
          break;
        }
        if (c !== 0x22) fault(text, `unexpected ${describeCharacter(text, i)} where a double-quoted key was expected`, i);
        const start = i;
        i = scanString(text, i, hints);
        const raw = text.slice(start + 1, i - 1);
        // A checked string literal: JSON.parse only unescapes it.
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (addKey(stack.at(-1)!, key)) fault(text, `duplicate key ${quoteName(key)} (JSON would keep only the last value; remove one)`, start);
        expect = Expect.Colon;
        break;
      }
      case Expect.Colon:
        if (c !== 0x3a) fault(text, `unexpected ${describeCharacter(text, i)} where ':' was expected after a key`, i);
        i++;
        expect = Expect.Value;
        break;
      case Expect.AfterValue: {
        const top = stack.at(-1);
        if (top === undefined) return fault(text, `unexpected ${describeCharacter(text, i)} after the end of the JSON value`, i);
        if (c === 0x2c) {
          i++;
          expect = top.isObject ? Expect.Key : Expect.Value;
        } else if (c === (top.isObject ? 0x7d : 0x5d)) {
          stack.pop();
          i++;
          expect = Expect.AfterValue;
        } else {
          fault(text, `unexpected ${describeCharacter(text, i)} where ',' or '${top.isObject ? '}' : ']'}' was expected`, i);
        }
        break;
      }
    }
  }
}
