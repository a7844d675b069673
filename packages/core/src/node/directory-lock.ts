/**
 * An exclusive lock on a directory, so two runs writing the same checkpoint or output directory
 * cannot both succeed while one result is silently lost.
 *
 * The lock is a file (`.levelskip.lock` by default) created exclusively (a hard link from a
 * complete temporary file, which fails like O_EXCL when the lock exists; O_EXCL itself where
 * hard links are not supported), holding the holder's pid, host name, start time and purpose as
 * JSON. A second acquirer fails at once with an error that
 * names the holder. A lock left by a process that died (same host, pid gone) is reclaimed. A lock
 * from another host cannot be checked and is never reclaimed automatically.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LevelskipError } from '../errors/levelskip-error.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { isProcessAlive, temporaryPathFor, withTemporaryPath } from './temporary-files.js';
import { ensureDirectory } from './writable-directory.js';

/** Default name of the lock file inside the locked directory. */
export const directoryLockFileName = '.levelskip.lock';

/** Contents of a lock file. */
export interface DirectoryLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** ISO 8601 time the lock was taken. */
  readonly startedAt: string;
  /** What the holder is doing (`'train'`, `'export'`, ...). */
  readonly purpose: string;
  /** Random token, so a holder only ever removes its own lock. */
  readonly token: string;
}

export interface DirectoryLockOptions {
  /** What the lock is for, shown to a second acquirer (`'train --checkpoint-dir'`). Default `'levelskip'`. */
  readonly purpose?: string;
  /** Lock file name inside the directory (default `.levelskip.lock`). */
  readonly fileName?: string;
}

/** A held lock. Release it when done (`await using` releases it automatically). */
export interface DirectoryLock {
  /** Path of the lock file. */
  readonly path: string;
  readonly holder: DirectoryLockHolder;
  /** Removes the lock file if it is still this holder's. Safe to call twice. */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// A lock file younger than this with unreadable contents is probably being written right now.
const unreadableGraceMs = 5_000;
const maxLockFileBytes = 64 * 1024;

const heldLocks = new Map<string, string>();
let exitHookInstalled = false;

/** Locks still held when the process exits normally are removed, so the next run need not reclaim them. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of heldLocks.keys()) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already, or not removable: the next run reclaims it (the pid is dead by then).
      }
    }
    heldLocks.clear();
  });
}

type ReadHolder = { kind: 'holder'; holder: DirectoryLockHolder } | { kind: 'unreadable'; ageMs: number } | { kind: 'missing' };

async function readHolder(path: string): Promise<ReadHolder> {
  let text: string;
  let ageMs: number;
  try {
    const info = await stat(path);
    ageMs = Date.now() - info.mtimeMs;
    if (!info.isFile() || info.size > maxLockFileBytes) return { kind: 'unreadable', ageMs: Number.POSITIVE_INFINITY };
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'missing' };
    throw fileSystemError(error, path, { action: 'read', what: 'the lock file' });
  }
  try {
    const raw = JSON.parse(text) as Partial<DirectoryLockHolder>;
    if (typeof raw.pid === 'number' && typeof raw.hostname === 'string') {
      return {
        kind: 'holder',
        holder: {
          pid: raw.pid,
          hostname: raw.hostname,
          startedAt: typeof raw.startedAt === 'string' ? raw.startedAt : 'an unknown time',
          purpose: typeof raw.purpose === 'string' ? raw.purpose : 'an unknown purpose',
          token: typeof raw.token === 'string' ? raw.token : '',
        },
      };
    }
  } catch {
    // Unreadable: judged by its age below.
  }
  return { kind: 'unreadable', ageMs };
}

/**
 * Creates the lock file with its contents in one step: the contents go to a temporary file that is
 * then hard-linked to the lock's name (link fails with EEXIST like an O_EXCL open, and a reader
 * never sees an empty lock, even when the creator is killed). Where hard links are not supported,
 * falls back to `open(path, 'wx')` and a write.
 */
async function tryCreate(path: string, holder: DirectoryLockHolder): Promise<boolean> {
  const text = `${JSON.stringify(holder, null, 2)}\n`;
  let linked: boolean | undefined;
  await withTemporaryPath(path, async (temporary) => {
    try {
      await writeSynced(temporary, text);
      await link(temporary, path);
      linked = true;
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') linked = false;
      else if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'].includes(errnoCode(error) ?? '')) {
        throw fileSystemError(error, path, { action: 'create', what: 'the lock file' });
      }
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  });
  if (linked !== undefined) return linked;
  try {
    await writeSynced(path, text);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw fileSystemError(error, path, { action: 'create', what: 'the lock file' });
  }
}

/** Creates `path` exclusively (O_EXCL) with `text`, fsynced; removes it again if writing fails. */
async function writeSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

/**
 * Removes a stale lock, but only the one that was judged stale: it is first renamed aside
 * (atomic), and put back if it turns out another process had replaced it in the meantime.
 */
async function reclaim(path: string, stale: ReadHolder): Promise<void> {
  const aside = temporaryPathFor(path);
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw fileSystemError(error, path, { action: 'reclaim', what: 'the stale lock file' });
  }
  const moved = await readHolder(aside);
  const same =
    stale.kind === 'holder'
      ? moved.kind === 'holder' && moved.holder.pid === stale.holder.pid && moved.holder.token === stale.holder.token
      : moved.kind === 'unreadable';
  if (!same) {
    // Someone else reclaimed it first and we moved their live lock: put it back unless yet another
    // lock appeared (then that one stands and the moved holder finds its lock gone on release).
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function heldError(path: string, holder: DirectoryLockHolder, directory: string): LevelskipError {
  const where = holder.hostname === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.hostname}`;
  return new LevelskipError(
    'IO_ERROR',
    `${directory} is locked by ${where} (${holder.purpose}, since ${holder.startedAt}); lock file ${path}. ` +
      `Wait for that run to finish or stop it, or use another directory. If no such process is running any more, delete ${path}.`,
  );
}

/**
 * Takes the exclusive lock on `directory` (created if missing). Fails at once if another live
 * process holds it; reclaims a lock whose process died on this host.
 *
 * @throws LevelskipError `IO_ERROR` naming the holder (pid, host, start time, purpose) and the lock
 *   file when the directory is locked, or when the file system fails.
 *
 * @example
 * const lock = await acquireDirectoryLock(outDir, { purpose: 'train --out' });
 * try { await train(...); } finally { await lock.release(); }
 */
export async function acquireDirectoryLock(directory: string, options: DirectoryLockOptions = {}): Promise<DirectoryLock> {
  await ensureDirectory(directory);
  const path = join(directory, options.fileName ?? directoryLockFileName);
  const holder: DirectoryLockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    purpose: options.purpose ?? 'levelskip',
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; ; attempt += 1) {
    if (await tryCreate(path, holder)) break;
    const existing = await readHolder(path);
    if (existing.kind === 'missing') continue;
    const stale =
      existing.kind === 'holder'
        ? existing.holder.hostname === hostname() && !isProcessAlive(existing.holder.pid)
        : existing.ageMs > unreadableGraceMs;
    if (!stale) {
      if (existing.kind === 'holder') throw heldError(path, existing.holder, directory);
      if (attempt < 20) {
        // Being written by another acquirer right now: its contents appear within milliseconds.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      throw new LevelskipError('IO_ERROR', `${directory} is locked: lock file ${path} exists but names no holder; if no other levelskip run uses the directory, delete it`);
    }
    if (attempt >= 20) throw new LevelskipError('IO_ERROR', `Could not take the lock ${path}: other processes keep replacing it; try again`);
    await reclaim(path, existing);
  }
  heldLocks.set(path, holder.token);
  installExitHook();
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    heldLocks.delete(path);
    const current = await readHolder(path);
    if (current.kind === 'holder' && current.holder.token === holder.token) {
      await unlink(path).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw fileSystemError(error, path, { action: 'remove', what: 'the lock file' });
      });
    }
  };
  return { path, holder, release, [Symbol.asyncDispose]: release };
}
