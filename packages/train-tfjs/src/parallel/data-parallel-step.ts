/**
 * Data-parallel training steps (synchronous data parallelism, as PyTorch's
 * DistributedDataParallel on one machine; Goyal et al., "Accurate, Large Minibatch SGD", 2017):
 * a batch is split into contiguous shards, the main thread computes the gradients of shard 0 while
 * worker threads compute the others, and the main thread adds them up in shard order and takes
 * one ordinary optimiser step (`applyUpdate`: clipping, Adam, EMA), then sends the changed
 * parameters to the workers.
 *
 * Each shard's loss is its sum of squared errors divided by the whole batch's count · C·H·W, so
 * the shards' losses and gradients add up to the whole batch's mean loss and its gradient. The
 * sum runs in a fixed order, so results are deterministic for a given number of threads; they
 * agree with one thread's to float32 rounding (summation order), except that dropout masks depend
 * on the shard (shard i's seed is the step's dropout seed + i · 2^16; shard 0 keeps the step's
 * seed, so one thread is today's single-threaded step exactly). A distillation run's teacher
 * predictions are computed by each thread for its own shard (each worker holds the teacher).
 */
import * as tf from '@tensorflow/tfjs';
import { applyUpdate, computeGradients, type BatchGradients, type LossContext, type NoisedBatch, type StepContext } from '../step/training-step.js';
import type { ShardRequest, TrainingWorkers } from './training-workers.js';
import { packTensors, sizeOfShape, unpackTensors } from './worker-protocol.js';

/** Distance between the dropout seeds of consecutive shards (more than any model's dropout layers). */
const SHARD_SEED_STRIDE = 2 ** 16;

/**
 * Sizes of `parts` contiguous shards of `count` samples, differing by at most 1 (the first
 * `count mod parts` are one larger); empty shards are left out.
 */
export function shardSizes(count: number, parts: number): number[] {
  const base = Math.floor(count / parts);
  const extra = count % parts;
  const sizes: number[] = [];
  for (let i = 0; i < parts; i++) {
    const size = base + (i < extra ? 1 : 0);
    if (size > 0) sizes.push(size);
  }
  return sizes;
}

/** Splits a noised batch into contiguous shards of `sizes` (copies, so each can be transferred). */
export function splitBatch(batch: NoisedBatch, sizes: readonly number[]): NoisedBatch[] {
  const sample = batch.noisy.length / batch.count;
  const shards: NoisedBatch[] = [];
  let start = 0;
  for (const size of sizes) {
    const end = start + size;
    shards.push({
      count: size,
      noisy: batch.noisy.slice(start * sample, end * sample),
      noise: batch.noise.slice(start * sample, end * sample),
      timesteps: batch.timesteps.slice(start, end),
    });
    start = end;
  }
  return shards;
}

/** The dropout seed of shard `index` of a step whose seed is `seed`. */
export function shardDropoutSeed(seed: number, index: number): number {
  return seed + index * SHARD_SEED_STRIDE;
}

/** The summed loss and gradients of a batch; the caller disposes `grads`. */
export interface SummedGradients {
  readonly loss: number;
  /** With a teacher: the loss's two terms, summed over the shards like the loss. */
  readonly terms: { readonly distillation: number; readonly eps: number } | undefined;
  /** Parameters with a gradient in any shard, in the context's order. */
  readonly names: string[];
  readonly grads: tf.Tensor[];
}

/**
 * The loss and gradients of `batch` over `workers.size + 1` threads: shard 0 on this thread,
 * shard i on worker i. Gradients are added in shard order (a parameter that some shard does not
 * reach, e.g. a decoder stage it has no samples for, adds nothing from that shard).
 */
export async function dataParallelGradients(context: LossContext, workers: TrainingWorkers, batch: NoisedBatch, k: number, dropoutSeed: number): Promise<SummedGradients> {
  const shards = splitBatch(batch, shardSizes(batch.count, workers.size + 1));
  const requests: ShardRequest[] = shards.slice(1).map((shard, i) => ({
    count: shard.count,
    noisy: shard.noisy,
    noise: shard.noise,
    timesteps: shard.timesteps,
    k,
    dropoutSeed: shardDropoutSeed(dropoutSeed, i + 1),
    normalizer: batch.count,
  }));
  // Posted first, so the workers compute while this thread does shard 0.
  const remote = workers.gradients(requests);
  let local: BatchGradients;
  try {
    local = computeGradients(context, shards[0]!, k, dropoutSeed, batch.count);
  } catch (error) {
    // The workers' answers are not needed any more; their failure must not go unhandled.
    remote.catch(() => undefined);
    throw error;
  }
  try {
    const answers = await remote;
    const losses = [local.loss.dataSync()[0]!, ...answers.map((answer) => answer.loss)];
    const localTerms = local.terms === undefined ? undefined : { distillation: local.terms.distillation.dataSync()[0]!, eps: local.terms.eps.dataSync()[0]! };
    const shardTerms = [localTerms, ...answers.map((answer) => answer.terms)];
    // Every shard has terms when the run has a teacher (all threads hold it), none otherwise.
    const terms = localTerms === undefined
      ? undefined
      : {
          distillation: Math.fround(shardTerms.reduce((sum, t) => sum + t!.distillation, 0)),
          eps: Math.fround(shardTerms.reduce((sum, t) => sum + t!.eps, 0)),
        };
    const sizes = new Map(context.names.map((name) => [name, sizeOfShape(context.params.get(name)!.shape)]));
    const names = context.names.filter((name) => local.names.includes(name) || answers.some((answer) => answer.grads.names.includes(name)));
    const grads = tf.tidy(() => {
      const parts = new Map<string, tf.Tensor[]>(names.map((name) => [name, []]));
      local.names.forEach((name, i) => parts.get(name)!.push(local.grads[i]!));
      for (const answer of answers) unpackTensors(answer.grads, sizes, (name, values) => parts.get(name)!.push(tf.tensor(values, context.params.get(name)!.shape)));
      // A single part may be a local gradient, which the finally below disposes: clone it (shares the data).
      return names.map((name) => {
        const list = parts.get(name)!;
        return list.length === 1 ? tf.clone(list[0]!) : list.reduce((sum, grad) => tf.add(sum, grad));
      });
    });
    // Rounded to float32, as one thread's loss (and a checkpoint's copy of it) is.
    return { loss: Math.fround(losses.reduce((a, b) => a + b, 0)), terms, names, grads };
  } finally {
    tf.dispose([local.loss, ...local.grads, ...(local.terms === undefined ? [] : [local.terms.distillation, local.terms.eps])]);
  }
}

/**
 * One data-parallel step: `dataParallelGradients`, then `applyUpdate` on this thread, then the
 * changed parameters to the workers. Returns the loss (and its terms, with a teacher) and the
 * gradient norm before clipping.
 */
export async function dataParallelStep(
  context: StepContext,
  workers: TrainingWorkers,
  batch: NoisedBatch,
  k: number,
  dropoutSeed: number,
  lr: number,
  emaDecay: number,
): Promise<{ loss: number; terms: SummedGradients['terms']; gradNorm: number }> {
  const { loss, terms, names, grads } = await dataParallelGradients(context, workers, batch, k, dropoutSeed);
  let gradNorm: number;
  try {
    const norm = applyUpdate(context, names, grads, lr, emaDecay);
    gradNorm = norm.dataSync()[0]!;
    norm.dispose();
  } finally {
    tf.dispose(grads);
  }
  // Adam changed exactly the parameters that had a gradient.
  const sizes = new Map(names.map((name) => [name, sizeOfShape(context.params.get(name)!.shape)]));
  workers.sendParameters(packTensors(names, sizes, (name) => context.params.get(name)!.dataSync() as Float32Array));
  return { loss, terms, gradNorm };
}
