/**
 * Issue 21 items 5 and 10: temporary files are short-named (a 255-byte target works), removed on
 * failure, removed on SIGINT/SIGTERM when the cleanup is installed, and a later run removes the
 * stale ones of dead processes (and nothing else).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import {
  isTemporaryFileName,
  removeStaleTemporaryFiles,
  removeTemporaryFiles,
  temporaryPathFor,
  withTemporaryPath,
} from '../../src/node/temporary-files.js';
import { writeFileAtomic } from '../../src/node/write-file-atomic.js';
import { bundleChildScript } from '../../src/testing/faults/index.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

let root: string;
let holdScript: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-temp-'));
  holdScript = await bundleChildScript(fileURLToPath(new URL('./children/hold-temporary.ts', import.meta.url)), { outFile: join(root, 'hold-temporary.mjs') });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fresh(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** Runs the hold-temporary child until it is mid-write, sends `signal`, returns its exit and temporary path. */
async function interrupt(target: string, mode: string, signal: NodeJS.Signals): Promise<{ temporary: string; exitSignal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, [holdScript, target, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
  const temporary = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /^ready (.+)$/m.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error(`child exited before it was ready: ${out}`)));
  });
  expect((await stat(temporary)).isFile()).toBe(true);
  child.kill(signal);
  const [code, exitSignal] = await exit;
  return { temporary, exitSignal, code };
}

describe('temporary names (item 10)', () => {
  it('are short, beside the target, and recognisable', () => {
    const path = temporaryPathFor(join(root, 'x'.repeat(255)));
    expect(dirname(path)).toBe(root);
    expect(Buffer.byteLength(basename(path))).toBeLessThanOrEqual(34);
    expect(basename(path)).toMatch(/^\.levelskip-[0-9a-f]{4}-[0-9a-z]+-[0-9a-f]{8}\.tmp$/);
    expect(isTemporaryFileName(basename(path))).toBe(true);
    expect(isTemporaryFileName('model.safetensors.tmp')).toBe(false);
  });

  it('a 255-byte file name is written atomically, and a checkpoint saves into a 255-byte directory name', async () => {
    const dir = await fresh('long');
    const target = join(dir, `${'n'.repeat(251)}.png`);
    expect(Buffer.byteLength(basename(target))).toBe(255);
    await writeFileAtomic(target, 'image bytes');
    expect(await readFile(target, 'utf8')).toBe('image bytes');
    const checkpointDir = join(dir, 'c'.repeat(255));
    const spec = tinySpec();
    await saveCheckpoint(checkpointDir, { spec, weights: deterministicWeights(spec) });
    await saveCheckpoint(checkpointDir, { spec, weights: deterministicWeights(spec) });
    expect((await loadCheckpoint(checkpointDir)).spec).toEqual(spec);
  });
});

describe('temporary files are cleaned up (item 5)', () => {
  it('a failed atomic write leaves no temporary file', async () => {
    const dir = await fresh('failed');
    // A non-empty directory at the target: the final rename fails.
    await mkdir(join(dir, 'target', 'inside'), { recursive: true });
    await expect(writeFileAtomic(join(dir, 'target'), 'data')).rejects.toMatchObject({ name: 'LevelskipError', code: 'IO_ERROR' });
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('withTemporaryPath removes a temporary directory when the write throws; removeTemporaryFiles removes in-flight ones', async () => {
    const dir = await fresh('with');
    await expect(
      withTemporaryPath(join(dir, 'export'), async (temporary) => {
        await mkdir(join(temporary, 'graphs'), { recursive: true });
        throw new Error('simulated ENOSPC');
      }),
    ).rejects.toThrow('simulated ENOSPC');
    expect(await readdir(dir)).toEqual([]);
    let seen = '';
    await withTemporaryPath(join(dir, 'file'), async (temporary) => {
      await writeFile(temporary, 'x');
      seen = temporary;
      expect(removeTemporaryFiles()).toEqual([temporary]);
    });
    await expect(stat(seen)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('SIGTERM and SIGINT with installTemporaryFileCleanup: the temporary is removed and the process still dies of the signal', async () => {
    const dir = await fresh('signal');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const { temporary, exitSignal } = await interrupt(join(dir, 'image.png'), 'install', signal);
      expect(exitSignal).toBe(signal);
      await expect(stat(temporary)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('a program with its own SIGINT handler keeps it; its normal exit removes the temporary', async () => {
    const dir = await fresh('graceful');
    const { temporary, exitSignal, code } = await interrupt(join(dir, 'image.png'), 'install-graceful', 'SIGINT');
    expect([exitSignal, code]).toEqual([null, 0]);
    await expect(stat(temporary)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('without the cleanup installed, signals behave as before; the next run removes the dead process\'s temporary', async () => {
    const dir = await fresh('stale');
    const { temporary, exitSignal } = await interrupt(join(dir, 'image.png'), 'none', 'SIGTERM');
    expect(exitSignal).toBe('SIGTERM');
    expect((await stat(temporary)).isFile()).toBe(true);
    expect(await removeStaleTemporaryFiles(dir)).toEqual([temporary]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removeStaleTemporaryFiles removes dead processes\' files and directories only', async () => {
    const dir = await fresh('mixed');
    const own = basename(temporaryPathFor(join(dir, 'x')));
    const withPid = (pid: number): string => own.replace(`-${process.pid.toString(36)}-`, `-${pid.toString(36)}-`);
    const dead = withPid(deadPid());
    const live = withPid(process.ppid);
    const otherHost = `.levelskip-${own.slice(11, 15) === 'ffff' ? '0000' : 'ffff'}-${deadPid().toString(36)}-0123abcd.tmp`;
    await writeFile(join(dir, dead), 'stale');
    await mkdir(join(dir, dead.replace(/.{12}$/, '0badc0de.tmp'), 'nested'), { recursive: true });
    await writeFile(join(dir, live), 'in progress');
    await writeFile(join(dir, otherHost), 'another host');
    await writeFile(join(dir, '.model.json.tmp'), 'not ours');
    await writeFile(join(dir, 'model.json'), '{}');
    const removed = await removeStaleTemporaryFiles(dir);
    expect(removed.map((p) => basename(p)).sort()).toEqual([dead, dead.replace(/.{12}$/, '0badc0de.tmp')].sort());
    expect((await readdir(dir)).sort()).toEqual([live, otherHost, '.model.json.tmp', 'model.json'].sort());
    expect(await removeStaleTemporaryFiles(join(dir, 'missing'))).toEqual([]);
  });
});
