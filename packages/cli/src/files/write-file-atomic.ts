/**
 * Atomic file writes for the CLI's outputs: core's `writeFileAtomic` (temporary file beside the
 * target, fsync, rename; no partial file is ever visible), after creating the parent directory.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LevelskipError, writeFileAtomic as writeFileAtomicInDirectory } from '@levelskip/core';

/**
 * Writes `data` to `path` atomically, creating the parent directory.
 *
 * @throws LevelskipError `IO_ERROR` naming the path when the file system fails; no temporary file is left.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const directory = dirname(path);
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new LevelskipError('IO_ERROR', `Could not create the directory ${directory} (${reason}); check the path, its permissions and free disk space`, {
      cause: error,
    });
  }
  await writeFileAtomicInDirectory(path, data);
}
