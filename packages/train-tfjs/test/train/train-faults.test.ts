/**
 * train() under faults (issue 21): damaged checkpoints when resuming (item 3), pruning that must
 * not delete the run's new checkpoints, a second run on the same checkpoint directory (item 4), an
 * unwritable checkpoint directory (item 10), leftovers of killed writers (item 5) and numeric
 * bounds with a memory estimate (item 8). Tiny U-Net (core's fixture), wasm engine, 1–4 steps each.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelskipError, parseUNetSpec, temporaryPathFor, type UNetSpec } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { train } from '../../src/train/train.js';
import { planTraining, trainingLimits, type TrainNotice, type TrainOptions } from '../../src/train/train-options.js';
import { readTrainingCheckpoint } from '../../src/checkpoints/training-checkpoints.js';
import { estimateTrainingMemory } from '../../src/train/training-memory.js';
import { levelskipErrorOf as thrown } from '@levelskip/core/testing';
import { randomImages } from '../helpers/random-images.js';

const spec: UNetSpec = parseUNetSpec(tinySpecs.resnet);

function dataset(count: number): ReturnType<typeof randomImages> {
  return randomImages(spec, count);
}

const base = (): TrainOptions => ({ spec, data: dataset(4), batchSize: 2, lr: 2e-3, ema: 0.9, engine: 'wasm', seed: 7 });

async function rejection(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!LevelskipError.is(error)) throw new Error(`expected a LevelskipError, got ${String(error)}`);
  return error;
}

/** A pid that surely belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-train-faults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Two damaged checkpoints: a half-written manifest at step 4 and an empty directory at step 2. */
async function damagedCheckpoints(dir: string): Promise<void> {
  await mkdir(join(dir, 'step-0000004'), { recursive: true });
  await writeFile(join(dir, 'step-0000004', 'model.json'), '{"format": "levelskip-checkpoint"');
  await mkdir(join(dir, 'step-0000002'), { recursive: true });
}

describe('resume with damaged checkpoints (issue 21 item 3)', () => {
  it('refuses resume: true when checkpoints exist but none loads, listing each one and why, and changes nothing', async () => {
    const dir = join(root, 'none-loads');
    await damagedCheckpoints(dir);
    let stepped = false;
    const error = await rejection(train({ ...base(), steps: 2, checkpointDir: dir, resume: true, onProgress: () => void (stepped = true) }));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toContain(join(dir, 'step-0000004'));
    expect(error.message).toContain(join(dir, 'step-0000002'));
    expect(error.message).toMatch(/restart-if-unreadable/);
    expect(error.issues.map((issue) => issue.path)).toEqual([['resume'], ['resume']]);
    expect(stepped).toBe(false);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['step-0000002', 'step-0000004']);
  });

  it("with resume: 'restart-if-unreadable' sets the damaged ones aside, starts at step 0 and says so", async () => {
    const dir = join(root, 'restart');
    await damagedCheckpoints(dir);
    const notices: TrainNotice[] = [];
    const result = await train({ ...base(), steps: 2, checkpointDir: dir, checkpointEvery: 1, resume: 'restart-if-unreadable', onNotice: (n) => notices.push(n) });
    expect(result.stats.startStep).toBe(0);
    expect(result.resumedFrom).toBeUndefined();
    expect(notices.map((n) => n.kind)).toEqual(['damaged-checkpoints', 'fresh-start']);
    expect(notices[0]!.level).toBe('warning');
    expect(result.damagedCheckpoints.map((d) => basename(d.movedTo))).toEqual(['step-0000004.damaged', 'step-0000002.damaged']);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['step-0000001', 'step-0000002', 'step-0000002.damaged', 'step-0000004.damaged']);
    expect((await readTrainingCheckpoint(join(dir, 'step-0000002'))).state.step).toBe(2);
  });

  it('starts at step 0 with a fresh-start notice when the directory holds no checkpoint', async () => {
    const notices: TrainNotice[] = [];
    const result = await train({ ...base(), steps: 1, checkpointDir: join(root, 'empty'), resume: true, onNotice: (n) => notices.push(n) });
    expect(result.stats.startStep).toBe(0);
    expect(notices).toMatchObject([{ kind: 'fresh-start', level: 'info' }]);
    expect(notices[0]!.message).toMatch(/no checkpoint .* starting from step 0/);
  });

  it("resumes from an older checkpoint when newer ones are damaged, warns, and pruning keeps the run's new checkpoints", async () => {
    const dir = join(root, 'older');
    await train({ ...base(), steps: 2, checkpointDir: dir, checkpointEvery: 1, keepLast: 2 });
    // Damaged checkpoints with higher step numbers: before the fix, keepLast kept them and deleted steps 3 and 4.
    await mkdir(join(dir, 'step-0000009'));
    await cp(join(dir, 'step-0000002'), join(dir, 'step-0000010'), { recursive: true });
    await writeFile(join(dir, 'step-0000010', 'training-state.json'), '{"format": "levelskip-training-state", "step": ');
    const notices: TrainNotice[] = [];
    const result = await train({ ...base(), steps: 4, checkpointDir: dir, checkpointEvery: 1, keepLast: 2, resume: true, onNotice: (n) => notices.push(n) });
    expect(result.resumedFrom).toBe(join(dir, 'step-0000002'));
    expect(result.stats.startStep).toBe(2);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'damaged-checkpoints', level: 'warning', paths: [join(dir, 'step-0000010.damaged'), join(dir, 'step-0000009.damaged')] });
    expect(notices[0]!.message).toContain(`resuming from the older ${join(dir, 'step-0000002')}`);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['step-0000003', 'step-0000004', 'step-0000009.damaged', 'step-0000010.damaged']);
    expect((await readTrainingCheckpoint(join(dir, 'step-0000004'))).state.step).toBe(4);
  });

  it('never prunes a checkpoint of a later step than the run has reached', async () => {
    const dir = join(root, 'later');
    await train({ ...base(), steps: 1, checkpointDir: dir });
    // A loadable checkpoint of another, longer run.
    await cp(join(dir, 'step-0000001'), join(dir, 'step-0000009'), { recursive: true });
    await train({ ...base(), steps: 3, checkpointDir: dir, checkpointEvery: 1, keepLast: 1 });
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['step-0000003', 'step-0000009']);
  });
});

describe('one run per checkpoint directory (issue 21 item 4)', () => {
  it('fails a second train() on the same checkpointDir at once, naming the holder; the first succeeds', async () => {
    const dir = join(root, 'locked');
    let second: LevelskipError | undefined;
    let secondStepped = false;
    const first = await train({
      ...base(),
      steps: 2,
      checkpointDir: dir,
      onProgress: async (p) => {
        if (p.step === 1) second = await rejection(train({ ...base(), steps: 2, checkpointDir: dir, onProgress: () => void (secondStepped = true) }));
      },
    });
    expect(first.stats.steps).toBe(2);
    expect(first.checkpoint).toBe(join(dir, 'step-0000002'));
    expect(second?.code).toBe('IO_ERROR');
    expect(second?.message).toContain(`locked by process ${process.pid}`);
    expect(second?.message).toContain('train() checkpointDir');
    expect(secondStepped).toBe(false);
    // Released after success, after an abort and after an error: the next run takes it.
    const controller = new AbortController();
    const aborted = await rejection(train({ ...base(), steps: 4, checkpointDir: dir, resume: true, signal: controller.signal, onProgress: () => controller.abort() }));
    expect(aborted.code).toBe('ABORTED');
    const failing = await rejection(
      train({
        ...base(),
        steps: 5,
        checkpointDir: dir,
        resume: true,
        onProgress: () => {
          throw new LevelskipError('INTERNAL', 'progress display failed');
        },
      }),
    );
    expect(failing.message).toBe('progress display failed');
    expect((await train({ ...base(), steps: 5, checkpointDir: dir, resume: true })).stats.steps).toBe(5);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

describe('an unwritable checkpoint directory (issue 21 item 10)', () => {
  it('fails before the first step, naming checkpointDir', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    let stepped = false;
    const error = await rejection(train({ ...base(), steps: 2, checkpointDir: join(file, 'checkpoints'), onProgress: () => void (stepped = true) }));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/^train: Could not \w+ checkpointDir .*ENOTDIR/);
    expect(error.message).toContain(join(file, 'checkpoints'));
    expect(error.issues[0]?.path).toEqual(['checkpointDir']);
    expect(stepped).toBe(false);
  });
});

describe('leftovers of killed checkpoint writes (issue 21 item 5)', () => {
  it("removes dead processes' temporaries when a run starts, in core's naming and the older one, and keeps live ones", async () => {
    const dir = join(root, 'stale');
    await mkdir(dir);
    const dead = deadPid();
    // Core's naming, .levelskip-<host>-<pid base 36>-<8 hex>.tmp, with a dead pid.
    const own = basename(temporaryPathFor(join(dir, 'x')));
    const staleCore = own.replace(/^(\.levelskip-[0-9a-f]{4}-)[0-9a-z]+(-)/, `$1${dead.toString(36)}$2`);
    const staleLegacy = `.step-0000005.tmp-${dead}-0a1b2c3d4e5f`;
    const staleDisplaced = `.step-0000005.tmp-${dead}-0a1b2c3d4e5f-old`;
    const live = `.step-0000006.tmp-${process.ppid}-0a1b2c3d4e5f`;
    for (const name of [staleCore, staleLegacy, staleDisplaced, live]) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'model.safetensors'), 'partial');
    }
    const notices: TrainNotice[] = [];
    await train({ ...base(), steps: 1, checkpointDir: dir, onNotice: (n) => notices.push(n) });
    expect((await readdir(dir)).sort()).toEqual([live, 'step-0000001'].sort());
    expect(notices).toHaveLength(1);
    expect(notices[0]!.kind).toBe('stale-temporaries');
    expect([...notices[0]!.paths].sort()).toEqual([staleCore, staleLegacy, staleDisplaced].map((name) => join(dir, name)).sort());
  });
});

describe('numeric bounds and the memory estimate (issue 21 item 8)', () => {
  const valid: TrainOptions = { spec, data: dataset(3), steps: 2 };
  const cases: [string, Partial<Record<keyof TrainOptions, unknown>>, string][] = [
    ['batchSize 1e9', { batchSize: 1e9 }, 'batchSize'],
    ['batchSize 4097', { batchSize: trainingLimits.batchSize + 1 }, 'batchSize'],
    ['steps 1e8', { steps: 1e8 }, 'steps'],
    ['epochs 1e6', { steps: undefined, epochs: 1e6 }, 'epochs'],
    ['lr Infinity', { lr: Number.POSITIVE_INFINITY }, 'lr'],
    ['lr 11', { lr: 11 }, 'lr'],
    ['warmup 1e8', { warmup: 1e8 }, 'warmup'],
    ['gradClip 1e10', { gradClip: 1e10 }, 'gradClip'],
    ['checkpointEvery 1e8', { checkpointEvery: 1e8 }, 'checkpointEvery'],
    ['keepLast 1e5', { keepLast: 1e5 }, 'keepLast'],
    ['workers 1000', { workers: 1000 }, 'workers'],
    ['maxMemoryBytes 0', { maxMemoryBytes: 0 }, 'maxMemoryBytes'],
    ['maxMemoryBytes NaN', { maxMemoryBytes: Number.NaN }, 'maxMemoryBytes'],
    ["resume 'yes'", { resume: 'yes' }, 'resume'],
    ['lock 1', { lock: 1 }, 'lock'],
  ];
  for (const [name, patch, field] of cases) {
    it(`rejects ${name}, naming ${field}`, () => {
      const error = thrown(() => planTraining({ ...valid, ...patch } as TrainOptions));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.issues[0]?.path[0]).toBe(field);
    });
  }

  it('rejects epochs that make more than 10^7 steps', () => {
    const error = thrown(() => planTraining({ ...valid, data: dataset(1000), batchSize: 1, steps: undefined, epochs: 20_000 }));
    expect(error.issues[0]?.path).toEqual(['epochs']);
    expect(error.message).toMatch(/20,000,000 steps/);
  });

  it('refuses a batch whose estimated memory exceeds maxMemoryBytes, saying how to override, before anything runs', async () => {
    const estimate = estimateTrainingMemory(spec, 64);
    expect(estimate.total).toBe(estimate.activations + estimate.parameters);
    expect(estimateTrainingMemory(spec, 128).activations).toBe(2 * estimate.activations);
    const error = thrown(() => planTraining({ ...valid, batchSize: 64, maxMemoryBytes: estimate.total - 1 }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.issues[0]?.path).toEqual(['batchSize']);
    expect(error.message).toMatch(/maxMemoryBytes/);
    expect(planTraining({ ...valid, batchSize: 64, maxMemoryBytes: estimate.total }).maxMemoryBytes).toBe(estimate.total);
    expect(planTraining({ ...valid, batchSize: trainingLimits.batchSize, maxMemoryBytes: Number.POSITIVE_INFINITY }).batchSize).toBe(trainingLimits.batchSize);
    // An iterable's batches are checked as they come, before their step runs.
    let stepped = false;
    const iterable = [dataset(8).images];
    const refused = await rejection(train({ ...valid, data: iterable, engine: 'wasm', maxMemoryBytes: estimateTrainingMemory(spec, 4).total, onProgress: () => void (stepped = true) }));
    expect(refused.message).toMatch(/batchSize 8 needs about .* maxMemoryBytes/);
    expect(stepped).toBe(false);
  });
});
