/**
 * `train()`: skip-aware training of a level-skipping diffusion U-Net on TensorFlow.js
 * (Giladi et al., "Accelerating Diffusion Models using Adaptive Neural Network Architecture":
 * the network learns to denoise at the depths k its skip schedule will use), with ε-prediction
 * MSE (Ho et al. 2020, Algorithm 1), Adam, linear warm-up, global-norm clipping and an EMA of the
 * weights, checkpoints that resume exactly, and progress/abort; optionally distilled from a
 * frozen full-depth teacher (`teacher`, see distillation.ts).
 *
 * Reproducibility: every random choice comes from core's Philox `SeededRng` on fixed streams of
 * `seed` — initial weights (`randomWeights(spec, { seed })`), stream 1: k and t, stream 2: ε,
 * stream 3: dropout seeds, stream 4: data order — so the same seed, data and options give the
 * same weights, and a checkpoint stores each stream's position. A teacher draws nothing (it runs
 * without dropout), so adding one changes no random choice.
 *
 * With a `checkpointDir`, a run first checks that it can write there, takes core's exclusive
 * directory lock on it for the whole call (released on every way out: done, error, abort), and
 * removes the temporaries killed runs left; `resume` never silently starts over (see
 * `TrainOptions.resume`), and pruning never deletes a checkpoint past the current step.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  LevelskipError,
  SeededRng,
  acquireDirectoryLock,
  assertWritableDirectory,
  describeArchitecture,
  fillLabel,
  parameterLayout,
  randomWeights,
  sameSpec,
  type BuiltinFill,
  type DirectoryLock,
  type FillStrategy,
  type NamedTensors,
  type TrainingRecord,
  type UNetSpec,
} from '@levelskip/core';
import { ensureEngine, selectEngine, type TfjsEngine, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { iterableBatchSource, memoryBatchSource, type BatchSource, type InMemoryDataset, type TrainingBatch } from '../data/batch-source.js';
import { emaDecay } from '../optimizer/ema.js';
import { warmupLearningRate } from '../optimizer/learning-rate.js';
import { createTimestepSampler } from '../schemes/timestep-sampler.js';
import { dataParallelStep } from '../parallel/data-parallel-step.js';
import { createTeacher, disposeTeacher, packTeacher, type TeacherModel } from '../step/distillation.js';
import {
  checkTrainingBatchMemory,
  imageShapeOf,
  invalidOption,
  planTraining,
  trainingLimits,
  trainingThreads,
  type TrainNotice,
  type TrainOptions,
  type TrainingPlan,
} from './train-options.js';
import {
  findResumableCheckpoint,
  pruneTrainingCheckpoints,
  removeStaleCheckpointTemporaries,
  setAsideDamagedCheckpoint,
  stateFormatVersionOf,
  trainingStateFormat,
  weightsFingerprint,
  writeTrainingCheckpoint,
  type RunIdentity,
  type TrainingSnapshot,
  type UnreadableCheckpoint,
} from '../checkpoints/training-checkpoints.js';
import { createModelState, disposeModelState, noiseBatch, snapshotModel, stepContext, trainingStep, type ModelState, type StepContext } from '../step/training-step.js';
import { startTrainingWorkers, type TrainingWorkers } from '../parallel/training-workers.js';
import { packTensors, sizeOfShape } from '../parallel/worker-protocol.js';

/** RNG streams of the seed (see the file comment). */
const STREAMS = { timesteps: 1, noise: 2, dropout: 3, shuffle: 4 } as const;

export interface TrainStats {
  /** Steps completed in total (including those of the run resumed from). */
  readonly steps: number;
  /** The step this call started from (0 unless resumed). */
  readonly startStep: number;
  /** Images trained on in this call. */
  readonly images: number;
  /** Training throughput of this call: images / time spent in steps (checkpoint writing excluded). */
  readonly imagesPerSecond: number;
  /** Wall time of this call, checkpoints included (ms). */
  readonly durationMs: number;
  /** Training time of the whole run, over every resumed call (ms). */
  readonly totalDurationMs: number;
  /** The engine it ran on. */
  readonly engine: TfjsEngine;
  /** Threads that computed gradients (the main thread and `workers − 1` worker threads). */
  readonly workers: number;
}

export interface TrainResult {
  /** EMA weights (sample with these), diffusers names, PyTorch layouts. */
  readonly weights: NamedTensors;
  /** The optimised weights themselves. */
  readonly rawWeights: NamedTensors;
  /** The loss of every step (the one optimised), from step 1 (including the steps of the run resumed from). */
  readonly losses: number[];
  /**
   * With a teacher: the two terms of every step's loss, aligned with `losses` (resumed steps
   * included): `distillation` = mean ‖ε_θ − ε_teacher‖², `eps` = mean ‖ε_θ − ε‖², so
   * losses[i] = (1 − mix) · distillation[i] + mix · eps[i] (to float32 rounding). Undefined
   * without a teacher.
   */
  readonly lossTerms: { readonly distillation: number[]; readonly eps: number[] } | undefined;
  readonly stats: TrainStats;
  /** The last checkpoint written (or resumed from), if any. */
  readonly checkpoint: string | undefined;
  /** The checkpoint this call resumed from, if any. */
  readonly resumedFrom: string | undefined;
  /**
   * Checkpoints that did not load when resuming (newer than `resumedFrom`, or all of them after a
   * `'restart-if-unreadable'` fresh start), each moved aside to `movedTo` (`step-XXXXXXX.damaged`).
   */
  readonly damagedCheckpoints: readonly { readonly dir: string; readonly movedTo: string; readonly reason: string }[];
}

/** The run's identity; `teacher` is the teacher's `weightsFingerprint`, computed once per call. */
function identityOf(plan: TrainingPlan, teacher: string | undefined): RunIdentity {
  return {
    seed: String(plan.seed),
    scheme: plan.scheme,
    batchSize: plan.batchSize,
    fill: fillLabel(plan.fill as FillStrategy<unknown>),
    dataKind: plan.dataKind,
    dataCount: plan.dataKind === 'memory' ? (plan.data as InMemoryDataset).count : undefined,
    trainTimesteps: plan.spec.trainTimesteps,
    // Always present (undefined without a teacher), so that a teacher on one side only is a difference.
    teacher,
    teacherMix: plan.teacher?.mix,
  };
}

/**
 * Checks that a checkpoint belongs to this run. A different teacher or mix is refused like any
 * other setting: the run would no longer reproduce an uninterrupted one, and a record of the
 * switch would leave the checkpoint's single training record wrong about its earlier steps.
 */
function checkResumable(dir: string, snapshotSpec: UNetSpec, saved: RunIdentity, current: RunIdentity, plan: TrainingPlan): void {
  if (!sameSpec(snapshotSpec, plan.spec)) {
    throw invalidOption('resume', `found ${dir}, a checkpoint of a different spec; resume with the same spec or use another checkpointDir`);
  }
  for (const key of Object.keys(current) as (keyof RunIdentity)[]) {
    if (saved[key] !== current[key]) {
      const teacherHint =
        key === 'teacher' || key === 'teacherMix'
          ? ' (to distil further from another teacher or mix, start a new run in another checkpointDir with initialWeights: the checkpoint\'s weights)'
          : '';
      throw invalidOption(
        'resume',
        `found ${dir}, written with ${key} = ${JSON.stringify(saved[key])}, but this call has ${key} = ${JSON.stringify(current[key])}; resume with the same settings or use another checkpointDir${teacherHint}`,
      );
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function abortedError(step: number, checkpoint: string | undefined, reason: unknown): LevelskipError {
  const where = checkpoint === undefined ? '' : `; the state is saved in ${checkpoint} (resume with resume: true)`;
  return new LevelskipError('ABORTED', `training was aborted after step ${step}${where}`, { cause: reason });
}

function trainingMetadata(
  plan: TrainingPlan,
  identity: RunIdentity,
  engine: TfjsEngine,
  workers: number,
  step: number,
  targetSteps: number | undefined,
  elapsedMs: number,
  images: number,
  losses: readonly number[],
  lossTerms: { readonly distillation: readonly number[]; readonly eps: readonly number[] } | undefined,
): TrainingRecord {
  const schedule = plan.schedule;
  const last = (values: readonly number[]): number | null => (values.length === 0 ? null : values[values.length - 1]!);
  return {
    weights: 'ema',
    scheme: plan.scheme,
    schedule: schedule === undefined ? null : (schedule.toJSON() ?? schedule.description),
    fill: fillLabel(plan.fill as FillStrategy<unknown>),
    steps: step,
    targetSteps: targetSteps ?? null,
    batchSize: plan.dataKind === 'memory' ? plan.batchSize : null,
    images,
    seed: plan.seed,
    lr: plan.lr,
    warmup: plan.warmup,
    ema: plan.ema,
    emaWarmup: plan.emaWarmup,
    gradClip: plan.gradClip ?? null,
    adam: plan.adam,
    noiseSchedule: plan.noiseSchedule.config,
    engine,
    workers,
    durationMs: Math.round(elapsedMs),
    finalLoss: last(losses),
    // Only distillation runs carry these keys, so plain runs' records are unchanged.
    ...(plan.teacher === undefined || lossTerms === undefined
      ? {}
      : {
          teacher: { fingerprint: identity.teacher, mix: plan.teacher.mix },
          finalDistillationLoss: last(lossTerms.distillation),
          finalEpsLoss: last(lossTerms.eps),
        }),
  };
}

/**
 * Trains a level-skipping U-Net (see the package README, "Training").
 *
 * @returns the EMA and raw weights (PyTorch layouts), the loss of every step and throughput stats.
 * @throws LevelskipError `INVALID_OPTION` (naming the field) and the other validation codes before
 *   anything runs; `BACKEND_UNAVAILABLE` when the engine cannot start; `ABORTED` when `signal`
 *   fires (after the current step, and after writing a checkpoint when `checkpointDir` is set);
 *   `IO_ERROR` when `checkpointDir` is not writable (checked before the first step), when another
 *   run holds its lock (the message names that process), or when a checkpoint cannot be written;
 *   `INVALID_OPTION` (path `batchSize`) when the estimated memory exceeds `maxMemoryBytes`;
 *   `INVALID_OPTION` (path `lr`) when the loss becomes NaN or infinite; `INVALID_OPTION` (path
 *   `resume`) when the checkpoint to resume was written with other settings (a different teacher
 *   or mix included); `CHECKPOINT_CORRUPT` (path `resume`) when `resume: true` finds checkpoints
 *   but none loads (each one listed with its reason).
 *
 * @example
 * const { weights, losses } = await train({
 *   spec: presets.mnistSmall, data: await loadMnist({ count: 1024 }), steps: 2000, batchSize: 16,
 *   scheme: 'schedule-aware', schedule: powerSchedule({ c: 2 }), fill: zeroFill, seed: 1,
 * });
 *
 * @example Distillation from a shipped full-depth model (half distillation, half ε loss)
 * const full = await loadCheckpoint('models/mnist-full');
 * const run = await train({
 *   spec: full.spec, data, steps: 3000, initialWeights: full.weights,
 *   scheme: 'schedule-aware', schedule: powerSchedule({ c: 2 }),
 *   teacher: { weights: full.weights, mix: 0.5 },
 * });
 * // run.lossTerms.distillation[i], run.lossTerms.eps[i]: the two terms of step i + 1's loss.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const plan = planTraining(options);
  if (plan.signal?.aborted === true) throw abortedError(0, undefined, plan.signal.reason);
  const started = performance.now();
  const notify = noticeSink(plan.onNotice);
  let lock: DirectoryLock | undefined;
  if (plan.checkpointDir !== undefined) {
    // Before anything else: a directory that cannot be written fails now, not at the first checkpoint.
    await assertWritableDirectory(plan.checkpointDir, { what: 'checkpointDir' }).catch((error: unknown) => {
      throw LevelskipError.is(error)
        ? new LevelskipError(error.code, `train: ${error.message}`, { cause: error, issues: [{ path: ['checkpointDir'], message: error.message }] })
        : error;
    });
    if (plan.lock) lock = await acquireDirectoryLock(plan.checkpointDir, { purpose: 'train() checkpointDir' });
  }
  try {
    if (plan.checkpointDir !== undefined) {
      const removed = await removeStaleCheckpointTemporaries(plan.checkpointDir);
      if (removed.length > 0) {
        notify({
          kind: 'stale-temporaries',
          level: 'info',
          message: `removed ${removed.length} temporary ${removed.length === 1 ? 'directory' : 'directories'} left in ${plan.checkpointDir} by interrupted checkpoint writes`,
          paths: removed,
        });
      }
    }
    return await runTraining(plan, started, notify);
  } finally {
    await lock?.release();
  }
}

/** Where notices go: the caller's `onNotice`, or warnings to `process.emitWarning`. */
function noticeSink(onNotice: TrainingPlan['onNotice']): (notice: TrainNotice) => void {
  if (onNotice !== undefined) return onNotice;
  return (notice) => {
    if (notice.level === 'warning') process.emitWarning(notice.message, { type: 'LevelskipWarning', code: `LEVELSKIP_${notice.kind.toUpperCase().replaceAll('-', '_')}` });
  };
}

/** The refusal of `resume: true` when checkpoints exist but none loads. */
function noLoadableCheckpoint(dir: string, unreadable: readonly UnreadableCheckpoint[]): LevelskipError {
  const listed = unreadable.map(({ dir: candidate, reason }) => `  ${candidate}: ${reason}`);
  return new LevelskipError(
    'CHECKPOINT_CORRUPT',
    [
      `train: resume: none of the ${unreadable.length} checkpoint${unreadable.length === 1 ? '' : 's'} in ${dir} loads, so there is nothing to resume from:`,
      ...listed,
      `Nothing was changed. To start again from step 0 instead, pass resume: 'restart-if-unreadable' (CLI: --restart-if-unreadable); the damaged checkpoints are then kept as step-….damaged.`,
    ].join('\n'),
    { issues: unreadable.map(({ dir: candidate, reason }) => ({ path: ['resume'], message: `${candidate}: ${reason}` })), cause: unreadable[0]?.error },
  );
}

/** What `resume` finds in the checkpoint directory: the snapshot to continue from (if any), damaged ones set aside. */
async function resumePoint(
  plan: TrainingPlan,
  identity: RunIdentity,
  notify: (notice: TrainNotice) => void,
): Promise<{ from: string | undefined; snapshot: TrainingSnapshot | undefined; damaged: TrainResult['damagedCheckpoints'] }> {
  if (plan.resume === false) return { from: undefined, snapshot: undefined, damaged: [] };
  const dir = plan.checkpointDir!;
  const { latest, unreadable } = await findResumableCheckpoint(dir);
  if (latest === undefined && unreadable.length > 0 && plan.resume === true) throw noLoadableCheckpoint(dir, unreadable);
  // Checked before anything moves: a refusal leaves the directory as it was.
  if (latest !== undefined) checkResumable(latest.dir, latest.snapshot.spec, latest.snapshot.state.identity, identity, plan);
  const damaged: { dir: string; movedTo: string; reason: string }[] = [];
  for (const candidate of unreadable) damaged.push({ dir: candidate.dir, movedTo: await setAsideDamagedCheckpoint(candidate.dir), reason: candidate.reason });
  if (damaged.length > 0) {
    const where = latest === undefined ? 'starting again from step 0 (resume: restart-if-unreadable)' : `resuming from the older ${latest.dir}`;
    notify({
      kind: 'damaged-checkpoints',
      level: 'warning',
      message: `${damaged.length} checkpoint${damaged.length === 1 ? '' : 's'} in ${dir} did not load and ${damaged.length === 1 ? 'was' : 'were'} moved aside; ${where}:\n${damaged
        .map((d) => `  ${d.movedTo}: ${d.reason}`)
        .join('\n')}`,
      paths: damaged.map((d) => d.movedTo),
    });
  }
  if (latest === undefined) {
    notify({
      kind: 'fresh-start',
      level: 'info',
      message: damaged.length === 0 ? `no checkpoint in ${dir} yet: starting from step 0` : `no checkpoint in ${dir} loads: starting from step 0`,
      paths: [],
    });
    return { from: undefined, snapshot: undefined, damaged };
  }
  return { from: latest.dir, snapshot: latest.snapshot, damaged };
}

async function runTraining(plan: TrainingPlan, started: number, notify: (notice: TrainNotice) => void): Promise<TrainResult> {
  const { spec, signal } = plan;
  // Hashed once per call: every checkpoint records it, and resuming compares it.
  const identity = identityOf(plan, plan.teacher === undefined ? undefined : weightsFingerprint(plan.teacher.spec, plan.teacher.weights));
  // Before the engine starts: a checkpoint that cannot be resumed is refused at once.
  const { from: resumedFrom, snapshot, damaged: damagedCheckpoints } = await resumePoint(plan, identity, notify);

  const { engine, tfBackend } = await selectEngine(plan.engine);
  const activate = (): void => ensureEngine(tfBackend);
  const arch = describeArchitecture(spec);
  const imageShape = imageShapeOf(spec);
  const names = parameterLayout(spec).map((entry) => entry.name);
  const sampler = createTimestepSampler(plan.scheme, { levels: arch.levels, trainTimesteps: spec.trainTimesteps, schedule: plan.schedule });

  const root = new SeededRng(plan.seed);
  const rng = {
    timesteps: snapshot ? SeededRng.fromState(snapshot.state.rng.timesteps) : root.fork(STREAMS.timesteps),
    noise: snapshot ? SeededRng.fromState(snapshot.state.rng.noise) : root.fork(STREAMS.noise),
    dropout: snapshot ? SeededRng.fromState(snapshot.state.rng.dropout) : root.fork(STREAMS.dropout),
  };
  let source: BatchSource;
  const position = snapshot?.state.data;
  if (plan.dataKind === 'memory') {
    source = memoryBatchSource(
      plan.data as InMemoryDataset,
      imageShape,
      plan.batchSize,
      root.fork(STREAMS.shuffle),
      position?.kind === 'memory' ? position : undefined,
    );
  } else {
    source = iterableBatchSource(
      plan.data as AsyncIterable<TrainingBatch>,
      imageShape,
      plan.steps === undefined ? plan.epochs : undefined,
      position?.kind === 'iterable' ? position : undefined,
    );
  }
  const targetStepsOf = (): number | undefined => {
    if (plan.steps !== undefined) return plan.steps;
    if (source.epochSize !== undefined) return Math.ceil((plan.epochs! * source.epochSize) / plan.batchSize);
    const perPass = source.batchesPerPass();
    return perPass === undefined ? undefined : perPass * plan.epochs!;
  };

  activate();
  let state: ModelState;
  if (snapshot) {
    state = createModelState(names, snapshot.raw, snapshot.ema, { m: snapshot.adamM, v: snapshot.adamV, steps: snapshot.state.adamSteps });
  } else {
    const initial = plan.initialWeights ?? randomWeights(spec, { seed: plan.seed });
    state = createModelState(names, initial, initial);
  }
  // Uploaded once for the whole run; disposed with the state in the finally below.
  const teacher: TeacherModel | undefined = plan.teacher === undefined ? undefined : createTeacher(plan.teacher.spec, plan.teacher.weights, plan.teacher.mix);
  const context: StepContext = stepContext(state, {
    arch,
    ops: createTfjsTensorOps(`tfjs-${engine}`, activate),
    fill: plan.fill,
    imageShape,
    ema: plan.ema,
    gradClip: plan.gradClip,
    adam: plan.adam,
    teacher,
  });
  const threads = trainingThreads(plan, engine, availableParallelism());
  let workers: TrainingWorkers | undefined;

  const startStep = snapshot?.state.step ?? 0;
  const losses = snapshot ? Array.from(snapshot.losses) : [];
  // checkResumable made sure a resumed distillation run's checkpoint had a teacher, hence its terms.
  const lossTerms =
    teacher === undefined
      ? undefined
      : {
          distillation: snapshot?.lossTerms === undefined ? [] : Array.from(snapshot.lossTerms.distillation),
          eps: snapshot?.lossTerms === undefined ? [] : Array.from(snapshot.lossTerms.eps),
        };
  const priorMs = snapshot?.state.elapsedMs ?? 0;
  const priorImages = snapshot?.state.images ?? 0;
  let step = startStep;
  let images = 0;
  let stepMs = 0;
  let checkpoint = resumedFrom;
  let checkpointStep = resumedFrom === undefined ? -1 : startStep;
  let checkedBatch = 0;

  const writeCheckpoint = async (): Promise<void> => {
    if (plan.checkpointDir === undefined || checkpointStep === step) return;
    const host = await snapshotModel(state);
    const elapsedMs = priorMs + stepMs;
    checkpoint = await writeTrainingCheckpoint(
      plan.checkpointDir,
      spec,
      {
        state: {
          format: trainingStateFormat,
          formatVersion: stateFormatVersionOf(identity),
          step,
          elapsedMs,
          images: priorImages + images,
          adamSteps: host.adamSteps,
          rng: { timesteps: rng.timesteps.state(), noise: rng.noise.state(), dropout: rng.dropout.state() },
          data: source.position(),
          identity,
        },
        ema: host.ema,
        raw: host.raw,
        adamM: host.adamM,
        adamV: host.adamV,
        losses: Float32Array.from(losses),
        lossTerms: lossTerms === undefined ? undefined : { distillation: Float32Array.from(lossTerms.distillation), eps: Float32Array.from(lossTerms.eps) },
      },
      trainingMetadata(plan, identity, engine, threads, step, targetStepsOf(), elapsedMs, priorImages + images, losses, lossTerms),
    );
    checkpointStep = step;
    // Only checkpoints up to this step: a later one on disk is not this run's to delete.
    await pruneTrainingCheckpoints(plan.checkpointDir, plan.keepLast, step);
  };

  try {
    if (threads > 1) workers = await startWorkers(threads - 1, engine, plan, state, teacher);
    for (;;) {
      const target = targetStepsOf();
      if (target !== undefined && step >= target) break;
      const batch = await source.next();
      if (batch === undefined) break;
      if (plan.dataKind === 'iterable' && batch.count > checkedBatch) {
        // An iterable's batch size is known only now; the in-memory one was checked by planTraining.
        if (batch.count > trainingLimits.batchSize) {
          throw invalidOption('data', `yielded a batch of ${batch.count} images; at most ${trainingLimits.batchSize} per batch`);
        }
        checkTrainingBatchMemory(spec, batch.count, plan.maxMemoryBytes);
        checkedBatch = batch.count;
      }
      const stepStart = performance.now();
      activate();
      const { k, timesteps } = sampler.draw(rng.timesteps, batch.count);
      const noise = rng.noise.normal(batch.images.length);
      const dropoutSeed = rng.dropout.integer(2 ** 31);
      const lr = warmupLearningRate(step + 1, plan.lr, plan.warmup);
      const decay = emaDecay(step + 1, plan.ema, plan.emaWarmup);
      const noised = noiseBatch(batch.images, noise, timesteps, imageShape, plan.noiseSchedule);
      let lossValue: number;
      let normValue: number;
      let termValues: { distillation: number; eps: number } | undefined;
      if (workers === undefined) {
        const { loss, gradNorm, terms } = trainingStep(context, noised, k, dropoutSeed, lr, decay);
        [lossValue, normValue] = [(await loss.data())[0]!, (await gradNorm.data())[0]!];
        if (terms !== undefined) termValues = { distillation: (await terms.distillation.data())[0]!, eps: (await terms.eps.data())[0]! };
        tf.dispose([loss, gradNorm, ...(terms === undefined ? [] : [terms.distillation, terms.eps])]);
      } else {
        ({ loss: lossValue, terms: termValues, gradNorm: normValue } = await dataParallelStep(context, workers, noised, k, dropoutSeed, lr, decay));
      }
      stepMs += performance.now() - stepStart;
      step += 1;
      images += batch.count;
      losses.push(lossValue);
      if (lossTerms !== undefined && termValues !== undefined) {
        lossTerms.distillation.push(termValues.distillation);
        lossTerms.eps.push(termValues.eps);
      }
      if (!Number.isFinite(lossValue)) {
        throw new LevelskipError('INVALID_OPTION', `train: the loss became ${lossValue} at step ${step} (training diverged); lower lr, raise warmup or enable gradClip`, {
          issues: [{ path: ['lr'], message: `the loss became ${lossValue} at step ${step}` }],
        });
      }
      if (plan.onProgress !== undefined) {
        const steps = targetStepsOf();
        const done = step - startStep;
        await plan.onProgress({
          step,
          steps,
          loss: lossValue,
          distillationLoss: termValues?.distillation,
          epsLoss: termValues?.eps,
          lr,
          k,
          gradNorm: normValue,
          imagesPerSecond: images / (stepMs / 1000),
          elapsedMs: performance.now() - started,
          etaMs: steps === undefined ? undefined : (stepMs / done) * (steps - step),
        });
      }
      if (plan.checkpointDir !== undefined && step % plan.checkpointEvery === 0) await writeCheckpoint();
      // Read through a function: TypeScript would narrow `aborted` to false from the check before the loop.
      if (isAborted(signal)) {
        await writeCheckpoint();
        throw abortedError(step, plan.checkpointDir === undefined ? undefined : checkpoint, signal?.reason);
      }
      // Lets timers and I/O (an abort, a progress display) run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await writeCheckpoint();
    const host = await snapshotModel(state);
    return {
      weights: host.ema,
      rawWeights: host.raw,
      losses,
      lossTerms,
      stats: {
        steps: step,
        startStep,
        images,
        imagesPerSecond: stepMs === 0 ? 0 : images / (stepMs / 1000),
        durationMs: performance.now() - started,
        totalDurationMs: priorMs + stepMs,
        engine,
        workers: threads,
      },
      checkpoint,
      resumedFrom,
      damagedCheckpoints,
    };
  } finally {
    disposeModelState(state);
    if (teacher !== undefined) disposeTeacher(teacher);
    // Every path out (done, error, abort) stops the workers before train() settles.
    await workers?.terminate();
  }
}

/** Starts `count` worker threads holding copies of the state's parameters (and of the teacher, if any). */
function startWorkers(count: number, engine: TfjsEngine, plan: TrainingPlan, state: ModelState, teacher: TeacherModel | undefined): Promise<TrainingWorkers> {
  const shapes = state.names.map((name) => state.params.get(name)!.shape);
  const sizes = new Map(state.names.map((name, i) => [name, sizeOfShape(shapes[i]!)]));
  const { data } = packTensors(state.names, sizes, (name) => state.params.get(name)!.dataSync() as Float32Array);
  // Only built-in fills get here (planTraining and trainingThreads keep custom ones on one thread).
  const fill: BuiltinFill = { kind: (plan.fill as BuiltinFill).kind };
  return startTrainingWorkers(count, { engine, spec: plan.spec, fill, names: state.names, shapes, params: data, teacher: teacher === undefined ? undefined : packTeacher(teacher) });
}

