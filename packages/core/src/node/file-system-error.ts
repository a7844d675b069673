/**
 * The one place where Node file-system failures become `LevelskipError`s. Every file levelskip
 * reads or writes goes through `fileSystemError`, so a user never sees a raw `EISDIR`, and a
 * read-only file system is reported as such (not as a missing file).
 *
 * Messages name the path and the operation, never the file's contents.
 */
import { LevelskipError, type LevelskipErrorCode } from '../errors/levelskip-error.js';

/** What an errno means to a user, and what to do about it. */
const errnoExplanations: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  EISDIR: 'it is a directory, where a file was expected',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'the path runs into a loop of symbolic links',
  ENAMETOOLONG: 'the path is too long (a file name may have at most 255 bytes, a path 4096)',
  EACCES: 'permission denied; check the file and directory permissions',
  EPERM: 'operation not permitted; check the file and directory permissions',
  EROFS: 'the file system is read-only (EROFS); choose a writable location',
  ENOSPC: 'no space left on the device; free disk space and try again',
  EDQUOT: 'the disk quota is exhausted; free space and try again',
  EFBIG: 'the file is too large for this file system',
  EMFILE: 'this process has too many open files; close some or raise the limit (ulimit -n)',
  ENFILE: 'the system has too many open files; try again later',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the directory is not empty',
  EBUSY: 'the file or device is busy',
  ETXTBSY: 'the file is busy (an executable being run)',
  EXDEV: 'source and target are on different file systems',
  EIO: 'the device reported an input/output error',
  ENXIO: 'no such device or address (a FIFO or socket without a peer, or a device that is gone)',
  ENODEV: 'no such device',
  EAGAIN: 'the file is not ready (a FIFO or device with nothing to read)',
  EINVAL: 'the operation is not valid for this kind of file',
  ESTALE: 'the network file handle went stale; try again',
  ERR_FS_FILE_TOO_LARGE: 'the file is larger than 2 GiB, the most Node reads into one buffer',
};

/** The `code` property of a Node error (`'ENOENT'`, `'ERR_FS_FILE_TOO_LARGE'`, ...), if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export interface FileSystemErrorOptions {
  /** What was being done, for the message: `'read'`, `'write'`, `'create directory'`, ... (default `'access'`). */
  readonly action?: string;
  /** What the file is, for the message: `'the checkpoint manifest'`, `'an image'`, ... */
  readonly what?: string;
  /** Code for a missing file (ENOENT); default `IO_ERROR`. Loaders pass `CHECKPOINT_MISSING`. */
  readonly missingCode?: LevelskipErrorCode;
}

/**
 * Turns any error from a file-system call on `path` into a `LevelskipError` with a code, the path
 * and the errno explained (`CHECKPOINT_MISSING`-or-`missingCode` for ENOENT, `IO_ERROR` for
 * everything else). A `LevelskipError` passes through unchanged. Use it in every `catch` around
 * `node:fs`:
 *
 * @example
 * await mkdir(dir).catch((error) => { throw fileSystemError(error, dir, { action: 'create directory' }); });
 */
export function fileSystemError(error: unknown, path: string, options: FileSystemErrorOptions = {}): LevelskipError {
  if (LevelskipError.is(error)) return error;
  const code = errnoCode(error);
  const action = options.action ?? 'access';
  const subject = options.what === undefined ? path : `${options.what} ${path}`;
  const explanation =
    code === undefined
      ? // Not an errno: a RangeError or similar. Node's own messages name paths, never file contents.
        `: ${error instanceof Error ? error.message : String(error)}`
      : ` (${code}): ${errnoExplanations[code] ?? 'the file system refused'}`;
  const levelskipCode: LevelskipErrorCode = code === 'ENOENT' ? (options.missingCode ?? 'IO_ERROR') : 'IO_ERROR';
  return new LevelskipError(levelskipCode, `Could not ${action} ${subject}${explanation}`, { cause: error });
}
