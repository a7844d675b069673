/**
 * The options of `train()` and their validation: every option is checked before the engine starts
 * or a step runs, and a bad one fails with `LevelskipError('INVALID_OPTION')` (or the code of the
 * thing that is wrong: `INVALID_SPEC`, `INVALID_SHAPE`, `WEIGHTS_MISMATCH`) naming the field.
 */
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
} from '@levelskip/core';
import { engineOrder, type TfjsEngineChoice } from '../engine/select-engine.js';
import { defaultAdamOptions, type AdamOptions } from './adam.js';
import { checkInMemoryDataset, isInMemoryDataset, type InMemoryDataset, type TrainingBatch, type TrainingData } from './batch-source.js';
import { trainingSchemes, type TrainingScheme } from './timestep-sampler.js';

/** Sent after every training step. */
export interface TrainProgress {
  /** Steps completed (1-based; counts the steps of the run resumed from). */
  readonly step: number;
  /** Steps the run will take; undefined while unknown (an iterable with `epochs`, in its first pass). */
  readonly steps: number | undefined;
  /** This step's ε-prediction MSE. */
  readonly loss: number;
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

export interface TrainOptions {
  /** The architecture (a preset such as `presets.mnistSmall`, or any spec). */
  readonly spec: UNetSpec | UNetSpecInput;
  /**
   * In-memory `{ images, count, shape }` (NCHW in [-1, 1]; reshuffled every epoch), or an
   * (async) iterable of batches (Float32Array of n·C·H·W values, or `{ shape: [n, C, H, W], data }`).
   */
  readonly data: TrainingData;
  /** Optimiser steps to reach (counting resumed ones). Exactly one of `steps` and `epochs`. */
  readonly steps?: number;
  /** Passes over the data (dataset: ⌈epochs · count / batchSize⌉ steps). Exactly one of `steps` and `epochs`. */
  readonly epochs?: number;
  /** Images per step for an in-memory dataset (default 16); iterable batches are used as yielded. */
  readonly batchSize?: number;
  /** Adam's learning rate (default 2e-4). */
  readonly lr?: number;
  /** Linear warm-up steps (default 0). */
  readonly warmup?: number;
  /** EMA decay of the weights, in [0, 1) (default 0.999); 0 makes the EMA the raw weights. */
  readonly ema?: number;
  /**
   * Warm the EMA up (default true): update s uses decay min(ema, (1 + s) / (10 + s)), so early
   * averages are not dominated by the random initial weights. See `emaDecay`.
   */
  readonly emaWarmup?: boolean;
  /** Clip the global gradient norm to this (default 1); `false` turns clipping off. */
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
  /** Where to write checkpoints (`step-XXXXXXX/` directories); none when absent. */
  readonly checkpointDir?: string;
  /** Write a checkpoint every this many steps (default 1000), and always at the end. */
  readonly checkpointEvery?: number;
  /** Keep only the newest this many checkpoints (default 3). */
  readonly keepLast?: number;
  /** Continue from the newest complete checkpoint in `checkpointDir` (none: start afresh). */
  readonly resume?: boolean;
  /** The tfjs engine (default `auto`). */
  readonly engine?: TfjsEngineChoice;
  /**
   * Threads that compute each step's gradients (default 1: the main thread only): the batch is
   * split into that many shards, one computed on the main thread and the others on Node worker
   * threads, each with its own wasm or cpu engine. `auto`: the machine's available parallelism,
   * at most 8. Only for the wasm and cpu engines (libtensorflow already uses every core).
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
  readonly checkpointDir: string | undefined;
  readonly checkpointEvery: number;
  readonly keepLast: number;
  readonly resume: boolean;
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
  'checkpointDir',
  'checkpointEvery',
  'keepLast',
  'resume',
  'engine',
  'workers',
  'onProgress',
  'signal',
];

/** An `INVALID_OPTION` error for `field`. */
export function invalidOption(field: string, message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `train: ${field} ${message}`, { issues: [{ path: field.split('.'), message }] });
}

function positiveInteger(options: TrainOptions, field: 'steps' | 'epochs' | 'batchSize' | 'checkpointEvery' | 'keepLast', fallback: number): number;
function positiveInteger(options: TrainOptions, field: 'steps' | 'epochs' | 'batchSize' | 'checkpointEvery' | 'keepLast', fallback?: number): number | undefined;
function positiveInteger(options: TrainOptions, field: 'steps' | 'epochs' | 'batchSize' | 'checkpointEvery' | 'keepLast', fallback?: number): number | undefined {
  const value: unknown = options[field];
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)) throw invalidOption(field, `must be an integer ≥ 1, got ${String(value)}`);
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
  if (kind === 'cache') {
    throw invalidOption(
      'fill',
      'is "cache", which reuses features of an earlier sampling step and has nothing to train; train with the zero or duplicate fill (a model trained with either samples with cache) or interpolate',
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

/** Most threads `workers` accepts. */
export const maxTrainingWorkers = 64;
/** Most threads `workers: 'auto'` uses. */
export const autoTrainingWorkersCap = 8;

function checkWorkers(value: unknown, engine: TfjsEngineChoice, fill: FillStrategy<tf.Tensor>): number | 'auto' {
  if (value === undefined) return 1;
  if (value === 'auto') return value;
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= maxTrainingWorkers)) {
    throw invalidOption('workers', `must be an integer from 1 to ${maxTrainingWorkers} (threads computing each step's gradients) or 'auto', got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
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
 *   `INVALID_SHAPE`, `WEIGHTS_MISMATCH` for the spec, data shape or initial weights).
 */
export function planTraining(options: TrainOptions): TrainingPlan {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object { spec, data, steps | epochs, … }');
  for (const key of Object.keys(options)) {
    if (!(ALLOWED as readonly string[]).includes(key)) throw invalidOption(key, `is not an option of train (allowed: ${ALLOWED.join(', ')})`);
  }
  if (options.spec === undefined) throw invalidOption('spec', 'is required (e.g. presets.mnistSmall)');
  const spec = parseUNetSpec(options.spec);
  if (options.data === undefined) throw invalidOption('data', 'is required');
  const dataKind = checkData(options.data, spec);

  const steps = positiveInteger(options, 'steps');
  const epochs = positiveInteger(options, 'epochs');
  if ((steps === undefined) === (epochs === undefined)) throw invalidOption('steps', 'and epochs are exclusive: pass exactly one of them');
  const batchSize = positiveInteger(options, 'batchSize', 16);
  const lr = numberIn(options.lr, 'lr', 2e-4, (v) => v > 0, '> 0');
  const warmup = options.warmup === undefined ? 0 : options.warmup;
  if (!(typeof warmup === 'number' && Number.isSafeInteger(warmup) && warmup >= 0)) throw invalidOption('warmup', `must be an integer ≥ 0 (steps), got ${String(warmup)}`);
  const ema = numberIn(options.ema, 'ema', 0.999, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const emaWarmup = options.emaWarmup ?? true;
  if (typeof emaWarmup !== 'boolean') throw invalidOption('emaWarmup', `must be true or false, got ${String(emaWarmup)}`);
  let gradClip: number | undefined = 1;
  if (options.gradClip === false) gradClip = undefined;
  else gradClip = numberIn(options.gradClip, 'gradClip', 1, (v) => v > 0, '> 0 (or false for no clipping)');
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

  const checkpointDir = options.checkpointDir;
  if (checkpointDir !== undefined && !(typeof checkpointDir === 'string' && checkpointDir.length > 0)) {
    throw invalidOption('checkpointDir', 'must be a non-empty directory path');
  }
  const checkpointEvery = positiveInteger(options, 'checkpointEvery', 1000);
  const keepLast = positiveInteger(options, 'keepLast', 3);
  const resume = options.resume ?? false;
  if (typeof resume !== 'boolean') throw invalidOption('resume', `must be true or false, got ${String(resume)}`);
  if (resume && checkpointDir === undefined) throw invalidOption('resume', 'needs checkpointDir: the directory to resume from');
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
    checkpointDir,
    checkpointEvery,
    keepLast,
    resume,
    engine,
    workers,
    onProgress: options.onProgress,
    signal,
  };
}
