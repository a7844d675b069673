/**
 * Test helpers for the library's typed errors: the `LevelskipError` a call throws, or a promise
 * rejects with. They need no test runner; a wrong outcome throws a plain `Error` saying what
 * happened instead, which fails the test that called them.
 */
import { LevelskipError, type LevelskipErrorCode } from '../errors/levelskip-error.js';

function expected(code: LevelskipErrorCode | undefined): string {
  return code === undefined ? 'a LevelskipError' : `a LevelskipError with code ${code}`;
}

function checked(error: unknown, code: LevelskipErrorCode | undefined): LevelskipError {
  if (!LevelskipError.is(error)) throw new Error(`expected ${expected(code)}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  if (code !== undefined && error.code !== code) throw new Error(`expected ${expected(code)}, got code ${error.code}: ${error.message}`, { cause: error });
  return error;
}

/**
 * The `LevelskipError` that `fn` throws; with `code`, it must have that code. Fails (throws an
 * `Error`) when `fn` returns, or throws anything else.
 *
 * @example
 * ```ts
 * expect(levelskipErrorOf(() => parseFill('cache:0'), 'INVALID_FILL').message).toMatch(/interval/);
 * ```
 */
export function levelskipErrorOf(fn: () => unknown, code?: LevelskipErrorCode): LevelskipError {
  try {
    fn();
  } catch (error) {
    return checked(error, code);
  }
  throw new Error(`expected ${expected(code)}, but the call returned`);
}

/**
 * The `LevelskipError` that `promise` rejects with; with `code`, it must have that code. Fails
 * (rejects with an `Error`) when the promise resolves, or rejects with anything else.
 */
export async function levelskipRejectionOf(promise: Promise<unknown>, code?: LevelskipErrorCode): Promise<LevelskipError> {
  try {
    await promise;
  } catch (error) {
    return checked(error, code);
  }
  throw new Error(`expected ${expected(code)}, but the promise resolved`);
}
