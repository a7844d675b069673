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
 * A checkpoint is assembled in a hidden temporary directory `.step-XXXXXXX.tmp-…` beside the final
 * one, every file fsynced, then renamed into place in one step, so a directory named `step-…`
 * is complete unless the disk itself lost data; resuming also verifies every file and falls back
 * to the next older checkpoint when one does not load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LevelskipError,
  loadCheckpoint,
  parameterLayout,
  parseSafetensors,
  saveCheckpoint,
  serializeSafetensors,
  type HostTensor,
  type NamedTensors,
  type RngState,
  type UNetSpec,
} from '@levelskip/core';
import type { DataPosition } from './batch-source.js';

const stateJsonFile = 'training-state.json';
const stateTensorsFile = 'training-state.safetensors';
const stateFormat = 'levelskip-training-state';
/** The newest training-state format this version reads and writes (see the file comment). */
const stateFormatVersion = 2;
/** The format of checkpoints without a teacher, readable by versions that know only format 1. */
const plainStateFormatVersion = 1;
const stepPattern = /^step-(\d{7,})$/;

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

async function writeFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
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
  training: Record<string, unknown>,
): Promise<string> {
  const name = checkpointDirectoryName(snapshot.state.step);
  const final = join(root, name);
  const temporary = join(root, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(root, { recursive: true });
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
    await writeFileSynced(join(temporary, stateTensorsFile), serializeSafetensors(tensors, { metadata: { format: stateFormat } }));
    await writeFileSynced(join(temporary, stateJsonFile), `${JSON.stringify(snapshot.state, null, 2)}\n`);
    // A checkpoint of the same step (a run resumed from an older one) is moved aside, not merged.
    const displaced = `${temporary}-old`;
    const hadFinal = await rename(final, displaced).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    await rename(temporary, final);
    if (hadFinal) await rm(displaced, { recursive: true, force: true });
    return final;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw ioError(`Could not write the training checkpoint ${final}`, error);
  }
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

/** Deletes all but the newest `keepLast` checkpoints under `root`. */
export async function pruneTrainingCheckpoints(root: string, keepLast: number): Promise<void> {
  const all = await listTrainingCheckpoints(root);
  for (const { dir } of all.slice(keepLast)) {
    await rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
      throw ioError(`Could not delete the old checkpoint ${dir}`, error);
    });
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
  try {
    state = JSON.parse((await readFile(jsonPath)).toString('utf8')) as TrainingStateJson;
    tensors = parseSafetensors(await readFile(tensorsPath)).tensors;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LevelskipError('CHECKPOINT_MISSING', `${dir} has no ${stateJsonFile} or ${stateTensorsFile}; it is not a complete training checkpoint`, {
        cause: error,
      });
    }
    if (LevelskipError.is(error)) throw error;
    throw corrupt(jsonPath, `is not valid JSON (${(error as Error).message})`);
  }
  if (state?.format !== stateFormat || typeof state.step !== 'number' || typeof state.formatVersion !== 'number') {
    throw corrupt(jsonPath, `is not a levelskip training state (format ${JSON.stringify(state?.format)})`);
  }
  if (state.formatVersion > stateFormatVersion) {
    throw corrupt(jsonPath, `has training-state format ${state.formatVersion}, newer than the ${stateFormatVersion} this version reads; upgrade @levelskip/backend-tfjs`);
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

/**
 * The newest checkpoint under `root` that loads completely, or undefined when there is none.
 * Checkpoints that fail to load (half-written by a crash, damaged) are skipped.
 */
export async function readLatestTrainingCheckpoint(
  root: string,
): Promise<{ dir: string; snapshot: TrainingSnapshot & { readonly spec: UNetSpec }; skipped: string[] } | undefined> {
  const skipped: string[] = [];
  for (const { dir } of await listTrainingCheckpoints(root)) {
    try {
      return { dir, snapshot: await readTrainingCheckpoint(dir), skipped };
    } catch (error) {
      if (!LevelskipError.is(error) || error.code === 'IO_ERROR') throw error;
      skipped.push(`${dir}: ${error.message}`);
    }
  }
  return undefined;
}

export { stateFormat as trainingStateFormat, stateFormatVersion as trainingStateFormatVersion };
