/**
 * Entry of a training worker thread (built on its own as dist/training-worker.js and .cjs;
 * started by `train({ workers })`, see training-workers.ts). It runs its own tfjs engine (wasm or
 * cpu: tfjs state is per thread), holds a copy of the model's parameters as `tf.Variable`s, and
 * for each shard of a batch sends back the loss and gradients (`computeGradients`, the very
 * function the main thread runs for its own shard), so the main thread can add them up and take
 * the optimiser step (data parallelism: Krizhevsky, "One weird trick for parallelizing
 * convolutional neural networks", 2014; Goyal et al. 2017).
 *
 * A distillation run's teacher comes once, in `init`, and stays uploaded for the thread's life.
 *
 * Messages are handled strictly in order (worker-protocol.ts); any failure is reported as an
 * `error` message and leaves the worker unusable (the main thread then terminates it).
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { LevelskipError, describeArchitecture, parseUNetSpec } from '@levelskip/core';
import { selectEngine, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { unpackTeacher } from '../step/distillation.js';
import { computeGradients, type LossContext } from '../step/training-step.js';
import { packTensors, sizeOfShape, unpackTensors, type FromWorker, type InitMessage, type ParamsMessage, type StepMessage, type ToWorker } from './worker-protocol.js';

interface WorkerState {
  readonly context: LossContext;
  readonly params: Map<string, tf.Variable>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly sizes: ReadonlyMap<string, number>;
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

async function init(message: InitMessage): Promise<WorkerState> {
  const { engine } = await selectEngine(message.engine);
  const spec = parseUNetSpec(message.spec);
  const shapes = new Map(message.names.map((name, i) => [name, message.shapes[i]!]));
  const sizes = new Map(message.names.map((name, i) => [name, sizeOfShape(message.shapes[i]!)]));
  const params = new Map<string, tf.Variable>();
  unpackTensors({ names: message.names, data: message.params }, sizes, (name, values) => {
    const tensor = tf.tensor(values, [...shapes.get(name)!]);
    params.set(name, tf.variable(tensor, true));
    tensor.dispose();
  });
  const [c, h, w] = [spec.inChannels, spec.imageSize, spec.imageSize];
  const context: LossContext = {
    arch: describeArchitecture(spec),
    ops: createTfjsTensorOps(`tfjs-${engine}`),
    names: message.names,
    params,
    fill: message.fill,
    imageShape: [c, h, w],
    teacher: message.teacher === undefined ? undefined : unpackTeacher({ ...message.teacher, spec: parseUNetSpec(message.teacher.spec) }),
  };
  return { context, params, shapes, sizes };
}

function setParams(state: WorkerState, message: ParamsMessage): void {
  unpackTensors(message.params, state.sizes, (name, values) => {
    tf.tidy(() => state.params.get(name)!.assign(tf.tensor(values, [...state.shapes.get(name)!])));
  });
}

function step(state: WorkerState, message: StepMessage): void {
  const batch = { count: message.count, noisy: message.noisy, noise: message.noise, timesteps: message.timesteps };
  const { loss, names, grads, terms } = computeGradients(state.context, batch, message.k, message.dropoutSeed, message.normalizer);
  try {
    const byName = new Map(names.map((name, i) => [name, grads[i]!]));
    const packed = packTensors(names, state.sizes, (name) => byName.get(name)!.dataSync() as Float32Array);
    const termValues = terms === undefined ? undefined : { distillation: terms.distillation.dataSync()[0]!, eps: terms.eps.dataSync()[0]! };
    post({ type: 'gradients', id: message.id, loss: loss.dataSync()[0]!, terms: termValues, grads: packed }, [packed.data.buffer as ArrayBuffer]);
  } finally {
    tf.dispose([loss, ...grads, ...(terms === undefined ? [] : [terms.distillation, terms.eps])]);
  }
}

function reportError(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ type: 'error', code: LevelskipError.is(error) ? error.code : undefined, message: e.message, stack: e.stack });
}

if (parentPort === null) {
  throw new Error('training-worker is a worker thread started by train({ workers }); it cannot run on its own');
}

let state: WorkerState | undefined;
let failed = false;
// Messages are handled one after another, in order, even while `init` awaits the engine.
let queue: Promise<void> = Promise.resolve();
parentPort.on('message', (message: ToWorker) => {
  queue = queue.then(async () => {
    if (failed) return;
    try {
      if (message.type === 'init') {
        state = await init(message);
        post({ type: 'ready' });
      } else if (state === undefined) {
        throw new Error(`received "${message.type}" before "init"`);
      } else if (message.type === 'params') {
        setParams(state, message);
      } else {
        step(state, message);
      }
    } catch (error) {
      failed = true;
      reportError(error);
    }
  });
});
