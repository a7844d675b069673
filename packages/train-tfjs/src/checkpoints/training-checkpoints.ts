/**
 * Training checkpoints on disk. Each one is a directory `<checkpointDir>/step-XXXXXXX/`
 * (the step, zero-padded to 7 digits) holding
 *
 *   model.json, model.safetensors          a levelskip checkpoint (core's `saveCheckpoint`): the
 *                                          EMA weights, with training metadata in model.json
 *   training-state.json                    step, per-parameter Adam step counts, RNG states,
 *                                          data position, elapsed time, run settings
 *   training-state.safetensors             raw weights (`raw/<name>`), Adam moments
 *                                          (`adam.m/<name>`, `adam.v/<name>`), all PyTorch
 *                                          layouts, and the loss of every step so far (`losses`;
 *                                          with a teacher also its two terms, `losses.distillation`
 *                                          and `losses.eps`)
 *
 * Plain runs write training-state format 1; distillation runs write format 2, which adds the
 * teacher to the run identity and the loss terms: a reader of format 1 would resume such a run
 * without its teacher, so format 2 makes it refuse instead. This version reads both.
 *
 * A checkpoint is assembled in a hidden temporary directory beside the final one, named like every
 * levelskip temporary (`.levelskip-<host>-<pid>-<random>.tmp`, core's `withTemporaryPath`), every
 * file fsynced, then renamed into place in one step, so a directory named `step-…` is complete
 * unless the disk itself lost data. Temporaries of dead processes are removed when a run starts
 * (`removeStaleCheckpointTemporaries`), including those of the older naming
 * `.step-XXXXXXX.tmp-<pid>-<hex>`.
 *
 * Resuming verifies every file of the newest checkpoint and falls back to the next older one when
 * it does not load; a damaged checkpoint newer than the one resumed from is renamed to
 * `step-XXXXXXX.damaged` (kept for inspection, never listed, resumed or pruned again), so that it
 * can neither be resumed by mistake later nor make pruning delete the run's new checkpoints.
 * Pruning itself only ever considers checkpoints up to the run's current step.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LevelskipError,
  StrictJsonError,
  isProcessAlive,
  loadCheckpoint,
  parameterLayout,
  parseSafetensors,
  parseStrictJson,
  readRegularFile,
  saveCheckpoint,
  removeStaleTemporaryFiles,
  serializeSafetensors,
  syncDirectory,
  temporaryPathFor,
  withTemporaryPath,
  writeNewFileSynced,
  type HostTensor,
  type NamedTensors,
  type RngState,
  type TrainingRecord,
  type UNetSpec,
} from '@levelskip/core';
import type { DataPosition } from '../data/batch-source.js';

const stateJsonFile = 'training-state.json';
const stateTensorsFile = 'training-state.safetensors';
const stateFormat = 'levelskip-training-state';
/** The newest training-state format this version reads and writes (see the file comment). */
const stateFormatVersion = 2;
/** The format of checkpoints without a teacher, readable by versions that know only format 1. */
const plainStateFormatVersion = 1;
const stepPattern = /^step-(\d{7,})$/;
/** Temporaries of versions before core's naming: `.step-0000042.tmp-<pid>-<hex>` and `…-old`. */
const legacyTemporaryPattern = /^\.step-\d{7,}\.tmp-(\d+)-[0-9a-f]+(?:-old)?$/;
/** training-state.json holds a few KiB (an Adam step count per parameter, RNG states); far larger is not one. */
const maxStateJsonBytes = 64 * 1024 * 1024;
/** Suffix of a damaged checkpoint set aside (see the file comment). */
const damagedSuffix = '.damaged';

/** Settings a resumed run must share with the run that wrote the checkpoint. */
export interface RunIdentity {
  readonly seed: string;
  readonly scheme: string;
  readonly batchSize: number;
  readonly fill: string;
  readonly dataKind: 'memory' | 'iterable';
  /** Images in the in-memory dataset (undefined for an iterable). */
  readonly dataCount: number | undefined;
  readonly trainTimesteps: number;
  /** The teacher's `weightsFingerprint` (undefined without a teacher). */
  readonly teacher?: string | undefined;
  /** The teacher's mix (undefined without a teacher). */
  readonly teacherMix?: number | undefined;
}

/** The training-state format a checkpoint of this run identity is written in. */
export function stateFormatVersionOf(identity: RunIdentity): number {
  return identity.teacher === undefined ? plainStateFormatVersion : stateFormatVersion;
}

/** Sorted-key JSON, so a spec's fingerprint does not depend on the order its keys were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

/**
 * `sha256:<hex>` of a spec and its weights (names, shapes and float32 bytes in `parameterLayout`
 * order): what a run identity records of a teacher, so that resuming with other teacher weights
 * is noticed without storing them. The weights must fit the spec (`validateWeights`).
 */
export function weightsFingerprint(spec: UNetSpec, weights: NamedTensors): string {
  const hash = createHash('sha256');
  hash.update(canonicalJson(spec));
  for (const { name } of parameterLayout(spec)) {
    const tensor = weights.get(name)!;
    hash.update(`\n${name}[${tensor.shape.join(',')}]\n`);
    hash.update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Contents of training-state.json. */
export interface TrainingStateJson {
  readonly format: typeof stateFormat;
  readonly formatVersion: number;
  /** Optimiser steps completed. */
  readonly step: number;
  /** Training time so far, over every run that led here (ms). */
  readonly elapsedMs: number;
  /** Images trained on so far. */
  readonly images: number;
  /** Adam step count of each parameter (parameters of skipped levels lag behind). */
  readonly adamSteps: Readonly<Record<string, number>>;
  readonly rng: { readonly timesteps: RngState; readonly noise: RngState; readonly dropout: RngState };
  readonly data: DataPosition;
  readonly identity: RunIdentity;
}

/** Everything needed to continue a run exactly. Tensors are host copies in PyTorch layouts. */
export interface TrainingSnapshot {
  readonly state: TrainingStateJson;
  readonly ema: NamedTensors;
  readonly raw: NamedTensors;
  readonly adamM: NamedTensors;
  readonly adamV: NamedTensors;
  readonly losses: Float32Array;
  /** With a teacher: the two terms of every step's loss (see `TrainResult.lossTerms`). */
  readonly lossTerms?: { readonly distillation: Float32Array; readonly eps: Float32Array } | undefined;
}

/** `step-0000042`. */
export function checkpointDirectoryName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

function ioError(what: string, error: unknown): LevelskipError {
  if (LevelskipError.is(error)) return error;
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new LevelskipError('IO_ERROR', `${what} (${reason}); check the directory's permissions and free disk space`, { cause: error });
}

function prefixed(prefix: string, tensors: NamedTensors, into: Map<string, HostTensor>): void {
  for (const [name, tensor] of tensors) into.set(`${prefix}/${name}`, tensor);
}

/**
 * Writes the checkpoint of `snapshot` as `<root>/step-XXXXXXX/` (replacing one of the same step),
 * with `training` as model.json's training metadata. Returns the directory.
 *
 * @throws LevelskipError `IO_ERROR` when the file system fails; nothing half-written is left
 *   under a `step-…` name.
 */
export async function writeTrainingCheckpoint(
  root: string,
  spec: UNetSpec,
  snapshot: TrainingSnapshot,
  training: TrainingRecord,
): Promise<string> {
  const final = join(root, checkpointDirectoryName(snapshot.state.step));
  try {
    await mkdir(root, { recursive: true });
    // Registered while it is written, so core's removeTemporaryFiles() (the CLI's SIGINT / SIGTERM /
    // exit hook) removes it, and removed here when anything fails.
    await withTemporaryPath(final, async (temporary) => {
      await saveCheckpoint(temporary, { spec, weights: snapshot.ema, training, dtype: 'F32' });
      const tensors = new Map<string, HostTensor>();
      prefixed('raw', snapshot.raw, tensors);
      prefixed('adam.m', snapshot.adamM, tensors);
      prefixed('adam.v', snapshot.adamV, tensors);
      tensors.set('losses', { shape: [snapshot.losses.length], data: snapshot.losses });
      if (snapshot.lossTerms !== undefined) {
        tensors.set('losses.distillation', { shape: [snapshot.lossTerms.distillation.length], data: snapshot.lossTerms.distillation });
        tensors.set('losses.eps', { shape: [snapshot.lossTerms.eps.length], data: snapshot.lossTerms.eps });
      }
      await writeNewFileSynced(join(temporary, stateTensorsFile), serializeSafetensors(tensors, { metadata: { format: stateFormat } }));
      await writeNewFileSynced(join(temporary, stateJsonFile), `${JSON.stringify(snapshot.state, null, 2)}\n`);
      await syncDirectory(temporary);
      await moveIntoPlace(temporary, final);
    });
    await syncDirectory(root);
    return final;
  } catch (error) {
    throw ioError(`Could not write the training checkpoint ${final}`, error);
  }
}

/**
 * Renames the complete directory `temporary` to `final`. A checkpoint of the same step (a run that
 * started again below it) is moved aside first and deleted after, or put back if the rename fails.
 */
async function moveIntoPlace(temporary: string, final: string): Promise<void> {
  const displaced = temporaryPathFor(final);
  const hadFinal = await rename(final, displaced).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  try {
    await rename(temporary, final);
  } catch (error) {
    if (hadFinal) await rename(displaced, final).catch(() => undefined);
    throw error;
  }
  if (hadFinal) await rm(displaced, { recursive: true, force: true });
}

/**
 * Removes what interrupted checkpoint writes of dead processes left in `root` (core's temporaries
 * and the older `.step-…tmp-<pid>-…` directories of this host). Another live process's are left
 * alone. Returns the paths removed.
 *
 * @throws LevelskipError `IO_ERROR` when the directory cannot be listed or an entry not removed.
 */
export async function removeStaleCheckpointTemporaries(root: string): Promise<string[]> {
  const removed = await removeStaleTemporaryFiles(root);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw ioError(`Could not list the checkpoint directory ${root}`, error);
  }
  for (const entry of entries) {
    const match = legacyTemporaryPattern.exec(entry);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isProcessAlive(pid)) continue;
    const path = join(root, entry);
    await rm(path, { recursive: true, force: true }).catch((error: unknown) => {
      throw ioError(`Could not remove the stale temporary directory ${path}`, error);
    });
    removed.push(path);
  }
  return removed;
}

/** The complete-looking checkpoints under `root` (named `step-…`), newest first. */
export async function listTrainingCheckpoints(root: string): Promise<{ step: number; dir: string }[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(`Could not list the checkpoint directory ${root}`, error);
  }
  return entries
    .map((entry) => ({ entry, match: stepPattern.exec(entry) }))
    .filter((e): e is { entry: string; match: RegExpExecArray } => e.match !== null)
    .map(({ entry, match }) => ({ step: Number(match[1]), dir: join(root, entry) }))
    .sort((a, b) => b.step - a.step);
}

/**
 * Deletes all but the newest `keepLast` checkpoints under `root` among those of step ≤ `upToStep`
 * (the run's current step). A checkpoint of a later step (left by another run) is never deleted:
 * the newest step number on disk is no proof of belonging to this run.
 */
export async function pruneTrainingCheckpoints(root: string, keepLast: number, upToStep: number): Promise<void> {
  const candidates = (await listTrainingCheckpoints(root)).filter(({ step }) => step <= upToStep);
  for (const { dir } of candidates.slice(keepLast)) {
    // Renamed to a temporary name first (one atomic step), so a kill during the recursive delete
    // leaves a temporary for the next run to remove, never a half-deleted `step-…` directory.
    const doomed = temporaryPathFor(dir);
    try {
      await rename(dir, doomed);
      await rm(doomed, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw ioError(`Could not delete the old checkpoint ${dir}`, error);
    }
  }
}

function corrupt(path: string, message: string): LevelskipError {
  return new LevelskipError('CHECKPOINT_CORRUPT', `${path}: ${message}`);
}

function unprefixed(prefix: string, tensors: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, tensor] of tensors) if (name.startsWith(`${prefix}/`)) out.set(name.slice(prefix.length + 1), tensor);
  return out;
}

function sameNames(a: NamedTensors, b: NamedTensors): boolean {
  return a.size === b.size && [...a.keys()].every((name) => b.has(name));
}

/**
 * Reads one training checkpoint directory.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` / `CHECKPOINT_CORRUPT` (or core's checkpoint
 *   errors) when a file is absent or malformed.
 */
export async function readTrainingCheckpoint(dir: string): Promise<TrainingSnapshot & { readonly spec: UNetSpec }> {
  const model = await loadCheckpoint(dir);
  const jsonPath = join(dir, stateJsonFile);
  const tensorsPath = join(dir, stateTensorsFile);
  let state: TrainingStateJson;
  let tensors: Map<string, HostTensor>;
  // Regular files only, the JSON bounded, and no message ever quotes a file's contents.
  const read = (path: string, what: string, maxBytes?: number): Promise<Uint8Array> =>
    readRegularFile(path, { what, missingCode: 'CHECKPOINT_MISSING', tooLargeCode: 'CHECKPOINT_CORRUPT', ...(maxBytes === undefined ? {} : { maxBytes }) });
  try {
    const text = new TextDecoder().decode(await read(jsonPath, 'the training state', maxStateJsonBytes));
    try {
      state = parseStrictJson(text, { maxDepth: 16 }) as TrainingStateJson;
    } catch (error) {
      throw corrupt(jsonPath, `is not valid JSON: ${error instanceof StrictJsonError ? error.message : 'it does not parse'}`);
    }
    tensors = parseSafetensors(await read(tensorsPath, 'the training tensors')).tensors;
  } catch (error) {
    if (LevelskipError.is(error) && error.code === 'CHECKPOINT_MISSING') {
      throw new LevelskipError('CHECKPOINT_MISSING', `${dir} has no ${stateJsonFile} or ${stateTensorsFile}; it is not a complete training checkpoint`, {
        cause: error,
      });
    }
    throw error;
  }
  if (typeof state !== 'object' || state === null || state.format !== stateFormat || typeof state.step !== 'number' || typeof state.formatVersion !== 'number') {
    throw corrupt(jsonPath, `is not a levelskip training state (no "format": "${stateFormat}" with a step and a formatVersion)`);
  }
  if (state.formatVersion > stateFormatVersion) {
    throw corrupt(jsonPath, `has training-state format ${state.formatVersion}, newer than the ${stateFormatVersion} this version reads; upgrade @levelskip/train-tfjs`);
  }
  const raw = unprefixed('raw', tensors);
  const adamM = unprefixed('adam.m', tensors);
  const adamV = unprefixed('adam.v', tensors);
  const losses = tensors.get('losses');
  if (!sameNames(raw, model.weights) || !sameNames(adamM, raw) || !sameNames(adamV, raw) || losses === undefined || losses.data.length !== state.step) {
    throw corrupt(tensorsPath, 'does not hold raw weights, Adam moments and per-step losses matching the model');
  }
  let lossTerms: TrainingSnapshot['lossTerms'];
  if (state.identity?.teacher !== undefined) {
    const distillation = tensors.get('losses.distillation');
    const eps = tensors.get('losses.eps');
    if (distillation?.data.length !== state.step || eps?.data.length !== state.step) {
      throw corrupt(tensorsPath, 'belongs to a run with a teacher but does not hold both per-step loss terms (losses.distillation, losses.eps)');
    }
    lossTerms = { distillation: distillation.data, eps: eps.data };
  }
  return { spec: model.spec, state, ema: model.weights, raw, adamM, adamV, losses: losses.data, lossTerms };
}

/** A checkpoint that did not load, and why. */
export interface UnreadableCheckpoint {
  readonly dir: string;
  readonly step: number;
  /** The load error's message. */
  readonly reason: string;
  readonly error: LevelskipError;
}

/** What `findResumableCheckpoint` found. */
export interface ResumeCandidates {
  /** The newest checkpoint that loads completely; undefined when none does (or there is none). */
  readonly latest: { readonly dir: string; readonly snapshot: TrainingSnapshot & { readonly spec: UNetSpec } } | undefined;
  /** Checkpoints newer than `latest` (all of them when it is undefined) that failed to load, newest first. */
  readonly unreadable: readonly UnreadableCheckpoint[];
}

/**
 * Tries the checkpoints under `root` newest first and returns the first that loads completely,
 * with every newer one that did not and why. File-system failures (permissions, I/O) are not
 * treated as damage: they propagate.
 *
 * @throws LevelskipError `IO_ERROR` when the directory or a file cannot be read.
 */
export async function findResumableCheckpoint(root: string): Promise<ResumeCandidates> {
  const unreadable: UnreadableCheckpoint[] = [];
  for (const { dir, step } of await listTrainingCheckpoints(root)) {
    try {
      return { latest: { dir, snapshot: await readTrainingCheckpoint(dir) }, unreadable };
    } catch (error) {
      if (!LevelskipError.is(error)) throw ioError(`Could not read the checkpoint ${dir}`, error);
      if (error.code === 'IO_ERROR') throw error;
      unreadable.push({ dir, step, reason: error.message, error });
    }
  }
  return { latest: undefined, unreadable };
}

/**
 * Renames a damaged checkpoint directory `step-XXXXXXX` to `step-XXXXXXX.damaged` (or
 * `….damaged-2`, … when that exists), out of the way of listing, resuming and pruning, but kept.
 * Returns the new path.
 *
 * @throws LevelskipError `IO_ERROR` when the rename fails.
 */
export async function setAsideDamagedCheckpoint(dir: string): Promise<string> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const target = `${dir}${damagedSuffix}${attempt === 1 ? '' : `-${attempt}`}`;
    // rename() replaces an empty directory at the target, so check first (the run holds the lock).
    const taken = await readdir(target).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
    );
    if (taken) continue;
    try {
      await rename(dir, target);
      return target;
    } catch (error) {
      throw ioError(`Could not move the damaged checkpoint ${dir} aside to ${target}`, error);
    }
  }
  throw new LevelskipError('IO_ERROR', `Could not move the damaged checkpoint ${dir} aside: ${dir}${damagedSuffix} … -100 all exist; delete old ones`);
}

export { stateFormat as trainingStateFormat, stateFormatVersion as trainingStateFormatVersion };
