/**
 * The one reader for files levelskip loads (manifests, weights, images, configs). A hostile or
 * mistaken path must fail fast and cleanly, never hang or eat memory:
 *
 * - `stat` first (symlinks resolved): only regular files are read. A FIFO would block forever,
 *   `/dev/zero` or `/dev/urandom` never end, a directory gives a raw EISDIR;
 * - the size is bounded before anything is allocated;
 * - the file is opened non-blocking and `fstat`ed again, so a file swapped for a FIFO or device
 *   between the two checks is caught (and its size is the one of the file actually opened);
 * - exactly the statted number of bytes is read, in chunks, so files over 2 GiB do not hit Node's
 *   `ERR_FS_FILE_TOO_LARGE`; a file that shrinks meanwhile is reported.
 *
 * Every failure is a `LevelskipError` naming the path (never quoting the contents).
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { LevelskipError, type LevelskipErrorCode } from '../errors/levelskip-error.js';
import { fileSystemError } from './file-system-error.js';

/** Largest single read: below Node's 2 GiB per-call limit. */
const readChunkBytes = 1024 * 1024 * 1024;

export interface ReadRegularFileOptions {
  /** Largest accepted file in bytes (default: no bound beyond what memory allows). */
  readonly maxBytes?: number;
  /** What the file is, for messages: `'the checkpoint manifest'`. */
  readonly what?: string;
  /** Code for a missing file (default `IO_ERROR`); loaders pass `CHECKPOINT_MISSING`. */
  readonly missingCode?: LevelskipErrorCode;
  /** Code for a file over `maxBytes` (default `IO_ERROR`); loaders pass `CHECKPOINT_CORRUPT`. */
  readonly tooLargeCode?: LevelskipErrorCode;
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function subject(path: string, what: string | undefined): string {
  return what === undefined ? path : `${what} ${path}`;
}

/** "(a symbolic link to "/dev/zero")" when `path` is a link, so the user sees what it resolves to. */
async function linkNote(path: string): Promise<string> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return '';
    return ` (a symbolic link to ${await realpath(path)})`;
  } catch {
    return '';
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** An open regular file, checked as described at the top of this module. Close it when done. */
export interface RegularFile {
  readonly path: string;
  /** Size in bytes at open time. */
  readonly size: number;
  readonly handle: FileHandle;
  /** Reads exactly `length` bytes at `position`; a short read (the file shrank) is an error. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Opens `path` for reading after checking that it is a regular file within `maxBytes`.
 *
 * @throws LevelskipError `missingCode` (default `IO_ERROR`) when it does not exist; `IO_ERROR` when
 *   it is a directory, FIFO, device or socket, changes while being opened, or the file system fails
 *   (each errno explained); `tooLargeCode` (default `IO_ERROR`) when it exceeds `maxBytes`.
 */
export async function openRegularFile(path: string, options: ReadRegularFileOptions = {}): Promise<RegularFile> {
  const fsOptions = { action: 'read', what: options.what, missingCode: options.missingCode } as const;
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileSystemError(error, path, fsOptions);
  }
  if (!info.isFile()) {
    throw new LevelskipError(
      'IO_ERROR',
      `Cannot read ${subject(path, options.what)}: it is ${kindOf(info)}${await linkNote(path)}, not a regular file; pass the path of a regular file`,
    );
  }
  checkSize(path, info.size, options);
  let handle: FileHandle;
  try {
    // Non-blocking: if the path was swapped for a FIFO since the stat, open must not wait for a writer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fileSystemError(error, path, fsOptions);
  }
  try {
    // What was opened is what counts: a file replaced by another regular file in between is fine
    // (an atomic overwrite), one replaced by a FIFO or device is not.
    const opened = await handle.stat();
    if (!opened.isFile()) {
      throw new LevelskipError('IO_ERROR', `Cannot read ${subject(path, options.what)}: it was replaced by ${kindOf(opened)} while being opened, not a regular file`);
    }
    checkSize(path, opened.size, options);
    return regularFile(path, opened.size, handle, options);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw fileSystemError(error, path, fsOptions);
  }
}

function checkSize(path: string, size: number, options: ReadRegularFileOptions): void {
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    throw new LevelskipError(
      options.tooLargeCode ?? 'IO_ERROR',
      `Cannot read ${subject(path, options.what)}: it has ${formatBytes(size)}, more than the ${formatBytes(options.maxBytes)} allowed; is it the right file?`,
    );
  }
}

function regularFile(path: string, size: number, handle: FileHandle, options: ReadRegularFileOptions): RegularFile {
  const read = async (position: number, length: number): Promise<Uint8Array> => {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(length);
    } catch (error) {
      throw new LevelskipError('IO_ERROR', `Cannot read ${subject(path, options.what)}: ${formatBytes(length)} do not fit in memory`, { cause: error });
    }
    let offset = 0;
    while (offset < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(bytes, offset, Math.min(readChunkBytes, length - offset), position + offset));
      } catch (error) {
        throw fileSystemError(error, path, { action: 'read', what: options.what });
      }
      if (bytesRead === 0) {
        throw new LevelskipError(
          'IO_ERROR',
          `Cannot read ${subject(path, options.what)}: it ended at byte ${position + offset}, before the ${position + length} expected; is another process writing it?`,
        );
      }
      offset += bytesRead;
    }
    return bytes;
  };
  return { path, size, handle, read, close: () => handle.close().catch(() => undefined) };
}

/**
 * Reads a whole regular file, bounded by `maxBytes`; see `openRegularFile` for the checks.
 *
 * @throws LevelskipError as `openRegularFile`, and `IO_ERROR` if the file shrinks while being read.
 */
export async function readRegularFile(path: string, options: ReadRegularFileOptions = {}): Promise<Uint8Array> {
  const file = await openRegularFile(path, options);
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}
