/**
 * Atomic file writes for everything levelskip saves (checkpoints, images): the data goes to a
 * temporary file beside the target, is fsynced, and is renamed over it, so a reader sees the old
 * file or the whole new one, never a partial write, and a failure leaves no temporary file.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { LevelskipError } from '../errors/levelskip-error.js';

/**
 * Writes `data` to `path` via a temporary file in the same directory and an atomic rename. The
 * directory must exist.
 *
 * @throws LevelskipError `IO_ERROR` naming the path when the file system fails.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
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
    if (LevelskipError.is(error)) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new LevelskipError('IO_ERROR', `Could not write ${path} (${reason}); check the directory's permissions and free disk space`, {
      cause: error,
    });
  }
}
