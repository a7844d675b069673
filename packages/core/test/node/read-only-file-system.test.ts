/**
 * Issue 21 item 9: on a read-only file system the error says so. Such a mount cannot be made in a
 * test, so a directory is made to behave like one: creating anything in it fails with EROFS, and
 * a recursive mkdir below it fails with ENOENT (what Node's recursive mkdir can report there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { acquireDirectoryLock } from '../../src/node/directory-lock.js';
import { assertWritableDirectory } from '../../src/node/writable-directory.js';
import { writeFileAtomic } from '../../src/node/write-file-atomic.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const readOnly = { dir: '/nonexistent-placeholder' };
const errno = (code: string, path: string) => Object.assign(new Error(`${code}: simulated, '${path}'`), { code, path });
const inside = (path: unknown) => String(path).startsWith(`${readOnly.dir}/`);

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    mkdir: vi.fn((path: string, options?: unknown) => (inside(path) ? Promise.reject(errno('ENOENT', path)) : actual.mkdir(path, options as never))),
    access: vi.fn((path: string, mode?: number) => (String(path) === readOnly.dir ? Promise.reject(errno('EROFS', path)) : actual.access(path, mode))),
    open: vi.fn((path: string, flags?: unknown, mode?: unknown) => (inside(path) ? Promise.reject(errno('EROFS', path)) : actual.open(path, flags as never, mode as never))),
  };
});

beforeAll(async () => {
  readOnly.dir = await mkdtemp(join(tmpdir(), 'levelskip-rofs-'));
});
afterAll(async () => {
  await rm(readOnly.dir, { recursive: true, force: true });
  vi.mocked(fs.open).mockRestore();
});

const readOnlyError = expect.objectContaining({ name: 'LevelskipError', code: 'IO_ERROR', message: expect.stringMatching(/\(EROFS\): the file system is read-only/) });

describe('a read-only file system is reported as EROFS, not ENOENT', () => {
  it('saveCheckpoint into a new directory there', async () => {
    const spec = tinySpec();
    const error = await saveCheckpoint(join(readOnly.dir, 'run', 'final'), { spec, weights: deterministicWeights(spec) }).catch((e: unknown) => e);
    expect(error).toEqual(readOnlyError);
    expect((error as Error).message).not.toContain('ENOENT');
    expect((error as Error).message).toContain(join(readOnly.dir, 'run', 'final'));
  });

  it('writeFileAtomic, assertWritableDirectory and acquireDirectoryLock', async () => {
    await expect(writeFileAtomic(join(readOnly.dir, 'sample.png'), 'png')).rejects.toEqual(readOnlyError);
    await expect(assertWritableDirectory(readOnly.dir, { what: '--out' })).rejects.toEqual(readOnlyError);
    await expect(acquireDirectoryLock(join(readOnly.dir, 'checkpoints'))).rejects.toEqual(readOnlyError);
  });
});
