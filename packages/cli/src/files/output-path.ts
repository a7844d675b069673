/**
 * Writability checks of `--out` when a command starts, so that a path that cannot be written
 * fails in a second with a clear error, not after minutes of sampling or training: the target
 * must be (or become) a regular file, resp. a directory, and a file must be creatable where it
 * will go. Nothing is created: the probe file goes into the nearest directory that exists and is
 * removed at once.
 *
 * Every failure is a `LevelskipError` naming the flag, the path and the reason (core's
 * `fileSystemError`: EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES, EROFS, ...); never a raw
 * Node error.
 */
import type { Stats } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LevelskipError, errnoCode, fileSystemError, withTemporaryPath } from '@levelskip/core';

async function statIfExists(path: string, flag: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fileSystemError(error, path, { action: 'write', what: flag });
  }
}

function kindOf(info: Stats): string {
  if (info.isFile()) return 'a file';
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Creates and removes a probe file in `directory` (which exists); errors name `target`. */
async function probeWritable(directory: string, target: string, flag: string): Promise<void> {
  try {
    await withTemporaryPath(resolve(directory, 'probe'), async (temporary) => {
      const handle = await open(temporary, 'wx');
      await handle.close();
      await rm(temporary, { force: true });
    });
  } catch (error) {
    const reason = fileSystemError(error, directory, { action: 'create files in', what: 'the directory' });
    throw new LevelskipError(reason.code, `${flag} ${target} cannot be written: ${reason.message}`, { cause: error });
  }
}

/** The nearest existing ancestor of `path` (which does not exist); it must be a directory. */
async function nearestExistingDirectory(path: string, target: string, flag: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    const parent = dirname(current);
    const info = await statIfExists(parent, flag);
    if (info !== undefined) {
      if (!info.isDirectory()) {
        throw new LevelskipError('IO_ERROR', `${flag} ${target} cannot be written (ENOTDIR): ${parent} is ${kindOf(info)}, not a directory`);
      }
      return parent;
    }
    if (parent === current) return parent;
    current = parent;
  }
}

/**
 * Checks that `path` can be written as a file: it is a regular file or does not exist yet, and a
 * file can be created in its directory (or the nearest existing ancestor, since writers create
 * missing directories).
 *
 * @throws LevelskipError `IO_ERROR` naming `flag`, the path and the reason.
 */
export async function checkOutputFile(flag: string, path: string): Promise<void> {
  const info = await statIfExists(path, flag);
  if (info !== undefined && !info.isFile()) {
    const hint = info.isDirectory() ? `; give a file path inside it, e.g. ${resolve(path, 'samples.png')}` : '';
    throw new LevelskipError('IO_ERROR', `${flag} ${path} cannot be written (${info.isDirectory() ? 'EISDIR' : 'not a regular file'}): it is ${kindOf(info)}${hint}`);
  }
  const directory = dirname(resolve(path));
  const parent = await statIfExists(directory, flag);
  if (parent !== undefined && !parent.isDirectory()) {
    throw new LevelskipError('IO_ERROR', `${flag} ${path} cannot be written (ENOTDIR): ${directory} is ${kindOf(parent)}, not a directory`);
  }
  await probeWritable(parent === undefined ? await nearestExistingDirectory(directory, path, flag) : directory, path, flag);
}

/**
 * Checks that `path` can be used as an output directory: it is a directory or does not exist yet,
 * and files can be created in it (or in the nearest existing ancestor).
 *
 * @throws LevelskipError `IO_ERROR` naming `flag`, the path and the reason.
 */
export async function checkOutputDirectory(flag: string, path: string): Promise<void> {
  const info = await statIfExists(path, flag);
  if (info !== undefined && !info.isDirectory()) {
    throw new LevelskipError('IO_ERROR', `${flag} ${path} cannot be used as a directory (ENOTDIR): it is ${kindOf(info)}; give a directory path`);
  }
  await probeWritable(info !== undefined ? path : await nearestExistingDirectory(path, path, flag), path, flag);
}
