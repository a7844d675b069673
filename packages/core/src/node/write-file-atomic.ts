/**
 * Atomic file writes for everything levelskip saves (checkpoints, images, exports): the data goes
 * to a temporary file beside the target (short name, see `temporary-files.ts`), is fsynced, and is
 * renamed over it, so a reader sees the old file or the whole new one, never a partial write, and a
 * failure leaves no temporary file.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LevelskipError } from '../errors/levelskip-error.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { withTemporaryPath } from './temporary-files.js';

/**
 * Best effort: makes renames in `directory` durable. Directories cannot be opened for fsync on
 * every platform (Windows), so failures are ignored; the files themselves are fsynced already.
 */
export async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Only the durability of the rename is at stake, not its atomicity.
  }
}

/**
 * Creates `path` (it must not exist: `wx`), writes `data` and fsyncs it before closing. The
 * building block of atomic writes: a file written so under a temporary name, then renamed, is whole
 * on disk before its name appears. Errors are the file system's own.
 */
export async function writeNewFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WriteFileAtomicOptions {
  /** Also fsync the directory after the rename, so the new file survives a power loss (default true). */
  readonly syncDirectory?: boolean;
}

/**
 * Writes `data` to `path` via a temporary file in the same directory
 * (`.levelskip-<host>-<pid>-<random>.tmp`, at most 34 bytes, so any valid target name works) and an
 * atomic rename. The directory must exist. The temporary is removed on failure and registered for
 * `removeTemporaryFiles()` / `installTemporaryFileCleanup()` while the write runs.
 *
 * @throws LevelskipError `IO_ERROR` naming the path and the reason (read-only file system, full
 *   disk, missing directory, permissions, name too long).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteFileAtomicOptions = {}): Promise<void> {
  try {
    await withTemporaryPath(path, async (temporary) => {
      await writeNewFileSynced(temporary, data);
      await rename(temporary, path);
    });
  } catch (error) {
    if (LevelskipError.is(error)) throw error;
    if (errnoCode(error) === 'ENOENT') {
      throw new LevelskipError('IO_ERROR', `Could not write ${path} (ENOENT): its directory ${dirname(path)} does not exist; create it first`, {
        cause: error,
      });
    }
    throw fileSystemError(error, path, { action: 'write' });
  }
  if (options.syncDirectory !== false) await syncDirectory(dirname(path));
}
