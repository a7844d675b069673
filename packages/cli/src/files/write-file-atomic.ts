/**
 * Atomic file writes: the data goes to a temporary file in the target's directory, is fsynced, and
 * is renamed over the target, so a reader sees either the old file or the whole new one, never a
 * partial write. The parent directory is created when missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LevelskipError } from '@levelskip/core';

/**
 * Writes `data` to `path` atomically (temporary file + fsync + rename), creating the parent directory.
 *
 * @throws LevelskipError `IO_ERROR` naming the path when the file system fails; no temporary file is left.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const directory = dirname(path);
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw ioError(`Could not create the directory ${directory}`, error);
  }
  const temporary = join(directory, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw ioError(`Could not write ${path}`, error);
  }
}

function ioError(what: string, error: unknown): LevelskipError {
  if (LevelskipError.is(error)) return error;
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new LevelskipError('IO_ERROR', `${what} (${reason}); check the path, its permissions and free disk space`, { cause: error });
}
