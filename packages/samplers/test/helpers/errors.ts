import { LevelskipError } from '@levelskip/core';

/** The LevelskipError `fn` throws (any other outcome fails the test). */
export function errorOf(fn: () => unknown): LevelskipError {
  try {
    fn();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError, but nothing was thrown');
}

/** The LevelskipError `promise` rejects with (any other outcome fails the test). */
export async function rejectionOf(promise: Promise<unknown>): Promise<LevelskipError> {
  try {
    await promise;
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError, but the promise resolved');
}
