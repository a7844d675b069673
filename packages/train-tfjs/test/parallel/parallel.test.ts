/**
 * Data-parallel training (`train({ workers })`) on tiny U-Nets on the wasm engine: shard
 * gradients add up to the whole batch's, n threads train like one thread up to float32
 * summation order, runs are deterministic and resume exactly, and worker threads never outlive
 * `train()` (done, aborted, failed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LevelskipError,
  SeededRng,
  customFill,
  describeArchitecture,
  linearBetaSchedule,
  parameterLayout,
  parseUNetSpec,
  zeroFill,
  type NamedTensors,
  type UNetSpec,
} from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { selectEngine, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { dataParallelGradients, shardSizes } from '../../src/parallel/data-parallel-step.js';
import { planTraining, trainingThreads, type TrainOptions } from '../../src/train/train-options.js';
import { train } from '../../src/train/train.js';
import { computeGradients, createModelState, disposeModelState, noiseBatch, type LossContext } from '../../src/step/training-step.js';
import { liveTrainingWorkerCount, startTrainingWorkers, trainingWorkerScript, trainingWorkerVariable } from '../../src/parallel/training-workers.js';
import { packTensors, sizeOfShape } from '../../src/parallel/worker-protocol.js';
import { useSourceTrainingWorker } from '../helpers/source-worker.js';
import { randomImages } from '../helpers/random-images.js';

const spec = parseUNetSpec(tinySpecs.resnet);

function dataset(count: number, seed = 5): ReturnType<typeof randomImages> {
  return randomImages(spec, count, seed);
}

const base = (): TrainOptions => ({ spec, data: dataset(10), batchSize: 5, lr: 2e-3, ema: 0.9, engine: 'wasm', seed: 7, scheme: 'uniform' });

/**
 * Attention's key bias adds q·b to every logit of a row, which softmax ignores: its gradient is 0
 * in exact arithmetic and float32 rounding noise (~1e-9) in practice, which differs with the
 * summation order, and Adam turns noise into steps of ±lr. Those tensors are compared apart.
 */
const isKeyBias = (name: string): boolean => name.endsWith('.to_k.bias');

/** max |a − b| / max |b| of each tensor (the worst over tensors), key biases left out. */
function maxRelativeDifference(a: NamedTensors, b: NamedTensors): number {
  let worst = 0;
  for (const [name, tensor] of b) {
    if (isKeyBias(name)) continue;
    const other = a.get(name)!.data;
    let scale = 0;
    let diff = 0;
    tensor.data.forEach((v, i) => {
      scale = Math.max(scale, Math.abs(v));
      diff = Math.max(diff, Math.abs(v - other[i]!));
    });
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

/** max |a − b| over the key biases. */
function keyBiasDifference(a: NamedTensors, b: NamedTensors): number {
  let worst = 0;
  for (const [name, tensor] of b) if (isKeyBias(name)) tensor.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - a.get(name)!.data[i]!))));
  return worst;
}

function expectSameWeights(a: NamedTensors, b: NamedTensors): void {
  for (const [name, tensor] of a) expect(b.get(name)!.data, name).toEqual(tensor.data);
}

async function rejection(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!LevelskipError.is(error)) throw new Error(`expected a LevelskipError, got ${String(error)}`);
  return error;
}

let cleanup: () => Promise<void>;
let root: string;
beforeAll(async () => {
  cleanup = await useSourceTrainingWorker();
  root = await mkdtemp(join(tmpdir(), 'levelskip-parallel-'));
});
afterAll(async () => {
  await cleanup();
  await rm(root, { recursive: true, force: true });
});

describe('options', () => {
  const valid: TrainOptions = { spec, data: dataset(3), steps: 1 };
  for (const bad of [0, -1, 1.5, 65, Number.NaN, '2', 'all', null]) {
    it(`rejects workers: ${JSON.stringify(bad)}`, () => {
      let error: unknown;
      try {
        planTraining({ ...valid, workers: bad as never });
      } catch (e) {
        error = e;
      }
      expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
      expect((error as LevelskipError).issues[0]?.path).toEqual(['workers']);
    });
  }

  it('accepts integers and auto; rejects worker threads on libtensorflow engines and with custom fills', () => {
    expect(planTraining(valid).workers).toBe(1);
    expect(planTraining({ ...valid, workers: 4 }).workers).toBe(4);
    expect(planTraining({ ...valid, workers: 'auto' }).workers).toBe('auto');
    expect(planTraining({ ...valid, workers: 1, engine: 'node' }).workers).toBe(1);
    for (const engine of ['node', 'node-gpu'] as const) {
      expect(() => planTraining({ ...valid, workers: 2, engine })).toThrow(/workers.*libtensorflow/);
    }
    const custom = customFill<tf.Tensor>('mine', (context) => tf.zeros([...context.shape]));
    expect(() => planTraining({ ...valid, workers: 2, fill: custom })).toThrow(/custom fill/);
  });

  it('resolves the number of threads: auto ≤ 8, ≤ the batch size, 1 on libtensorflow engines', () => {
    const plan = (workers: number | 'auto', batchSize = 16) => planTraining({ ...valid, workers, batchSize });
    expect(trainingThreads(plan('auto'), 'wasm', 2)).toBe(2);
    expect(trainingThreads(plan('auto'), 'wasm', 32)).toBe(8);
    expect(trainingThreads(plan('auto', 3), 'wasm', 32)).toBe(3);
    expect(trainingThreads(plan(6, 4), 'cpu', 2)).toBe(4);
    expect(trainingThreads(plan(3), 'wasm', 1)).toBe(3);
    expect(trainingThreads(plan('auto'), 'node', 16)).toBe(1);
    expect(trainingThreads(plan(1), 'wasm', 16)).toBe(1);
  });

  it('splits a batch into contiguous shards whose sizes differ by at most 1', () => {
    expect(shardSizes(16, 2)).toEqual([8, 8]);
    expect(shardSizes(5, 3)).toEqual([2, 2, 1]);
    expect(shardSizes(7, 4)).toEqual([2, 2, 2, 1]);
    expect(shardSizes(2, 4)).toEqual([1, 1]);
  });

  it('names the missing build when running from sources without a worker script', () => {
    const saved = process.env[trainingWorkerVariable];
    delete process.env[trainingWorkerVariable];
    try {
      expect(() => trainingWorkerScript()).toThrow(/pnpm build/);
    } finally {
      process.env[trainingWorkerVariable] = saved;
    }
  });
});

describe('shard gradients', () => {
  /** The loss and gradients of one batch on this thread, and summed over this thread and `workers` worker threads. */
  async function compare(input: UNetSpec, timesteps: number[], k: number, workers: number): Promise<void> {
    await selectEngine('wasm');
    const arch = describeArchitecture(input);
    const names = parameterLayout(input).map((entry) => entry.name);
    const weights = fixtureWeights(input, 4);
    const state = createModelState(names, weights, weights);
    const imageShape = [input.inChannels, input.imageSize, input.imageSize] as const;
    const size = imageShape[0] * imageShape[1] * imageShape[2];
    const rng = new SeededRng(21);
    const count = timesteps.length;
    // Shards are copies, so both computations can use the same batch.
    const batch = noiseBatch(rng.uniform(count * size).map((v) => 2 * v - 1), rng.normal(count * size), timesteps, imageShape, linearBetaSchedule());
    const context: LossContext = { arch, ops: createTfjsTensorOps('wasm'), names, params: state.params, fill: zeroFill, imageShape };
    const shapes = names.map((name) => state.params.get(name)!.shape);
    const sizes = new Map(names.map((name, i) => [name, sizeOfShape(shapes[i]!)]));
    const pool = await startTrainingWorkers(workers, {
      engine: 'wasm',
      spec: input,
      fill: zeroFill,
      names,
      shapes,
      params: packTensors(names, sizes, (name) => state.params.get(name)!.dataSync() as Float32Array).data,
    });
    try {
      expect(liveTrainingWorkerCount()).toBe(workers);
      const whole = computeGradients(context, batch, k, 9);
      const parallel = await dataParallelGradients(context, pool, batch, k, 9);
      const host = (list: string[], grads: tf.Tensor[]): NamedTensors =>
        new Map(list.map((name, i) => [name, { shape: grads[i]!.shape, data: grads[i]!.dataSync() as Float32Array }]));
      expect(parallel.names).toEqual(whole.names);
      expect(Math.abs(parallel.loss - whole.loss.dataSync()[0]!)).toBeLessThan(1e-6 * parallel.loss);
      const [mine, reference] = [host(parallel.names, parallel.grads), host(whole.names, whole.grads)];
      expect(maxRelativeDifference(mine, reference)).toBeLessThan(1e-5);
      expect(keyBiasDifference(mine, reference)).toBeLessThan(1e-8);
      tf.dispose([whole.loss, ...whole.grads, ...parallel.grads]);
    } finally {
      await pool.terminate();
      disposeModelState(state);
    }
    expect(liveTrainingWorkerCount()).toBe(0);
  }

  it('add up to the whole batch’s gradients (1e-5 relative), at k = 0 and k = 1', async () => {
    await compare(spec, [10, 300, 500, 999, 640], 0, 1);
    await compare(spec, [10, 300, 500, 999, 640], 1, 2);
  });

  it('add up when the shards reach different decoders of a multi-decoder U-Net', async () => {
    // Shard 0 holds only stage-0 samples (t < 500), shard 1 only stage-1 ones.
    await compare(parseUNetSpec(tinySpecs.multiDecoder), [100, 200, 700, 900], 0, 1);
  });
});

describe('train({ workers })', () => {
  it('trains like one thread (weights within 1e-4 after 3 steps; key biases within 3 Adam steps) and repeats itself exactly', async () => {
    const one = await train({ ...base(), steps: 3 });
    let during = -1;
    const two = await train({ ...base(), steps: 3, workers: 2, onProgress: () => void (during = liveTrainingWorkerCount()) });
    expect(during).toBe(1);
    expect(liveTrainingWorkerCount()).toBe(0);
    expect(one.stats.workers).toBe(1);
    expect(two.stats.workers).toBe(2);
    expect(maxRelativeDifference(two.rawWeights, one.rawWeights)).toBeLessThan(1e-4);
    expect(maxRelativeDifference(two.weights, one.weights)).toBeLessThan(1e-4);
    // Adam moves each key bias by at most ≈ lr per step, whatever the sign of its noise gradient.
    expect(keyBiasDifference(two.rawWeights, one.rawWeights)).toBeLessThan(2 * 3 * 2e-3 * 1.01);
    two.losses.forEach((loss, i) => expect(Math.abs(loss - one.losses[i]!)).toBeLessThan(1e-5 * loss));
    const again = await train({ ...base(), steps: 3, workers: 2 });
    expectSameWeights(again.rawWeights, two.rawWeights);
    expectSameWeights(again.weights, two.weights);
    expect(again.losses).toEqual(two.losses);
  });

  it('resumes exactly from its own checkpoints and records workers in the metadata', async () => {
    const dir = join(root, 'resume');
    const options = { ...base(), workers: 2, warmup: 2 };
    const whole = await train({ ...options, steps: 4 });
    await train({ ...options, steps: 2, checkpointDir: dir, checkpointEvery: 2 });
    const second = await train({ ...options, steps: 4, checkpointDir: dir, checkpointEvery: 2, resume: true });
    expect(second.resumedFrom).toBe(join(dir, 'step-0000002'));
    expectSameWeights(second.rawWeights, whole.rawWeights);
    expectSameWeights(second.weights, whole.weights);
    expect(second.losses).toEqual(whole.losses);
    const model = JSON.parse(await readFile(join(dir, 'step-0000004', 'model.json'), 'utf8')) as { training: { workers: number } };
    expect(model.training.workers).toBe(2);
    expect(liveTrainingWorkerCount()).toBe(0);
  });

  it('terminates its workers on abort and when a step fails', async () => {
    const controller = new AbortController();
    const aborted = await rejection(train({ ...base(), steps: 10, workers: 3, signal: controller.signal, onProgress: () => controller.abort() }));
    expect(aborted.code).toBe('ABORTED');
    expect(liveTrainingWorkerCount()).toBe(0);
    const failing = train({
      ...base(),
      steps: 10,
      workers: 2,
      onProgress: () => {
        throw new Error('display failed');
      },
    });
    await expect(failing).rejects.toThrow('display failed');
    expect(liveTrainingWorkerCount()).toBe(0);
  });

  it('fails with a LevelskipError naming the worker when one cannot start, leaving none running', async () => {
    const saved = process.env[trainingWorkerVariable];
    process.env[trainingWorkerVariable] = join(root, 'no-such-worker.mjs');
    try {
      const error = await rejection(train({ ...base(), steps: 2, workers: 3 }));
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
      expect(error.message).toMatch(/training worker 1 of 2 could not start: .*no-such-worker/);
      expect(error.message).toContain('workers: 1');
    } finally {
      process.env[trainingWorkerVariable] = saved;
    }
    expect(liveTrainingWorkerCount()).toBe(0);
  });
});
