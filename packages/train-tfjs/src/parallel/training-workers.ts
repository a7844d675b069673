/**
 * The main thread's side of data-parallel training: starting, driving and stopping the Node
 * `worker_threads` that compute gradients of batch shards (training-worker.ts), each on its own
 * tfjs engine. tfjs-backend-wasm is single-threaded in Node (its threaded build starts workers
 * from `blob:` URLs, which Node rejects), so separate threads with separate engines are the way
 * to use more than one core.
 *
 * The worker script is dist/training-worker.js (ESM) or .cjs (CommonJS), next to the running
 * build of this module; the environment variable `LEVELSKIP_TRAINING_WORKER` (a path or file
 * URL) overrides it, for applications that bundle this package and for tests that run from the
 * TypeScript sources (test/helpers/source-worker.ts builds one).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LevelskipError, type LevelskipErrorCode } from '@levelskip/core';
import {
  type FromWorker,
  type GradientsMessage,
  type PackedTensors,
  type StepMessage,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

export type { WorkerInit } from './worker-protocol.js';

/** Worker threads alive now (started and not yet exited), over every `train()` call. */
let liveWorkers = 0;

/**
 * The number of training worker threads alive in this process. `train()` terminates its own
 * before it resolves or rejects, so this is 0 between calls (for leak checks).
 */
export function liveTrainingWorkerCount(): number {
  return liveWorkers;
}

/** The environment variable that overrides the worker script's location. */
export const trainingWorkerVariable = 'LEVELSKIP_TRAINING_WORKER';

/**
 * Where the worker script is: `LEVELSKIP_TRAINING_WORKER` if set, else training-worker.js (or
 * .cjs in the CommonJS build) beside this module.
 *
 * @throws LevelskipError `UNSUPPORTED` when this module runs from its TypeScript source and no
 *   override is set (there is no built worker to start).
 */
export function trainingWorkerScript(): URL {
  const override = process.env[trainingWorkerVariable];
  if (override !== undefined && override !== '') return override.startsWith('file:') ? new URL(override) : pathToFileURL(resolve(override));
  // tsup's shims give both builds both names; `typeof` keeps sources that have neither working.
  const own = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  if (/\.[cm]?tsx?$/.test(own)) {
    throw new LevelskipError(
      'UNSUPPORTED',
      `train: workers > 1 starts the built worker script dist/training-worker.js, but this module runs from its TypeScript source (${own}); ` +
        `run the built package (pnpm build), or set ${trainingWorkerVariable} to a built training-worker.js`,
    );
  }
  return pathToFileURL(join(dirname(own), own.endsWith('.cjs') ? 'training-worker.cjs' : 'training-worker.js'));
}

/** One shard's work for a worker. */
export type ShardRequest = Omit<StepMessage, 'type' | 'id'>;

/** A worker's answer: the shard's loss (and its terms, with a teacher) and the gradients of the parameters it reached. */
export interface ShardGradients {
  readonly loss: number;
  readonly terms: GradientsMessage['terms'];
  readonly grads: PackedTensors;
}

interface Pending {
  readonly resolve: (message: FromWorker) => void;
  readonly reject: (error: LevelskipError) => void;
}

/** One worker thread and its queue of unanswered requests (answers come back in order). */
class TrainingWorker {
  private readonly worker: Worker;
  private readonly pending: Pending[] = [];
  private failure: LevelskipError | undefined;
  private ready = false;
  private terminating = false;
  private readonly exited: Promise<void>;

  constructor(
    private readonly label: string,
    script: URL,
  ) {
    this.worker = new Worker(script, { name: label });
    liveWorkers += 1;
    this.exited = new Promise((resolveExit) => {
      this.worker.once('exit', (code) => {
        liveWorkers -= 1;
        if (!this.terminating) this.fail(new Error(`the thread exited unexpectedly (exit code ${code})`));
        resolveExit();
      });
    });
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'error') {
        const cause = new Error(message.message);
        if (message.stack !== undefined) cause.stack = message.stack;
        this.fail(cause, message.code);
        return;
      }
      if (message.type === 'ready') this.ready = true;
      this.pending.shift()?.resolve(message);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('messageerror', (error) => this.fail(error));
  }

  private fail(cause: unknown, code?: string): void {
    if (this.failure !== undefined || this.terminating) return;
    const message = cause instanceof Error ? cause.message : String(cause);
    // The worker's own LevelskipError code (e.g. BACKEND_UNAVAILABLE from its engine) is kept.
    const fallback: LevelskipErrorCode = this.ready ? 'INTERNAL' : 'BACKEND_UNAVAILABLE';
    const what = this.ready ? 'failed' : 'could not start';
    this.failure = new LevelskipError((code as LevelskipErrorCode | undefined) ?? fallback, `train: ${this.label} ${what}: ${message}\n(run with workers: 1 to train on the main thread only)`, { cause });
    for (const waiting of this.pending.splice(0)) waiting.reject(this.failure);
  }

  /** Posts a message that gets an answer. */
  request(message: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolveAnswer, reject) => {
      this.pending.push({ resolve: resolveAnswer, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  /** Posts a message without an answer (a failure surfaces at the next request). */
  send(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.failure === undefined) this.worker.postMessage(message, transfer);
  }

  /** Stops the thread; resolves once it has exited. */
  async terminate(): Promise<void> {
    this.terminating = true;
    for (const waiting of this.pending.splice(0)) waiting.reject(new LevelskipError('INTERNAL', `train: ${this.label} was terminated`));
    void this.worker.terminate();
    await this.exited;
  }
}

/** The started worker threads of one `train()` call. */
export interface TrainingWorkers {
  /** Number of worker threads. */
  readonly size: number;
  /**
   * Sends shard i to worker i (fewer shards than workers is fine) and resolves with their
   * answers in shard order. The arrays of the requests are transferred (unusable afterwards).
   *
   * @throws LevelskipError naming the worker when one fails.
   */
  gradients(shards: readonly ShardRequest[]): Promise<ShardGradients[]>;
  /** Sends new values of some parameters to every worker (their gradients of later shards use them). */
  sendParameters(params: PackedTensors): void;
  /** Terminates every worker; resolves when all have exited. Safe to call twice. */
  terminate(): Promise<void>;
}

/**
 * Starts `count` worker threads and initialises each with the engine, model and parameters.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` (or the worker's own code) naming the first worker
 *   that could not start, after terminating all of them; `UNSUPPORTED` when there is no built
 *   worker script (see `trainingWorkerScript`).
 */
export async function startTrainingWorkers(count: number, init: WorkerInit, script: URL = trainingWorkerScript()): Promise<TrainingWorkers> {
  const workers: TrainingWorker[] = [];
  let nextId = 0;
  const terminate = async (): Promise<void> => {
    await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  };
  try {
    for (let i = 0; i < count; i++) workers.push(new TrainingWorker(`training worker ${i + 1} of ${count}`, script));
    // Each worker gets its own copy of the parameters (structured clone).
    const answers = await Promise.allSettled(workers.map((worker) => worker.request({ type: 'init', ...init })));
    const failure = answers.find((answer) => answer.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  } catch (error) {
    await terminate();
    throw error;
  }
  return {
    size: count,
    async gradients(shards) {
      if (shards.length > workers.length) throw new LevelskipError('INTERNAL', `train: ${shards.length} shards for ${workers.length} workers`);
      const answers = shards.map((shard, i) => {
        const id = nextId++;
        const transfer = [shard.noisy.buffer, shard.noise.buffer] as ArrayBuffer[];
        return workers[i]!.request({ type: 'step', id, ...shard }, transfer).then((answer) => {
          const gradients = answer as GradientsMessage;
          if (gradients.type !== 'gradients' || gradients.id !== id) throw new LevelskipError('INTERNAL', `train: worker ${i + 1} answered ${answer.type} to step ${id}`);
          return { loss: gradients.loss, terms: gradients.terms, grads: gradients.grads };
        });
      });
      // Wait for every answer before failing, so no worker is left mid-request.
      const settled = await Promise.allSettled(answers);
      const failure = settled.find((answer) => answer.status === 'rejected');
      if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
      return settled.map((answer) => (answer as PromiseFulfilledResult<ShardGradients>).value);
    },
    sendParameters(params) {
      workers.forEach((worker, i) => {
        // The last worker takes the buffer itself; the others get copies.
        const last = i === workers.length - 1;
        worker.send({ type: 'params', params }, last ? [params.data.buffer as ArrayBuffer] : []);
      });
    },
    terminate,
  };
}
