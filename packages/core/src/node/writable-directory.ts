/**
 * Output directories: created when missing, and checked for writability up front, so a command
 * fails at start rather than at its first save an hour later, and with the real reason: a
 * recursive `mkdir` on a read-only file system can report ENOENT for the missing parent instead of
 * EROFS, so on ENOENT the nearest existing ancestor is asked why it cannot be written.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LevelskipError } from '../errors/levelskip-error.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { temporaryPathFor } from './temporary-files.js';

export interface EnsureDirectoryOptions {
  /** What the directory is, for messages (`'the checkpoint directory'`, `'--out'`). */
  readonly what?: string;
}

/** The errno of the nearest existing ancestor of `path` that refuses writes, if any. */
async function ancestorRefusal(path: string): Promise<{ error: unknown; path: string } | undefined> {
  let current = dirname(path);
  for (;;) {
    const info = await stat(current).catch(() => undefined);
    if (info !== undefined) {
      if (!info.isDirectory()) return { error: Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), path: current };
      try {
        await access(current, constants.W_OK);
        return undefined;
      } catch (error) {
        return { error, path: current };
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Creates `directory` (and its parents) if missing.
 *
 * @throws LevelskipError `INVALID_OPTION` when `directory` is an existing file; `IO_ERROR` naming the
 *   path and the reason (read-only file system, permissions, a file in the way, name too long).
 */
export async function ensureDirectory(directory: string, options: EnsureDirectoryOptions = {}): Promise<void> {
  const what = options.what ?? 'the directory';
  const info = await stat(directory).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fileSystemError(error, directory, { action: 'access', what });
  });
  if (info !== undefined) {
    if (info.isDirectory()) return;
    throw new LevelskipError('INVALID_OPTION', `${what} ${directory} is a file, not a directory; choose a directory path`);
  }
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      const refusal = await ancestorRefusal(directory);
      if (refusal !== undefined) throw fileSystemError(refusal.error, refusal.path, { action: `create ${what} ${directory} in`, what: 'the directory' });
    }
    throw fileSystemError(error, directory, { action: 'create', what });
  }
}

/**
 * Checks that files can be created in `directory` (creating it if missing) by writing and removing
 * a small temporary file. Call it when a command starts, for every output directory.
 *
 * @throws LevelskipError as `ensureDirectory`, and `IO_ERROR` when a file cannot be created there.
 */
export async function assertWritableDirectory(directory: string, options: EnsureDirectoryOptions = {}): Promise<void> {
  await ensureDirectory(directory, options);
  const probe = temporaryPathFor(join(directory, 'probe'));
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
  } catch (error) {
    throw fileSystemError(error, directory, { action: 'write into', what: options.what ?? 'the directory' });
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}
