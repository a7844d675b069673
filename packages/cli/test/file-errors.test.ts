/**
 * File-system failures of the CLI (issue 21, items 9 and 10): a bad `--out` is found when the
 * command starts, before the model is even read; hostile `--spec` files (a directory, /dev/zero,
 * a FIFO, a huge file, a symlink to /etc/passwd) fail at once; every failure is one line naming
 * the path and the reason, never a stack trace or a file's contents; PNG names of up to 255 bytes
 * work.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-files-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const tinySpecPath = join(directory, 'tiny.json');
writeFileSync(tinySpecPath, JSON.stringify({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }));
const tiny = ['--spec', tinySpecPath, '--random-weights'];
/** A sample run that fails at step 1 if it ever gets there: the --out check must come first. */
const missingModel = ['--checkpoint', join(directory, 'no-such-checkpoint')];

const aFile = join(directory, 'a-file');
writeFileSync(aFile, 'x');
const pngDirectory = join(directory, 'grid.png');
mkdirSync(pngDirectory);
const loop = join(directory, 'loop.png');
symlinkSync(loop, loop);

function canMountReadOnly(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'levelskip-ro-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** /sys refuses new files even to root (EACCES) on Linux. */
const sysWritable = (() => {
  try {
    writeFileSync('/sys/levelskip-probe.png', 'x');
    rmSync('/sys/levelskip-probe.png');
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EACCES';
  }
})();

describe('sample --out is checked when the command starts', () => {
  const cases: [string, string, RegExp][] = [
    ['a directory (EISDIR)', pngDirectory, /--out .*grid\.png cannot be written \(EISDIR\): it is a directory; give a file path inside it/],
    ['under a file (ENOTDIR)', join(aFile, 'x.png'), /--out .*a-file\/x\.png \(ENOTDIR\): a part of the path is not a directory/],
    ['deeper under a file (ENOTDIR)', join(aFile, 'sub', 'x.png'), /ENOTDIR/],
    ['a symlink loop (ELOOP)', loop, /loop\.png \(ELOOP\): the path runs into a loop of symbolic links/],
    ['a name of 300 bytes (ENAMETOOLONG)', join(directory, `${'n'.repeat(296)}.png`), /\(ENAMETOOLONG\): the path is too long/],
  ];
  for (const [name, out, message] of cases) {
    it(`${name}: one line naming the path, before the model is read`, async () => {
      const run = await runInProcess(['sample', ...missingModel, '--out', out, '--no-progress']);
      expectCleanFailure(run, message);
      expect(run.stderr).toContain(out.length > 200 ? 'nnnnnnnn' : out);
    });
  }

  it.skipIf(process.platform !== 'linux' || sysWritable)('a directory that refuses new files (EACCES)', async () => {
    expectCleanFailure(await runInProcess(['sample', ...missingModel, '--out', '/sys/levelskip/x.png', '--no-progress']), /\/sys.*\(EACCES\): permission denied/);
    expectCleanFailure(await runInProcess(['export', ...missingModel, '--out', '/sys/levelskip-onnx']), /--out \/sys\/levelskip-onnx cannot be written: .*\(EACCES\)/);
  });

  it.runIf(canMountReadOnly())('a read-only file system (EROFS), for sample, demo and export', async () => {
    const readOnly = join(directory, 'read-only');
    mkdirSync(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', readOnly]);
    try {
      expectCleanFailure(await runInProcess(['sample', ...missingModel, '--out', join(readOnly, 'x.png'), '--no-progress']), /\(EROFS\): the file system is read-only/);
      expectCleanFailure(await runInProcess(['demo', '--out', join(readOnly, 'sub', 'demo.png'), '--no-progress']), /\(EROFS\)/);
      expectCleanFailure(await runInProcess(['export', ...missingModel, '--out', join(readOnly, 'onnx')]), /\(EROFS\)/);
    } finally {
      execFileSync('umount', [readOnly]);
    }
  });

  it('export --out that is a file (ENOTDIR)', async () => {
    expectCleanFailure(await runInProcess(['export', ...missingModel, '--out', aFile]), /--out .*a-file cannot be used as a directory \(ENOTDIR\): it is a file/);
  });

  it('a writable --out creates nothing before the run, and the run then writes it', async () => {
    const out = join(directory, 'new', 'deeper', 'x.png');
    expectCleanFailure(await runInProcess(['sample', ...missingModel, '--out', out, '--no-progress']), /No checkpoint at/);
    expect(existsSync(join(directory, 'new'))).toBe(false);
    const run = await runInProcess(['sample', ...tiny, '--steps', '1', '--batch', '2', '--out', out, '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(pngjs.PNG.sync.read(readFileSync(out)).width).toBeGreaterThan(0);
  });
});

describe('PNG names of 234 to 255 bytes', () => {
  for (const length of [234, 250, 255]) {
    it(`writes ${length} bytes, leaving no temporary file`, async () => {
      const dir = join(directory, `long-${length}`);
      const name = `${'é'.repeat(Math.floor((length - 4) / 2))}${'x'.repeat((length - 4) % 2)}.png`;
      expect(Buffer.byteLength(name)).toBe(length);
      const run = await runInProcess(['sample', ...tiny, '--steps', '1', '--batch', '1', '--out', join(dir, name), '--no-progress']);
      expect(run.code, run.stderr).toBe(0);
      expect(readdirSync(dir)).toEqual([name]);
    });
  }
});

describe('hostile --spec files', () => {
  const huge = join(directory, 'huge.json');
  writeFileSync(huge, `{"imageSize": 8, "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`);
  const passwd = join(directory, 'passwd.json');
  symlinkSync('/etc/passwd', passwd);
  const deep = join(directory, 'deep.json');
  writeFileSync(deep, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  const cases: [string, string, RegExp][] = [
    ['a directory', directory, /Cannot read the --spec file .*: it is a directory, not a regular file/],
    ['/dev/zero', '/dev/zero', /Cannot read the --spec file \/dev\/zero: it is a character device, not a regular file/],
    ['a 2 MiB file', huge, /it has 2\.0 MiB, more than the 1\.0 MiB allowed/],
    ['a symlink to /etc/passwd', passwd, /is not valid JSON \(.*line 1, column 1/],
    ['100,000 nested arrays', deep, /is not valid JSON \(.*(deep|nest)/i],
    ['a missing file', join(directory, 'missing.json'), /--spec cannot read .*missing\.json \(the file does not exist\)/],
  ];
  for (const [name, path, message] of cases) {
    it(`${name}: info fails at once with one line and quotes nothing from the file`, async () => {
      const run = await runInProcess(['info', '--spec', path]);
      expectCleanFailure(run, message);
      expect(run.stderr).not.toContain('root:');
      expect(run.stderr).not.toContain('xxxx');
    });
  }

  it.runIf(process.platform === 'linux')('a FIFO: fails at once instead of blocking', async () => {
    const fifo = join(directory, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expectCleanFailure(await runInProcess(['info', '--spec', fifo]), /it is a FIFO \(named pipe\), not a regular file/);
  });
});

describe('hostile --checkpoint directories', () => {
  const zero = join(directory, 'zero-checkpoint');
  mkdirSync(zero);
  symlinkSync('/dev/zero', join(zero, 'model.json'));
  const nested = join(directory, 'directory-checkpoint');
  mkdirSync(join(nested, 'model.json'), { recursive: true });
  const cases: [string, string[], RegExp][] = [
    ['model.json a symlink to /dev/zero', ['info', '--checkpoint', zero], /model\.json.*character device/],
    ['model.json a directory', ['info', '--checkpoint', nested], /model\.json.*directory/],
    ['a file given as the checkpoint', ['sample', '--checkpoint', aFile, '--no-progress'], /a-file is a file, not a checkpoint directory/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: one line, at once`, async () => {
      expectCleanFailure(await runInProcess(args), message);
    });
  }
});
