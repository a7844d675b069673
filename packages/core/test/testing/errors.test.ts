import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { levelskipErrorOf, levelskipRejectionOf } from '../../src/testing/errors.js';
import * as testing from '../../src/testing/index.js';

const typed = new LevelskipError('INVALID_FILL', 'fill "x" is unknown');

describe('levelskipErrorOf / levelskipRejectionOf', () => {
  it('return the typed error a call throws or a promise rejects with', async () => {
    expect(levelskipErrorOf(() => { throw typed; })).toBe(typed);
    expect(levelskipErrorOf(() => { throw typed; }, 'INVALID_FILL')).toBe(typed);
    expect(await levelskipRejectionOf(Promise.reject(typed), 'INVALID_FILL')).toBe(typed);
  });

  it('fail when nothing is thrown, something else is thrown, or the code differs', async () => {
    expect(() => levelskipErrorOf(() => 1)).toThrow(/^expected a LevelskipError, but the call returned$/);
    expect(() => levelskipErrorOf(() => { throw new TypeError('boom'); })).toThrow(/^expected a LevelskipError, got TypeError: boom$/);
    expect(() => levelskipErrorOf(() => { throw typed; }, 'DISPOSED')).toThrow(/^expected a LevelskipError with code DISPOSED, got code INVALID_FILL: fill "x" is unknown$/);
    await expect(levelskipRejectionOf(Promise.resolve(2))).rejects.toThrow(/but the promise resolved/);
    await expect(levelskipRejectionOf(Promise.reject(new Error('plain')))).rejects.toThrow(/got Error: plain/);
    await expect(levelskipRejectionOf(Promise.reject(typed), 'DISPOSED')).rejects.toThrow(/with code DISPOSED, got code INVALID_FILL/);
  });

  it('are exported from @levelskip/core/testing', () => {
    expect(testing.levelskipErrorOf).toBe(levelskipErrorOf);
    expect(testing.levelskipRejectionOf).toBe(levelskipRejectionOf);
  });
});
