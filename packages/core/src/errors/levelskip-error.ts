/**
 * The one error type of levelskip. Every error a user can trigger is a `LevelskipError`
 * with a stable `code`, a message that says what to do, and the underlying `cause`.
 *
 * Recognised across duplicated package copies by a `Symbol.for` marker, so
 * `isLevelskipError(e)` works even when two versions of core are installed.
 */
const MARKER = Symbol.for('levelskip.error');

/** Stable, machine-readable error codes. */
export type LevelskipErrorCode =
  | 'INVALID_SPEC'
  | 'INVALID_OPTION'
  | 'INVALID_SHAPE'
  | 'INVALID_SCHEDULE'
  | 'INVALID_FILL'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_MISSING'
  | 'WEIGHTS_MISMATCH'
  | 'UNSUPPORTED'
  | 'BACKEND_UNAVAILABLE'
  | 'ABORTED'
  | 'DISPOSED'
  | 'IO_ERROR'
  | 'NONFINITE'
  | 'INTERNAL';

/** One problem found by validation, with the path of the offending field. */
export interface LevelskipIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface LevelskipErrorOptions {
  readonly cause?: unknown;
  /** Validation issues (e.g. from zod), each with its field path. */
  readonly issues?: readonly LevelskipIssue[];
}

export class LevelskipError extends Error {
  readonly code: LevelskipErrorCode;
  readonly issues: readonly LevelskipIssue[];
  readonly [MARKER] = true;

  constructor(code: LevelskipErrorCode, message: string, options: LevelskipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LevelskipError';
    this.code = code;
    this.issues = options.issues ?? [];
  }

  /** True for any LevelskipError, including one thrown by another copy of this package. */
  static is(error: unknown): error is LevelskipError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Type guard equivalent to `LevelskipError.is`. */
export function isLevelskipError(error: unknown): error is LevelskipError {
  return LevelskipError.is(error);
}

/** Formats a field path the way users write it: `channelMults[2]`, `decoderStages[0].tEnd`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}
