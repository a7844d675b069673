// Shared by tests: run a function that must throw a LevelskipError and return that error.
import { LevelskipError } from '../../src/errors/levelskip-error.js';

export function errorOf(fn: () => unknown): LevelskipError {
  try {
    fn();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError');
}
