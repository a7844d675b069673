/**
 * Atomic file writes for the CLI's outputs: core's `writeFileAtomic` (temporary file beside the
 * target, fsync, rename; no partial file is ever visible, even if the process is killed), after
 * creating the parent directory and removing what killed runs left there.
 */
import { dirname } from 'node:path';
import { ensureDirectory, removeStaleTemporaryFiles, writeFileAtomic as writeFileAtomicInDirectory } from '@levelskip/core';

/**
 * Writes `data` to `path` atomically, creating the parent directory. Temporary files that killed
 * runs left in that directory (levelskip's naming, dead process) are removed first.
 *
 * @throws LevelskipError `IO_ERROR` naming the path and the reason (EISDIR, ENOTDIR, EROFS, ...)
 *   when the file system fails; no temporary file is left.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const directory = dirname(path);
  await ensureDirectory(directory);
  await removeStaleTemporaryFiles(directory);
  await writeFileAtomicInDirectory(path, data);
}
