/**
 * `levelskip train` under faults (issue 21), run in-process: numeric flags with documented bounds
 * and the memory limit (item 8), `--out` / `--checkpoint-dir` checked for writability and locked
 * when the command starts (items 10 and 4), and `--resume` that refuses to start over silently
 * (item 3). A 2-level 32×32 U-Net on 16 MNIST digits, one step, where a run is needed at all.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDirectoryLock } from '@levelskip/core';
import { main } from '../src/program/create-program.js';
import { planTrain, trainFlagLimits } from '../src/commands/train.js';
import { capturedIo } from './helpers/captured-io.js';
import { errorOf } from './helpers/error-of.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-train-faults-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const tinySpecPath = join(directory, 'tiny.json');
writeFileSync(
  tinySpecPath,
  JSON.stringify({ imageSize: 32, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }),
);
const common = (out: string): string[] => ['train', '--spec', tinySpecPath, '--data-count', '16', '--batch', '2', '--engine', 'wasm', '--steps', '1', '--no-progress', '--out', out];

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capturedIo();
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('numeric train flags have bounds (issue 21 item 8)', () => {
  const base = { preset: 'mnistSmall', steps: '10', out: 'out/m' };
  it.each([
    [{ batch: '1e9' }, '--batch must be a positive integer, at most 4,096'],
    [{ batch: String(trainFlagLimits.batch + 1) }, '--batch must be a positive integer, at most 4,096'],
    [{ batch: undefined, batchSize: '100000' }, '--batch-size must be a positive integer, at most 4,096'],
    [{ steps: '1e8' }, '--steps must be a positive integer, at most 10,000,000'],
    [{ steps: undefined, epochs: '1e6' }, '--epochs must be a positive integer, at most 100,000'],
    [{ lr: '1e9' }, '--lr must be a number in (0, 10]'],
    [{ warmup: '1e8' }, '--warmup must be an integer ≥ 0, at most 10,000,000'],
    [{ gradClip: '1e10' }, '--grad-clip must be a number in (0, 1e9]'],
    [{ workers: '1000' }, '--workers must be a positive integer, at most'],
    [{ checkpointEvery: '1e8' }, '--checkpoint-every must be a positive integer, at most 10,000,000'],
    [{ keepLast: '1e5' }, '--keep-last must be a positive integer, at most 10,000'],
    [{ minutes: '1e12' }, '--minutes must be a number in (0, 1,000,000]'],
    [{ c: '1e9', scheme: 'schedule-aware' }, '--c must be a number in [0, 100]'],
    [{ maxMemory: 'lots' }, '--max-memory must be a size'],
    [{ maxMemory: '1k' }, '--max-memory must be between'],
    [{ restartIfUnreadable: true }, '--restart-if-unreadable only applies with --resume'],
  ])('rejects %o', (flags, message) => {
    expect(errorOf(() => planTrain({ ...base, ...flags }))).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(message) });
  });

  it('reads --max-memory as a size, and --restart-if-unreadable with --resume', () => {
    expect(planTrain({ ...base, maxMemory: '2GiB' }).maxMemoryBytes).toBe(2 ** 31);
    expect(planTrain({ ...base, maxMemory: '512M' }).maxMemoryBytes).toBe(512 * 2 ** 20);
    expect(planTrain(base)).toMatchObject({ maxMemoryBytes: undefined, resume: false });
    expect(planTrain({ ...base, resume: true }).resume).toBe(true);
    expect(planTrain({ ...base, resume: true, restartIfUnreadable: true }).resume).toBe('restart-if-unreadable');
    expect(planTrain({ ...base, batch: '4096' }).batchSize).toBe(4096);
  });

  it('refuses a batch above --max-memory with a one-line usage error that names the flag', async () => {
    const result = await run([...common(join(directory, 'memory')), '--max-memory', '16MiB', '--batch', '4096']);
    expect(result.code, result.err).toBe(2);
    expect(result.err).toMatch(/^levelskip: train: batchSize 4096 needs about .* --max-memory/);
    expect(result.err.split('\n')).toHaveLength(2);
  });
});

describe('--out and --checkpoint-dir are checked and locked at the start (issue 21 items 10 and 4)', () => {
  const file = join(directory, 'a-file');
  writeFileSync(file, 'not a directory');

  it('fails at once when --out cannot be written', async () => {
    const result = await run(common(join(file, 'model')));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^levelskip: Could not \w+ --out .*ENOTDIR/);
    expect(result.err).toContain(join(file, 'model'));
    expect(result.out).toBe('');
  });

  it('fails at once when --checkpoint-dir cannot be written, leaving --out empty', async () => {
    const out = join(directory, 'ckpt-unwritable');
    const result = await run([...common(out), '--checkpoint-dir', join(file, 'checkpoints')]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^levelskip: Could not \w+ --checkpoint-dir .*ENOTDIR/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('fails at once when another process holds --out or --checkpoint-dir, naming it', async () => {
    const out = join(directory, 'held');
    const lock = await acquireDirectoryLock(out, { purpose: 'a test holding --out' });
    try {
      const result = await run(common(out));
      expect(result.code).toBe(1);
      expect(result.err).toContain(`is locked by process ${process.pid} (a test holding --out`);
    } finally {
      await lock.release();
    }
    const checkpoints = join(directory, 'held-checkpoints');
    const held = await acquireDirectoryLock(checkpoints, { purpose: 'a test holding --checkpoint-dir' });
    try {
      const result = await run([...common(join(directory, 'other-out')), '--checkpoint-dir', checkpoints]);
      expect(result.code).toBe(1);
      expect(result.err).toContain('(a test holding --checkpoint-dir');
    } finally {
      await held.release();
    }
  });

  it('runs two trains on one --out: the second fails at once, the first finishes and releases both locks', async () => {
    const out = join(directory, 'twice');
    const first = run(common(out));
    // The first has taken its lock once the lock file exists.
    while (!readdirSync(directory).includes('twice') || !readdirSync(out).includes('.levelskip.lock')) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await run(common(out));
    expect(second.code).toBe(1);
    expect(second.err).toContain(`${out} is locked by process ${process.pid} (levelskip train --out ${out}`);
    const done = await first;
    expect(done.code, done.err).toBe(0);
    expect(done.out).toMatch(/^status {6}finished/m);
    expect(readdirSync(out).sort()).toEqual(['checkpoints', 'model.json', 'model.safetensors']);
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-0000001']);
  });
});

describe('--resume does not silently start over (issue 21 item 3)', () => {
  it('refuses when checkpoints exist but none loads, listing them, and suggests --restart-if-unreadable', async () => {
    const out = join(directory, 'damaged');
    mkdirSync(join(out, 'checkpoints', 'step-0000003'), { recursive: true });
    writeFileSync(join(out, 'checkpoints', 'step-0000003', 'model.json'), '{');
    const result = await run([...common(out), '--resume']);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`none of the 1 checkpoint in ${join(out, 'checkpoints')} loads`);
    expect(result.err).toContain(join(out, 'checkpoints', 'step-0000003'));
    expect(result.err).toContain('--restart-if-unreadable');
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-0000003']);
  });
});
