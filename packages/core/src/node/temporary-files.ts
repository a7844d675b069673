/**
 * Temporary files and directories of levelskip's atomic writers (checkpoints, exports, images).
 *
 * Naming: a temporary sits beside its target, named
 *
 *   .levelskip-<host>-<pid>-<random>.tmp
 *
 * where `<host>` is 4 hex digits of a hash of the host name, `<pid>` the writer's process id in
 * base 36 and `<random>` 8 hex digits: at most 34 bytes (for any pid below 36^5), whatever the
 * target's name, so a target whose name has the full 255 bytes is still writable. The pid in the name lets a later run tell
 * a leftover of a dead process (removable) from a write in progress (left alone).
 *
 * Every temporary this process creates is registered until it is renamed into place or removed,
 * so `removeTemporaryFiles()` can clean up synchronously when the process is told to stop
 * (`installTemporaryFileCleanup()`).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileSystemError } from './file-system-error.js';

const prefix = '.levelskip-';
const suffix = '.tmp';
const namePattern = /^\.levelskip-([0-9a-f]{4})-([0-9a-z]{1,11})-[0-9a-f]{8}\.tmp$/;

/** 4 hex digits of FNV-1a over the host name: tells this host's temporaries from another's on a shared disk. */
function hostTag(): string {
  let hash = 0x811c9dc5;
  for (const char of hostname()) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return ((hash ^ (hash >>> 16)) & 0xffff).toString(16).padStart(4, '0');
}

const inFlight = new Set<string>();

/** True when `name` (a base name) follows levelskip's temporary naming. */
export function isTemporaryFileName(name: string): boolean {
  return namePattern.test(name);
}

/** A fresh temporary path in `target`'s directory (not registered; see `withTemporaryPath`). */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `${prefix}${hostTag()}-${process.pid.toString(36)}-${randomBytes(4).toString('hex')}${suffix}`);
}

/**
 * Runs `write` with a fresh temporary path beside `target`, registered for the signal cleanup
 * while `write` runs. `write` creates the file or directory at that path and, normally, renames it
 * onto `target`. If `write` throws, whatever is left at the temporary path is removed (recursively)
 * before the error propagates.
 *
 * @example
 * await withTemporaryPath(outDir, async (temporary) => {
 *   await mkdir(temporary);
 *   await writeGraphs(temporary);
 *   await rename(temporary, outDir);
 * });
 */
export async function withTemporaryPath<T>(target: string, write: (temporaryPath: string) => Promise<T>): Promise<T> {
  const temporary = temporaryPathFor(target);
  inFlight.add(temporary);
  try {
    return await write(temporary);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  } finally {
    inFlight.delete(temporary);
  }
}

/**
 * Synchronously removes every temporary file or directory this process is writing right now
 * (best effort; errors are ignored). For signal and exit handlers; `installTemporaryFileCleanup`
 * calls it. Returns the paths removed.
 */
export function removeTemporaryFiles(): string[] {
  const removed: string[] = [];
  for (const path of inFlight) {
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Best effort: the next run's removeStaleTemporaryFiles() finds it.
    }
  }
  inFlight.clear();
  return removed;
}

/** Whether process `pid` exists on this host (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(name: string, directory: string): boolean {
  const match = namePattern.exec(name);
  if (match === null || match[1] !== hostTag()) return false;
  const pid = Number.parseInt(match[2] ?? '', 36);
  if (pid === process.pid) return !inFlight.has(join(directory, name));
  return !isProcessAlive(pid);
}

/** The entries of `directory` (listed as `names`) that are stale temporaries, as paths. */
function stalePaths(directory: string, names: readonly string[]): string[] {
  return names.filter((name) => name.startsWith(prefix) && isStale(name, directory)).map((name) => join(directory, name));
}

/**
 * Removes the leftovers of interrupted writes in `directory`: files and directories named like
 * levelskip's temporaries (see the top of this module) that were made on this host by a process
 * that no longer exists (or by this process, but are not in flight). Another live process's
 * temporaries, and other hosts', are left alone. A missing directory is not an error.
 * Returns the paths removed.
 *
 * @throws LevelskipError `IO_ERROR` when the directory cannot be listed or an entry not removed.
 */
export async function removeStaleTemporaryFiles(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fileSystemError(error, directory, { action: 'list', what: 'the directory' });
  }
  const removed: string[] = [];
  for (const path of stalePaths(directory, names)) {
    await rm(path, { recursive: true, force: true }).catch((error: unknown) => {
      throw fileSystemError(error, path, { action: 'remove', what: 'the stale temporary file' });
    });
    removed.push(path);
  }
  return removed;
}

const cleanupSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed: (() => void) | undefined;

/**
 * Opt-in: removes this process's in-flight temporaries when it exits or is stopped by SIGINT,
 * SIGTERM or SIGHUP. Nothing changes about signal handling unless this is called.
 *
 * On a signal, if no other listener handles it, the temporaries are removed and the signal is
 * re-raised with its default action (the process ends as it would have without this hook). If the
 * program has its own listener (say, a graceful stop that finishes a checkpoint), this hook stays
 * out of its way: writes may still be running, so it removes nothing then, and the `exit` hook
 * cleans up once the program exits. Calling it again is a no-op. Returns a function that uninstalls
 * the hooks.
 */
export function installTemporaryFileCleanup(): () => void {
  if (installed !== undefined) return installed;
  const onExit = (): void => {
    removeTemporaryFiles();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    removeTemporaryFiles();
    uninstall();
    process.kill(process.pid, signal);
  };
  const uninstall = (): void => {
    process.off('exit', onExit);
    for (const signal of cleanupSignals) process.off(signal, onSignal);
    installed = undefined;
  };
  process.on('exit', onExit);
  for (const signal of cleanupSignals) process.on(signal, onSignal);
  installed = uninstall;
  return uninstall;
}
