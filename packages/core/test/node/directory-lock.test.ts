/**
 * Issue 21 item 4: two runs on one directory must not both succeed. The lock is a file created
 * with O_EXCL naming its holder; a second acquirer fails at once naming it; a lock whose process
 * died is reclaimed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDirectoryLock, directoryLockFileName } from '../../src/node/directory-lock.js';

let root: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-lock-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** The pid of a process that has exited (and was reaped), so it no longer exists. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  return result.pid!;
}

function writeLock(dir: string, holder: Record<string, unknown>): Promise<void> {
  return writeFile(join(dir, directoryLockFileName), JSON.stringify(holder));
}

describe('acquireDirectoryLock', () => {
  it('a second acquirer fails at once, naming the holder (pid, start time, purpose) and the lock file', async () => {
    const lock = await acquireDirectoryLock(root, { purpose: 'train --out' });
    const holder = JSON.parse(await readFile(lock.path, 'utf8')) as Record<string, unknown>;
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname(), purpose: 'train --out' });
    const error = await acquireDirectoryLock(root, { purpose: 'train --out' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LevelskipError', code: 'IO_ERROR' });
    const message = (error as Error).message;
    expect(message).toContain(`process ${process.pid}`);
    expect(message).toContain('train --out');
    expect(message).toContain(String(holder.startedAt));
    expect(message).toContain(lock.path);
    await lock.release();
    expect(await readdir(root)).toEqual([]);
    const again = await acquireDirectoryLock(root);
    await again[Symbol.asyncDispose]();
    expect(await readdir(root)).toEqual([]);
  });

  it('of eight concurrent acquirers exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireDirectoryLock(root, { purpose: 'race' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });

  it('a live holder in another process blocks; once it is dead its lock is reclaimed', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(child);
    await writeLock(root, { pid: child.pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', purpose: 'export', token: 'x' });
    await expect(acquireDirectoryLock(root)).rejects.toThrow(new RegExp(`locked by process ${child.pid} \\(export, since 2026-01-01T00:00:00.000Z\\)`));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const lock = await acquireDirectoryLock(root, { purpose: 'after' });
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'after' });
    await lock.release();
  });

  it('a lock left by a dead process is reclaimed; one from another host is not', async () => {
    const pid = deadPid();
    await writeLock(root, { pid, hostname: hostname(), startedAt: 'then', purpose: 'train', token: 'x' });
    const lock = await acquireDirectoryLock(root);
    await lock.release();
    await writeLock(root, { pid, hostname: 'other-host.example', startedAt: 'then', purpose: 'train', token: 'x' });
    await expect(acquireDirectoryLock(root)).rejects.toThrow(/process \d+ on host other-host\.example .*delete .*\.levelskip\.lock/s);
  });

  it('an empty lock file (its writer died while creating it) is reclaimed once it is old', async () => {
    const path = join(root, directoryLockFileName);
    await writeFile(path, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await acquireDirectoryLock(root);
    await lock.release();
  });

  it('creates the directory; a file in the way is a clean error', async () => {
    const lock = await acquireDirectoryLock(join(root, 'a', 'b'));
    await lock.release();
    await writeFile(join(root, 'file'), '');
    await expect(acquireDirectoryLock(join(root, 'file'))).rejects.toMatchObject({ name: 'LevelskipError' });
  });
});
