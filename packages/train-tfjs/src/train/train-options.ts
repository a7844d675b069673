/**
 * The options of `train()` and their validation: every option is checked before the engine starts
 * or a step runs, and a bad one fails with `LevelskipError('INVALID_OPTION')` (or the code of the
 * thing that is wrong: `INVALID_SPEC`, `INVALID_SHAPE`, `WEIGHTS_MISMATCH`) naming the field. A
 * teacher's problems (its spec, weights or mix) are all `INVALID_OPTION`s naming `teacher.…`.
 */
import { availableParallelism } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import {
  LevelskipError,
  assertFillSupported,
  linearBetaSchedule,
  noiseScheduleFromConfig,
  parseUNetSpec,
  validateWeights,
  zeroFill,
  type FillStrategy,
  type NamedTensors,
  type NoiseSchedule,
  type NoiseScheduleConfig,
  type SkipSchedule,
  type UNetSpec,
  type UNetSpecInput,
  fillDefinition,
  isBuiltinFillKind,
  trainableFillKinds,
} from '@levelskip/core';
import { engineOrder, type TfjsEngineChoice } from '@levelskip/backend-tfjs';
import { defaultAdamOptions, type AdamOptions } from '../optimizer/adam.js';
import { checkInMemoryDataset, isInMemoryDataset, type InMemoryDataset, type TrainingBatch, type TrainingData } from '../data/batch-source.js';
import { trainingSchemes, type TrainingScheme } from '../schemes/timestep-sampler.js';
import { defaultMaxTrainingMemoryBytes, estimateTrainingMemory, formatBytes } from './training-memory.js';

/**
 * Upper bounds of train()'s numeric options (the CLI's flags have the same). They keep a typo
 * (`batchSize: 1e9`) from reaching an allocation; each is far above any sensible run.
 */
export const trainingLimits = {
  /** Optimiser steps (`steps`, and the steps `epochs` of an in-memory dataset make). */
  steps: 10_000_000,
  /** Passes over the data. */
  epochs: 100_000,
  /** Images per step. */
  batchSize: 4096,
  /** Adam's learning rate. */
  lr: 10,
  /** Warm-up steps. */
  warmup: 10_000_000,
  /** Steps between checkpoints. */
  checkpointEvery: 10_000_000,
  /** Checkpoints kept. */
  keepLast: 10_000,
  /** Global gradient-norm clip. */
  gradClip: 1e9,
} as const;

/**
 * A message of `train()` that is not a per-step progress report (see `TrainOptions.onNotice`):
 *
 * - `fresh-start` (info): `resume` was asked, but the checkpoint directory holds no checkpoint,
 *   or (with `resume: 'restart-if-unreadable'`) none that loads; training starts from step 0;
 * - `damaged-checkpoints` (warning): checkpoints that do not load were skipped and moved aside to
 *   `step-XXXXXXX.damaged` (`paths`: where they are now);
 * - `stale-temporaries` (info): leftovers of interrupted checkpoint writes of dead processes were
 *   removed (`paths`).
 */
export interface TrainNotice {
  readonly kind: 'fresh-start' | 'damaged-checkpoints' | 'stale-temporaries';
  readonly level: 'info' | 'warning';
  readonly message: string;
  readonly paths: readonly string[];
}

/** Sent after every training step. */
export interface TrainProgress {
  /** Steps completed (1-based; counts the steps of the run resumed from). */
  readonly step: number;
  /** Steps the run will take; undefined while unknown (an iterable with `epochs`, in its first pass). */
  readonly steps: number | undefined;
  /**
   * This step's loss, the one optimised: the ε-prediction MSE, or with a teacher
   * (1 − mix) · `distillationLoss` + mix · `epsLoss`.
   */
  readonly loss: number;
  /** With a teacher: this step's mean ‖ε_θ(x_t, t; k) − ε_teacher(x_t, t)‖²; undefined without one. */
  readonly distillationLoss: number | undefined;
  /** With a teacher: this step's ε-prediction MSE mean ‖ε_θ(x_t, t; k) − ε‖²; undefined without one (`loss` is that MSE then). */
  readonly epsLoss: number | undefined;
  /** This step's learning rate (after warm-up). */
  readonly lr: number;
  /** Levels skipped in this step's batch. */
  readonly k: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Images per second over this call so far. */
  readonly imagesPerSecond: number;
  /** Milliseconds since `train()` was called (engine start and resume included). */
  readonly elapsedMs: number;
  /** Estimated milliseconds left; undefined while `steps` is. */
  readonly etaMs: number | undefined;
}

/**
 * A frozen teacher for knowledge distillation (see `TrainOptions.teacher`). It runs the whole
 * network (k = 0) on the student's x_t and t, in inference mode, and is never trained.
 */
export interface TeacherOptions {
  /**
   * The teacher's architecture (default: the student's `spec`). It may differ from the student's
   * (e.g. a student with side paths, a teacher without), but must predict ε (`prediction: 'eps'`),
   * take the same images (`inChannels`, `imageSize`), give as many output channels and have the
   * same `trainTimesteps`.
   */
  readonly spec?: UNetSpec | UNetSpecInput;
  /**
   * The teacher's weights (PyTorch layouts, exactly the tensors of its spec), e.g.
   * `(await loadCheckpoint('models/mnist-full')).weights`.
   */
  readonly weights: NamedTensors;
  /**
   * m in L = (1 − m) · mean ‖ε_θ − ε_teacher‖² + m · mean ‖ε_θ − ε‖², in [0, 1] (default 0: pure
   * distillation; 1: the plain ε loss, the teacher only reported).
   */
  readonly mix?: number;
}

export interface TrainOptions {
  /** The architecture (a preset such as `presets.mnistSmall`, or any spec). */
  readonly spec: UNetSpec | UNetSpecInput;
  /**
   * In-memory `{ images, count, shape }` (NCHW in [-1, 1]; reshuffled every epoch), or an
   * (async) iterable of batches (Float32Array of n·C·H·W values, or `{ shape: [n, C, H, W], data }`).
   */
  readonly data: TrainingData;
  /** Optimiser steps to reach (counting resumed ones; at most 10^7). Exactly one of `steps` and `epochs`. */
  readonly steps?: number;
  /** Passes over the data (dataset: ⌈epochs · count / batchSize⌉ steps, at most 10^7; epochs at most 10^5). Exactly one of `steps` and `epochs`. */
  readonly epochs?: number;
  /** Images per step for an in-memory dataset (default 16, at most 4096); iterable batches are used as yielded (at most 4096 images). */
  readonly batchSize?: number;
  /** Adam's learning rate (default 2e-4; in (0, 10]). */
  readonly lr?: number;
  /** Linear warm-up steps (default 0, at most 10^7). */
  readonly warmup?: number;
  /** EMA decay of the weights, in [0, 1) (default 0.999); 0 makes the EMA the raw weights. */
  readonly ema?: number;
  /**
   * Warm the EMA up (default true): update s uses decay min(ema, (1 + s) / (10 + s)), so early
   * averages are not dominated by the random initial weights. See `emaDecay`.
   */
  readonly emaWarmup?: boolean;
  /** Clip the global gradient norm to this (default 1, at most 10^9); `false` turns clipping off. */
  readonly gradClip?: number | false;
  /** Adam's β1, β2, ε (default 0.9, 0.999, 1e-8). */
  readonly adam?: AdamOptions;
  /** How each batch picks k and t (default `uniform`); see `createTimestepSampler`. */
  readonly scheme?: TrainingScheme;
  /** The skip schedule the model will sample with; required for `schedule-aware`. */
  readonly schedule?: SkipSchedule;
  /** The fill the model will sample with (default zero); `interpolate` trains the side paths too. */
  readonly fill?: FillStrategy<tf.Tensor>;
  /** The noise schedule (default linear β 1e-4…0.02 over spec.trainTimesteps). */
  readonly noiseSchedule?: NoiseSchedule | NoiseScheduleConfig;
  /** Seed of every random choice: initial weights, data order, k, t, ε, dropout (default 0). */
  readonly seed?: number;
  /** Start from these weights (PyTorch layouts) instead of `randomWeights(spec, { seed })`. */
  readonly initialWeights?: NamedTensors;
  /**
   * Knowledge distillation (composes with every scheme and fill): the loss becomes
   * (1 − mix) · mean ‖ε_θ(x_t, t; k) − ε_teacher(x_t, t)‖² + mix · mean ‖ε_θ(x_t, t; k) − ε‖²,
   * where the frozen teacher runs at full depth (k = 0) on the same x_t and t. Its tensors are
   * uploaded once per run (and once per worker thread) and disposed at the end. A checkpoint
   * records the teacher (a fingerprint of its spec and weights) and the mix; resuming with
   * another teacher or mix is refused.
   */
  readonly teacher?: TeacherOptions;
  /** Where to write checkpoints (`step-XXXXXXX/` directories); none when absent. */
  readonly checkpointDir?: string;
  /** Write a checkpoint every this many steps (default 1000, at most 10^7), and always at the end. */
  readonly checkpointEvery?: number;
  /**
   * Keep only the newest this many checkpoints (default 3, at most 10^4). Only checkpoints up to
   * the current step are pruned; one of a later step (another run's) is never deleted.
   */
  readonly keepLast?: number;
  /**
   * Continue from the newest checkpoint in `checkpointDir` that loads (default false: start at
   * step 0).
   *
   * - `true`: a directory without any checkpoint starts at step 0 (a `fresh-start` notice says so).
   *   When newer checkpoints do not load but an older one does, training resumes from the older one
   *   and the damaged ones are moved aside to `step-XXXXXXX.damaged` (a `damaged-checkpoints`
   *   warning lists them). When checkpoints exist but none loads, train() refuses with
   *   `CHECKPOINT_CORRUPT`, listing each one and why it failed: silently starting over would
   *   discard the run.
   * - `'restart-if-unreadable'`: as `true`, but when none loads, the damaged ones are moved aside
   *   and training starts at step 0: the explicit "start over" for that case.
   */
  readonly resume?: boolean | 'restart-if-unreadable';
  /**
   * Take an exclusive lock on `checkpointDir` for the whole run (default true; core's
   * `acquireDirectoryLock`), so that a second run on the same directory fails at once with an
   * error naming the holder instead of both writing checkpoints. Pass false only when the caller
   * holds that lock itself (the CLI does).
   */
  readonly lock?: boolean;
  /**
   * The most memory the run may need by `estimateTrainingMemory` (activations of a batch, forward
   * and backward, plus parameters and Adam state), in bytes (default: half of the machine's
   * physical memory). Above it train() refuses before allocating anything; raise it (or pass
   * `Infinity`) to run anyway.
   */
  readonly maxMemoryBytes?: number;
  /**
   * Called with what is worth telling a user besides per-step progress: a fresh start although
   * `resume` was asked, damaged checkpoints skipped, stale temporaries removed (see `TrainNotice`).
   * Without it, warnings go to `process.emitWarning` and the rest is dropped.
   */
  readonly onNotice?: (notice: TrainNotice) => void;
  /** The tfjs engine (default `auto`). */
  readonly engine?: TfjsEngineChoice;
  /**
   * Threads that compute each step's gradients (default 1: the main thread only): the batch is
   * split into that many shards, one computed on the main thread and the others on Node worker
   * threads, each with its own wasm or cpu engine. `auto`: the machine's available parallelism,
   * at most 8. Only for the wasm and cpu engines (libtensorflow already uses every core). At most
   * 4 × the available parallelism (at least 8) and 64.
   */
  readonly workers?: number | 'auto';
  /** Called after every step; may return a promise, which is awaited. A throw stops training. */
  readonly onProgress?: (progress: TrainProgress) => void | Promise<void>;
  /** Stops training after the current step (writing a checkpoint when `checkpointDir` is set); `train` then rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Validated options with defaults filled in. */
export interface TrainingPlan {
  readonly spec: UNetSpec;
  readonly data: TrainingData;
  readonly dataKind: 'memory' | 'iterable';
  readonly steps: number | undefined;
  readonly epochs: number | undefined;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmup: number;
  readonly ema: number;
  readonly emaWarmup: boolean;
  readonly gradClip: number | undefined;
  readonly adam: Required<AdamOptions>;
  readonly scheme: TrainingScheme;
  readonly schedule: SkipSchedule | undefined;
  readonly fill: FillStrategy<tf.Tensor>;
  readonly noiseSchedule: NoiseSchedule;
  readonly seed: number;
  readonly initialWeights: NamedTensors | undefined;
  /** The teacher with its spec parsed and its mix filled in; undefined without one. */
  readonly teacher: { readonly spec: UNetSpec; readonly weights: NamedTensors; readonly mix: number } | undefined;
  readonly checkpointDir: string | undefined;
  readonly checkpointEvery: number;
  readonly keepLast: number;
  readonly resume: boolean | 'restart-if-unreadable';
  readonly lock: boolean;
  readonly maxMemoryBytes: number;
  readonly onNotice: TrainOptions['onNotice'];
  readonly engine: TfjsEngineChoice;
  /** As given (`auto` is resolved when the engine has started: see `trainingThreads`). */
  readonly workers: number | 'auto';
  readonly onProgress: TrainOptions['onProgress'];
  readonly signal: AbortSignal | undefined;
}

const ALLOWED: readonly (keyof TrainOptions)[] = [
  'spec',
  'data',
  'steps',
  'epochs',
  'batchSize',
  'lr',
  'warmup',
  'ema',
  'emaWarmup',
  'gradClip',
  'adam',
  'scheme',
  'schedule',
  'fill',
  'noiseSchedule',
  'seed',
  'initialWeights',
  'teacher',
  'checkpointDir',
  'checkpointEvery',
  'keepLast',
  'resume',
  'lock',
  'maxMemoryBytes',
  'engine',
  'workers',
  'onProgress',
  'onNotice',
  'signal',
];

/** An `INVALID_OPTION` error for `field`. */
export function invalidOption(field: string, message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `train: ${field} ${message}`, { issues: [{ path: field.split('.'), message }] });
}

type CountField = 'steps' | 'epochs' | 'batchSize' | 'checkpointEvery' | 'keepLast';

function positiveInteger(options: TrainOptions, field: CountField, fallback: number): number;
function positiveInteger(options: TrainOptions, field: CountField, fallback?: number): number | undefined;
function positiveInteger(options: TrainOptions, field: CountField, fallback?: number): number | undefined {
  const value: unknown = options[field];
  if (value === undefined) return fallback;
  const max = trainingLimits[field];
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max)) {
    throw invalidOption(field, `must be an integer from 1 to ${max.toLocaleString('en-US')}, got ${String(value)}`);
  }
  return value;
}

function numberIn(value: unknown, field: string, fallback: number, test: (v: number) => boolean, range: string): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isFinite(value) && test(value))) throw invalidOption(field, `must be a number ${range}, got ${String(value)}`);
  return value;
}

/** The spec's image shape [C, H, W]. */
export function imageShapeOf(spec: UNetSpec): [number, number, number] {
  return [spec.inChannels, spec.imageSize, spec.imageSize];
}

function checkData(data: unknown, spec: UNetSpec): 'memory' | 'iterable' {
  if (isInMemoryDataset(data)) {
    checkInMemoryDataset(data as InMemoryDataset, imageShapeOf(spec));
    return 'memory';
  }
  const iterable = data as Partial<AsyncIterable<TrainingBatch> & Iterable<TrainingBatch>> | null;
  if (
    typeof iterable === 'object' &&
    iterable !== null &&
    !ArrayBuffer.isView(iterable) &&
    (typeof iterable[Symbol.asyncIterator] === 'function' || typeof iterable[Symbol.iterator] === 'function')
  ) {
    return 'iterable';
  }
  throw invalidOption('data', 'must be an in-memory dataset { images, count, shape } or an (async) iterable of batches');
}

function checkFill(fill: unknown, spec: UNetSpec): FillStrategy<tf.Tensor> {
  if (fill === undefined) return zeroFill;
  const kind = (fill as { kind?: unknown } | null)?.kind;
  // A stateful built-in fill (the cache) reuses features of an earlier sampling step: there is nothing to train.
  if (isBuiltinFillKind(kind) && !fillDefinition(kind).trainable) {
    throw invalidOption(
      'fill',
      `is "${kind}", which reuses features of an earlier sampling step and has nothing to train; train with one of ${trainableFillKinds.join(', ')} (a model trained with zero or duplicate samples with cache)`,
    );
  }
  try {
    assertFillSupported(spec, fill as FillStrategy<unknown>);
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError('INVALID_OPTION', `train: fill: ${error.message}`, { cause: error, issues: [{ path: ['fill'], message: error.message }] });
  }
  return fill as FillStrategy<tf.Tensor>;
}

function checkNoiseSchedule(value: unknown, spec: UNetSpec): NoiseSchedule {
  const T = spec.trainTimesteps;
  if (value === undefined) return linearBetaSchedule({ trainTimesteps: T });
  let schedule: NoiseSchedule;
  if (typeof value === 'object' && value !== null && (value as NoiseSchedule).alphasCumprod instanceof Float64Array) {
    schedule = value as NoiseSchedule;
  } else {
    try {
      const config = value as NoiseScheduleConfig;
      schedule = noiseScheduleFromConfig(config.trainTimesteps === undefined ? { ...config, trainTimesteps: T } : config);
    } catch (error) {
      if (!LevelskipError.is(error)) throw error;
      throw new LevelskipError('INVALID_OPTION', `train: noiseSchedule: ${error.message}`, { cause: error, issues: [{ path: ['noiseSchedule'], message: error.message }] });
    }
  }
  if (schedule.trainTimesteps !== T) {
    throw invalidOption('noiseSchedule', `has trainTimesteps = ${schedule.trainTimesteps} but the spec has trainTimesteps = ${T}; they must agree`);
  }
  return schedule;
}

function checkSeed(seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return seed;
  throw invalidOption('seed', `must be a non-negative safe integer, got ${String(seed)}`);
}

function checkAdam(adam: unknown): Required<AdamOptions> {
  if (adam === undefined) return defaultAdamOptions;
  if (typeof adam !== 'object' || adam === null) throw invalidOption('adam', 'must be an object { beta1?, beta2?, eps? }');
  const a = adam as Record<string, unknown>;
  for (const key of Object.keys(a)) if (!['beta1', 'beta2', 'eps'].includes(key)) throw invalidOption('adam', `has an unknown field "${key}" (allowed: beta1, beta2, eps)`);
  return {
    beta1: numberIn(a['beta1'], 'adam.beta1', defaultAdamOptions.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    beta2: numberIn(a['beta2'], 'adam.beta2', defaultAdamOptions.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    eps: numberIn(a['eps'], 'adam.eps', defaultAdamOptions.eps, (v) => v > 0, '> 0'),
  };
}

const TEACHER_FIELDS = ['spec', 'weights', 'mix'];

/** A core validation error of a teacher field as an `INVALID_OPTION` naming `teacher.<field>`, with a fix. */
function teacherError(field: 'spec' | 'weights', error: LevelskipError, fix: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `train: teacher.${field}: ${error.message}\n${fix}`, {
    cause: error,
    issues: error.issues.length === 0 ? [{ path: ['teacher', field], message: error.message }] : error.issues.map((issue) => ({ ...issue, path: ['teacher', field, ...issue.path] })),
  });
}

function checkTeacher(value: unknown, spec: UNetSpec): TrainingPlan['teacher'] {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw invalidOption('teacher', 'must be an object { weights, spec?, mix? }');
  const teacher = value as Record<string, unknown>;
  for (const key of Object.keys(teacher)) {
    if (!TEACHER_FIELDS.includes(key)) throw invalidOption('teacher', `has an unknown field "${key}" (allowed: ${TEACHER_FIELDS.join(', ')})`);
  }
  let teacherSpec = spec;
  if (teacher['spec'] !== undefined) {
    const prediction = (teacher['spec'] as { prediction?: unknown } | null)?.prediction;
    if (prediction !== undefined && prediction !== 'eps') {
      throw invalidOption(
        'teacher.spec',
        `predicts ${JSON.stringify(prediction)}, but distillation regresses the teacher's ε prediction (and the student predicts ε); use a teacher with prediction "eps"`,
      );
    }
    try {
      teacherSpec = parseUNetSpec(teacher['spec'] as UNetSpecInput);
    } catch (error) {
      if (!LevelskipError.is(error)) throw error;
      throw teacherError('spec', error, 'Pass the spec the teacher was trained with (a checkpoint stores it: loadCheckpoint(dir).spec).');
    }
    for (const field of ['inChannels', 'imageSize', 'outChannels', 'trainTimesteps'] as const) {
      if (teacherSpec[field] !== spec[field]) {
        throw invalidOption(
          'teacher.spec',
          `has ${field} = ${teacherSpec[field]} but spec has ${field} = ${spec[field]}; the teacher must denoise the student's images on the student's timesteps, so they must agree`,
        );
      }
    }
  }
  const weights = teacher['weights'];
  if (!(weights instanceof Map)) {
    throw invalidOption('teacher.weights', 'is required: the teacher\'s NamedTensors (PyTorch layouts), e.g. (await loadCheckpoint(dir)).weights');
  }
  try {
    validateWeights(teacherSpec, weights as NamedTensors);
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw teacherError(
      'weights',
      error,
      teacher['spec'] === undefined
        ? 'Without teacher.spec the teacher has the student\'s spec; pass the teacher\'s own spec as teacher.spec (loadCheckpoint(dir).spec).'
        : 'Pass the weights saved with teacher.spec (loadCheckpoint(dir) gives both).',
    );
  }
  const mix = numberIn(teacher['mix'], 'teacher.mix', 0, (v) => v >= 0 && v <= 1, 'in [0, 1] (the weight of the plain ε loss; 0 = pure distillation)');
  return { spec: teacherSpec, weights: weights as NamedTensors, mix };
}

/** Most threads `workers` accepts. */
export const maxTrainingWorkers = 64;
/** Most threads `workers: 'auto'` uses. */
export const autoTrainingWorkersCap = 8;

/** Most threads `workers` accepts on a machine of `parallelism` cores: 4 per core (at least 8), at most 64. */
export function maxWorkersFor(parallelism: number): number {
  return Math.min(maxTrainingWorkers, Math.max(autoTrainingWorkersCap, 4 * parallelism));
}

function checkWorkers(value: unknown, engine: TfjsEngineChoice, fill: FillStrategy<tf.Tensor>): number | 'auto' {
  if (value === undefined) return 1;
  if (value === 'auto') return value;
  const max = maxWorkersFor(availableParallelism());
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max)) {
    throw invalidOption(
      'workers',
      `must be an integer from 1 to ${max} (threads computing each step's gradients; 4 per core, at least 8, at most ${maxTrainingWorkers}) or 'auto', got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    );
  }
  if (value > 1 && (engine === 'node' || engine === 'node-gpu')) {
    throw invalidOption('workers', `is ${value}, but engine "${engine}" (libtensorflow) already uses every core (or the GPU); use workers: 1 with it, or engine "wasm" or "cpu" with worker threads`);
  }
  if (value > 1 && fill.kind === 'custom') {
    throw invalidOption('workers', `is ${value}, but the fill "${fill.name}" is a custom fill, whose function cannot be sent to worker threads; use workers: 1, or a built-in fill`);
  }
  return value;
}

/**
 * The number of threads a run uses: `workers` resolved for the engine that started and the
 * batch size. 1 on the libtensorflow engines (`auto` may pick one) and with a custom fill;
 * `auto` is the available parallelism, at most 8; never more than an in-memory dataset's batch
 * size.
 */
export function trainingThreads(plan: Pick<TrainingPlan, 'workers' | 'fill' | 'dataKind' | 'batchSize'>, engine: string, availableParallelism: number): number {
  if (engine === 'node' || engine === 'node-gpu' || plan.fill.kind === 'custom') return 1;
  let threads = plan.workers === 'auto' ? Math.min(Math.max(1, availableParallelism), autoTrainingWorkersCap) : plan.workers;
  if (plan.dataKind === 'memory') threads = Math.min(threads, plan.batchSize);
  return threads;
}

/**
 * Validates `train()`'s options and fills in defaults. Nothing runs on an engine.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field (and `INVALID_SPEC`,
 *   `INVALID_SHAPE`, `WEIGHTS_MISMATCH` for the spec, data shape or initial weights; a teacher's
 *   spec and weights fail with `INVALID_OPTION` naming `teacher.spec` / `teacher.weights`).
 */
export function planTraining(options: TrainOptions): TrainingPlan {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object { spec, data, steps | epochs, … }');
  for (const key of Object.keys(options)) {
    if (!(ALLOWED as readonly string[]).includes(key)) throw invalidOption(key, `is not an option of train (allowed: ${ALLOWED.join(', ')})`);
  }
  if (options.spec === undefined) throw invalidOption('spec', 'is required (e.g. presets.mnistSmall)');
  const spec = parseUNetSpec(options.spec);
  if (spec.prediction !== 'eps') {
    throw invalidOption('spec.prediction', `is ${JSON.stringify(spec.prediction)}, but train() minimises the ε loss (DDPM's simple loss), which trains an ε-predicting network; set spec.prediction to "eps"`);
  }
  if (options.data === undefined) throw invalidOption('data', 'is required');
  const dataKind = checkData(options.data, spec);

  const steps = positiveInteger(options, 'steps');
  const epochs = positiveInteger(options, 'epochs');
  if ((steps === undefined) === (epochs === undefined)) throw invalidOption('steps', 'and epochs are exclusive: pass exactly one of them');
  const batchSize = positiveInteger(options, 'batchSize', 16);
  const lr = numberIn(options.lr, 'lr', 2e-4, (v) => v > 0 && v <= trainingLimits.lr, `in (0, ${trainingLimits.lr}]`);
  const warmup = options.warmup === undefined ? 0 : options.warmup;
  if (!(typeof warmup === 'number' && Number.isSafeInteger(warmup) && warmup >= 0 && warmup <= trainingLimits.warmup)) {
    throw invalidOption('warmup', `must be an integer from 0 to ${trainingLimits.warmup.toLocaleString('en-US')} (steps), got ${String(warmup)}`);
  }
  const ema = numberIn(options.ema, 'ema', 0.999, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const emaWarmup = options.emaWarmup ?? true;
  if (typeof emaWarmup !== 'boolean') throw invalidOption('emaWarmup', `must be true or false, got ${String(emaWarmup)}`);
  let gradClip: number | undefined = 1;
  if (options.gradClip === false) gradClip = undefined;
  else gradClip = numberIn(options.gradClip, 'gradClip', 1, (v) => v > 0 && v <= trainingLimits.gradClip, 'in (0, 1e9] (or false for no clipping)');
  const adam = checkAdam(options.adam);

  const scheme = options.scheme ?? 'uniform';
  if (!trainingSchemes.includes(scheme)) throw invalidOption('scheme', `must be one of ${trainingSchemes.join(', ')}, got ${JSON.stringify(scheme)}`);
  const schedule = options.schedule;
  if (schedule !== undefined && (typeof schedule !== 'object' || schedule === null || typeof schedule.kAt !== 'function')) {
    throw invalidOption('schedule', 'must be a SkipSchedule such as powerSchedule({ c: 2 })');
  }
  if (scheme === 'schedule-aware' && schedule === undefined) {
    throw invalidOption('schedule', 'is required for scheme "schedule-aware": pass the skip schedule the model will sample with, e.g. powerSchedule({ c: 2 })');
  }
  const fill = checkFill(options.fill, spec);
  const noiseSchedule = checkNoiseSchedule(options.noiseSchedule, spec);
  const seed = checkSeed(options.seed);
  if (options.initialWeights !== undefined) validateWeights(spec, options.initialWeights);
  const teacher = checkTeacher(options.teacher, spec);

  const checkpointDir = options.checkpointDir;
  if (checkpointDir !== undefined && !(typeof checkpointDir === 'string' && checkpointDir.length > 0)) {
    throw invalidOption('checkpointDir', 'must be a non-empty directory path');
  }
  const checkpointEvery = positiveInteger(options, 'checkpointEvery', 1000);
  const keepLast = positiveInteger(options, 'keepLast', 3);
  const resume = options.resume ?? false;
  if (typeof resume !== 'boolean' && resume !== 'restart-if-unreadable') {
    throw invalidOption('resume', `must be true, false or 'restart-if-unreadable', got ${typeof resume === 'string' ? JSON.stringify(resume) : String(resume)}`);
  }
  if (resume !== false && checkpointDir === undefined) throw invalidOption('resume', 'needs checkpointDir: the directory to resume from');
  const lock = options.lock ?? true;
  if (typeof lock !== 'boolean') throw invalidOption('lock', `must be true or false, got ${String(lock)}`);
  if (options.onNotice !== undefined && typeof options.onNotice !== 'function') throw invalidOption('onNotice', 'must be a function');
  if (dataKind === 'memory' && epochs !== undefined) {
    const planned = Math.ceil((epochs * (options.data as InMemoryDataset).count) / batchSize);
    if (planned > trainingLimits.steps) {
      throw invalidOption('epochs', `make ${planned.toLocaleString('en-US')} steps (${epochs} × ${(options.data as InMemoryDataset).count} images / batch ${batchSize}), more than the ${trainingLimits.steps.toLocaleString('en-US')} a run may take; pass fewer epochs`);
    }
  }
  const maxMemoryBytes = checkMemory(options.maxMemoryBytes, spec, batchSize, dataKind);
  const engine = options.engine ?? 'auto';
  if (engine !== 'auto' && !engineOrder.includes(engine)) throw invalidOption('engine', `must be auto, ${engineOrder.join(', ')}; got ${JSON.stringify(engine)}`);
  const workers = checkWorkers(options.workers, engine, fill);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidOption('onProgress', 'must be a function');
  const signal = options.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')) {
    throw invalidOption('signal', 'must be an AbortSignal (new AbortController().signal)');
  }
  return {
    spec,
    data: options.data,
    dataKind,
    steps,
    epochs,
    batchSize,
    lr,
    warmup,
    ema,
    emaWarmup,
    gradClip,
    adam,
    scheme,
    schedule,
    fill,
    noiseSchedule,
    seed,
    initialWeights: options.initialWeights,
    teacher,
    checkpointDir,
    checkpointEvery,
    keepLast,
    resume,
    lock,
    maxMemoryBytes,
    onNotice: options.onNotice,
    engine,
    workers,
    onProgress: options.onProgress,
    signal,
  };
}

/**
 * Checks `maxMemoryBytes` and refuses a run whose estimated memory exceeds it. An iterable's batch
 * size is only known per batch, so for it this only validates the option (its batches are checked
 * as they come, see `checkTrainingBatchMemory`).
 */
function checkMemory(value: unknown, spec: UNetSpec, batchSize: number, dataKind: 'memory' | 'iterable'): number {
  let limit: number;
  if (value === undefined) limit = defaultMaxTrainingMemoryBytes();
  else if (typeof value === 'number' && value > 0 && !Number.isNaN(value)) limit = value;
  else throw invalidOption('maxMemoryBytes', `must be a number of bytes > 0 (Infinity: no limit), got ${String(value)}`);
  if (dataKind === 'memory') checkTrainingBatchMemory(spec, batchSize, limit);
  return limit;
}

/**
 * Refuses a batch of `batchSize` images whose estimated training memory exceeds `limit`.
 *
 * @throws LevelskipError `INVALID_OPTION` (path `batchSize`) saying how much it needs and how to override.
 */
export function checkTrainingBatchMemory(spec: UNetSpec, batchSize: number, limit: number): void {
  const estimate = estimateTrainingMemory(spec, batchSize);
  if (estimate.total <= limit) return;
  throw new LevelskipError(
    'INVALID_OPTION',
    `train: batchSize ${batchSize} needs about ${formatBytes(estimate.total)} for training (${formatBytes(estimate.activations)} of activations, forward and backward, ` +
      `and ${formatBytes(estimate.parameters)} of parameters and optimiser state), more than the limit of ${formatBytes(limit)}` +
      `; use a smaller batch, or raise the limit with maxMemoryBytes (CLI: --max-memory) if the machine has the memory`,
    { issues: [{ path: ['batchSize'], message: `needs about ${formatBytes(estimate.total)}, more than maxMemoryBytes = ${formatBytes(limit)}` }] },
  );
}
