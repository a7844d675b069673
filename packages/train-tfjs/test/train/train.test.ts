/**
 * `train()` end to end on tiny U-Nets (core's fixture specs) on the wasm engine: learning,
 * reproducibility, exact resume, checkpoint pruning, abort, memory, data sources, fills.
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelskipError, customSchedule, duplicateFill, interpolateFill, loadCheckpoint, parseUNetSpec, powerSchedule, randomWeights, type NamedTensors } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { train } from '../../src/train/train.js';
import type { TrainOptions } from '../../src/train/train-options.js';
import { randomImages } from '../helpers/random-images.js';

// Dropout on, so that resuming must also restore the dropout seeds' stream.
const spec = parseUNetSpec({ ...tinySpecs.resnet, dropout: 0.1 });
const SIZE = spec.inChannels * spec.imageSize * spec.imageSize;

function dataset(count: number, seed = 5): ReturnType<typeof randomImages> {
  return randomImages(spec, count, seed);
}

const base = (): TrainOptions => ({ spec, data: dataset(6), batchSize: 4, lr: 2e-3, ema: 0.9, engine: 'wasm', seed: 7 });

function expectSameWeights(a: NamedTensors, b: NamedTensors): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, tensor] of a) expect(b.get(name)!.data, name).toEqual(tensor.data);
}

function maxDifference(a: NamedTensors, b: NamedTensors): number {
  let max = 0;
  for (const [name, tensor] of a) tensor.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - b.get(name)!.data[i]!))));
  return max;
}

async function rejection(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!LevelskipError.is(error)) throw new Error(`expected a LevelskipError, got ${String(error)}`);
  return error;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('learning', () => {
  it('lowers the loss on a fixed small dataset', async () => {
    const result = await train({ ...base(), data: dataset(8), batchSize: 8, steps: 60, lr: 3e-3, scheme: 'uniform' });
    expect(result.losses).toHaveLength(60);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(result.losses.slice(0, 10));
    const last = mean(result.losses.slice(-10));
    expect(last).toBeLessThan(0.7 * first);
    expect(result.stats.steps).toBe(60);
    expect(result.stats.images).toBe(480);
    expect(result.stats.imagesPerSecond).toBeGreaterThan(0);
    expect(result.stats.engine).toBe('wasm');
  });

  it('returns EMA weights that differ from the raw ones, in PyTorch layouts', async () => {
    const result = await train({ ...base(), steps: 3 });
    const layout = randomWeights(spec);
    for (const [name, tensor] of layout) {
      expect(result.weights.get(name)!.shape, name).toEqual(tensor.shape);
      expect(result.rawWeights.get(name)!.shape, name).toEqual(tensor.shape);
    }
    expect(maxDifference(result.weights, result.rawWeights)).toBeGreaterThan(0);
    // The EMA starts at the initial weights and moves towards the trained ones.
    const initial = randomWeights(spec, { seed: 7 });
    expect(maxDifference(result.weights, initial)).toBeLessThan(maxDifference(result.rawWeights, initial));
  });

  it('warms the EMA up: after one step it is 2/11 of the initial weights and 9/11 of the trained ones', async () => {
    // Update 1 uses d = min(0.999, (1 + 1) / (10 + 1)) = 2/11; without warm-up, d = 0.999.
    const initial = randomWeights(spec, { seed: 7 });
    const check = (result: Awaited<ReturnType<typeof train>>, d: number): void => {
      for (const [name, tensor] of result.weights) {
        const raw = result.rawWeights.get(name)!.data;
        const start = initial.get(name)!.data;
        tensor.data.forEach((v, i) => expect(Math.abs(v - (d * start[i]! + (1 - d) * raw[i]!)), name).toBeLessThan(1e-6));
      }
    };
    check(await train({ ...base(), ema: 0.999, steps: 1 }), 2 / 11);
    check(await train({ ...base(), ema: 0.999, emaWarmup: false, steps: 1 }), 0.999);
  });
});

describe('reproducibility and resume', () => {
  it('gives the same weights for the same seed and different ones for another', async () => {
    const a = await train({ ...base(), steps: 4 });
    const b = await train({ ...base(), steps: 4 });
    expectSameWeights(a.weights, b.weights);
    expect(a.losses).toEqual(b.losses);
    const c = await train({ ...base(), steps: 4, seed: 8 });
    expect(maxDifference(a.rawWeights, c.rawWeights)).toBeGreaterThan(0);
  });

  it('S + S steps with a resume equal 2S steps in one go, exactly, skipping a half-written checkpoint', async () => {
    const dir = join(root, 'resume');
    const options = { ...base(), scheme: 'schedule-aware' as const, schedule: powerSchedule({ c: 2 }), fill: duplicateFill, warmup: 3 };
    // 6 images in batches of 4: step 2 ends 2 images into the second epoch's permutation.
    const whole = await train({ ...options, steps: 4 });
    const first = await train({ ...options, steps: 2, checkpointDir: dir, checkpointEvery: 2 });
    expect(first.checkpoint).toBe(join(dir, 'step-0000002'));
    // A crash while writing step 5 left a temporary directory and a step directory without its state.
    await mkdir(join(dir, '.step-0000005.tmp-1-abc'));
    await mkdir(join(dir, 'step-0000005'));
    await writeFile(join(dir, 'step-0000005', 'model.json'), '{"format": "levelskip-checkpoint"');
    const second = await train({ ...options, steps: 4, checkpointDir: dir, checkpointEvery: 2, resume: true });
    expect(second.resumedFrom).toBe(join(dir, 'step-0000002'));
    expect(second.stats.startStep).toBe(2);
    expect(second.stats.steps).toBe(4);
    expectSameWeights(second.weights, whole.weights);
    expectSameWeights(second.rawWeights, whole.rawWeights);
    expect(second.losses).toEqual(whole.losses);
  });

  it('resumes an (async) iterable by skipping the batches it consumed', async () => {
    const batches = [0, 1, 2].map((i) => dataset(2, 100 + i).images);
    async function* stream(): AsyncGenerator<Float32Array> {
      for (const b of batches) yield b;
    }
    const data = { [Symbol.asyncIterator]: stream };
    const dir = join(root, 'iterable');
    const whole = await train({ ...base(), data, steps: 5 });
    await train({ ...base(), data, steps: 2, checkpointDir: dir, checkpointEvery: 2 });
    const resumed = await train({ ...base(), data, steps: 5, checkpointDir: dir, resume: true });
    expect(resumed.stats.startStep).toBe(2);
    expectSameWeights(resumed.rawWeights, whole.rawWeights);
  });

  it('resumes when the spec is given as unparsed input, whose keys come in another order than the checkpoint\'s', async () => {
    const dir = join(root, 'unparsed');
    const input = { ...tinySpecs.resnet, dropout: 0.1 };
    await train({ ...base(), spec: input, steps: 1, checkpointDir: dir });
    const resumed = await train({ ...base(), spec: input, steps: 2, checkpointDir: dir, resume: true });
    expect(resumed.stats.startStep).toBe(1);
  });

  it('refuses to resume a checkpoint of other settings', async () => {
    const dir = join(root, 'other');
    await train({ ...base(), steps: 1, checkpointDir: dir });
    const error = await rejection(train({ ...base(), steps: 2, batchSize: 2, checkpointDir: dir, resume: true }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/batchSize/);
  });
});

describe('checkpoints', () => {
  it('writes every N steps, keeps the last M and stores the training metadata', async () => {
    const dir = join(root, 'prune');
    const result = await train({ ...base(), steps: 5, checkpointDir: dir, checkpointEvery: 1, keepLast: 2 });
    expect((await readdir(dir)).sort()).toEqual(['step-0000004', 'step-0000005']);
    const saved = await loadCheckpoint(join(dir, 'step-0000005'));
    expectSameWeights(saved.weights, result.weights);
    expect(saved.manifest.training).toMatchObject({ weights: 'ema', scheme: 'uniform', steps: 5, batchSize: 4, seed: 7, lr: 2e-3 });
    expect(saved.manifest.training!['finalLoss']).toBeCloseTo(result.losses[4]!, 6);
    expect(typeof saved.manifest.training!['durationMs']).toBe('number');
    const state = JSON.parse(await readFile(join(dir, 'step-0000005', 'training-state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(5);
  });

  it('stops after the current step on abort, writes a checkpoint, and can resume from it', async () => {
    const dir = join(root, 'abort');
    const controller = new AbortController();
    const steps: number[] = [];
    const error = await rejection(
      train({
        ...base(),
        steps: 6,
        checkpointDir: dir,
        signal: controller.signal,
        onProgress: (p) => {
          steps.push(p.step);
          if (p.step === 2) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(steps).toEqual([1, 2]);
    expect(await readdir(dir)).toEqual(['step-0000002']);
    const resumed = await train({ ...base(), steps: 6, checkpointDir: dir, resume: true });
    expect(resumed.stats.startStep).toBe(2);
    const whole = await train({ ...base(), steps: 6 });
    expectSameWeights(resumed.weights, whole.weights);
  });

  it('rejects at once when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(train({ ...base(), steps: 2, signal: controller.signal }))).code).toBe('ABORTED');
  });
});

describe('progress, memory and data', () => {
  it('reports every step and keeps the number of live tensors constant', async () => {
    const live: number[] = [];
    const before = tf.memory().numTensors;
    await train({
      ...base(),
      steps: 22,
      warmup: 10,
      onProgress: (p) => {
        live.push(tf.memory().numTensors);
        expect(p.steps).toBe(22);
        expect(p.lr).toBeCloseTo(2e-3 * Math.min(1, p.step / 10), 12);
        expect(p.etaMs).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(p.k) && p.k >= 0 && p.k < 3).toBe(true);
      },
    });
    expect(live).toHaveLength(22);
    expect(live[21]).toBe(live[1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs ⌈epochs · count / batchSize⌉ steps for an in-memory dataset', async () => {
    const result = await train({ ...base(), epochs: 2 });
    expect(result.stats.steps).toBe(3);
  });

  it('runs epochs over a sync iterable of host-tensor batches', async () => {
    const batch = { shape: [3, spec.inChannels, spec.imageSize, spec.imageSize], data: dataset(3).images };
    const result = await train({ ...base(), data: [batch, batch], epochs: 2 });
    expect(result.stats.steps).toBe(4);
    expect(result.stats.images).toBe(12);
  });
  it('rejects an iterable batch of the wrong size or with a NaN, and an empty iterable', async () => {
    const wrong = await rejection(train({ ...base(), data: [new Float32Array(SIZE + 1)], steps: 1 }));
    expect([wrong.code, wrong.issues[0]?.path[0]]).toEqual(['INVALID_SHAPE', 'data']);
    const nan = dataset(1).images;
    nan[5] = Number.NaN;
    const notFinite = await rejection(train({ ...base(), data: [nan], steps: 1 }));
    expect([notFinite.code, notFinite.issues[0]?.path[0]]).toEqual(['INVALID_OPTION', 'data']);
    const empty = await rejection(train({ ...base(), data: [], steps: 1 }));
    expect(empty.message).toMatch(/no batch/);
  });
});

describe('fills and specs', () => {
  it('trains the side paths jointly with the interpolate fill', async () => {
    const sidePaths = parseUNetSpec(tinySpecs.sidePaths);
    const result = await train({
      spec: sidePaths,
      data: randomImages(sidePaths, 4, 1),
      steps: 3,
      batchSize: 4,
      scheme: 'schedule-aware',
      // k = 1 everywhere: the side paths are on every step's path.
      schedule: customSchedule(() => 1, 'k = 1'),
      fill: interpolateFill,
      engine: 'wasm',
      seed: 2,
    });
    const initial = randomWeights(sidePaths, { seed: 2 });
    const moved = (prefix: string): boolean =>
      [...result.rawWeights].some(([name, t]) => name.startsWith(prefix) && t.data.some((v, i) => v !== initial.get(name)!.data[i]));
    expect(moved('side_paths.encoder.1')).toBe(true);
    expect(moved('side_paths.decoder.1')).toBe(true);
    // The middle block is never run at k = 1, so Adam leaves it alone.
    expect(moved('mid_block')).toBe(false);
  });

  it('trains a multi-decoder U-Net on batches that mix decoder stages', async () => {
    const multi = parseUNetSpec(tinySpecs.multiDecoder);
    const result = await train({
      spec: multi,
      data: randomImages(multi, 8, 1),
      steps: 2,
      batchSize: 8,
      scheme: 'full',
      engine: 'wasm',
      seed: 3,
    });
    const initial = randomWeights(multi, { seed: 3 });
    for (const stage of [0, 1]) {
      const name = `decoders.${stage}.conv_out.weight`;
      expect(result.rawWeights.get(name)!.data.some((v, i) => v !== initial.get(name)!.data[i]), name).toBe(true);
    }
  });
});
