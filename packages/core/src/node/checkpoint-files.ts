/**
 * Checkpoint directories on disk (Node only; the format itself is `checkpoint-format.ts`).
 *
 * Overwriting is atomic. model.json names its weights file (`weightsFile`). A save writes the new
 * weights under a name the current manifest does *not* use (`model.1.safetensors` when it names
 * `model.safetensors`), fsyncs them, replaces model.json with one rename and fsyncs the directory:
 * that rename is the switch. Then the weights are moved back under `model.safetensors` by the same
 * rule (hard link, then another manifest switch) and the unused file is deleted. At every moment
 * the manifest names complete weights that belong to it, so a reader finds the old pair or the new
 * pair whenever the writer is killed, and a directory at rest holds model.json + model.safetensors
 * as before. A fresh directory gets `model.safetensors` directly.
 *
 * Older levelskip versions stay safe too: they accept only `"weightsFile": "model.safetensors"`,
 * so a manifest naming `model.1.safetensors` is refused loudly (CHECKPOINT_CORRUPT), never paired
 * with stale weights; and `model.safetensors` is never rewritten while the manifest names it.
 *
 * Saves into one directory are serialised by a short lock (`.levelskip-save.lock`, see
 * `directory-lock.ts`), and each save removes the temporaries that killed writers left behind.
 */
import type { BigIntStats } from 'node:fs';
import { link, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelskipError } from '../errors/levelskip-error.js';
import {
  checkpointFiles,
  checkWeightsLayout,
  errorInFile,
  parseCheckpoint,
  readCheckpointManifest,
  serializeCheckpoint,
  type CheckpointManifest,
  type LoadedCheckpoint,
  type SaveCheckpointInput,
} from '../checkpoint/checkpoint-format.js';
import { checkpointWeightsFile } from '../checkpoint/fetch-checkpoint.js';
import {
  decodeSafetensorsTensor,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  safetensorsLengthFieldBytes,
  type SafetensorsLayout,
} from '../checkpoint/safetensors.js';
import { validateWeights } from '../checkpoint/validate-weights.js';
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { isDiffusersDirectory, loadDiffusersDirectory } from './diffusers-directory.js';
import { acquireDirectoryLock } from './directory-lock.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { openRegularFile, readRegularFile, type RegularFile } from './read-regular-file.js';
import { removeStaleTemporaryFiles, withTemporaryPath } from './temporary-files.js';
import { ensureDirectory } from './writable-directory.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** The largest model.json `loadCheckpoint` reads by default (1 MiB; a real one has a few KiB). */
export const defaultMaxManifestBytes = 1024 * 1024;
/** Weights files above this size (256 MiB) are read tensor by tensor, never as one buffer. */
export const defaultInPlaceReadBytes = 256 * 1024 * 1024;

/** The second weights name a save alternates with `model.safetensors`. */
const alternateWeightsFile = 'model.1.safetensors';
const saveLockFile = '.levelskip-save.lock';

/**
 * The weights file a directory's model.json names now, or undefined when there is no model.json
 * (or something that is not a regular file stands in its place: no reader can load that).
 */
async function currentWeightsFile(dir: string): Promise<string | undefined> {
  const path = join(dir, checkpointFiles.manifest);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  try {
    const text = new TextDecoder().decode(await readRegularFile(path, { maxBytes: defaultMaxManifestBytes }));
    return checkpointWeightsFile(text, path).weightsFile;
  } catch {
    // Unreadable: assume it names model.safetensors (as every older levelskip reads it) and keep off it.
    return checkpointFiles.weights;
  }
}

/** `serializeCheckpoint`'s manifest text with `weightsFile` naming `name`. */
function manifestNaming(manifestText: string, name: string): string {
  if (name === checkpointFiles.weights) return manifestText;
  const manifest = JSON.parse(manifestText) as Record<string, unknown>;
  return `${JSON.stringify({ ...manifest, weightsFile: name }, null, 2)}\n`;
}

/** Deletes the weights files saveCheckpoint writes (its two names) other than `keep`. */
async function removeOtherWeights(dir: string, keep: string): Promise<void> {
  for (const name of [checkpointFiles.weights, alternateWeightsFile]) {
    if (name !== keep) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * Saves a checkpoint to `dir` (created if needed). An existing checkpoint there is replaced in one
 * atomic step: a reader, or a process killed at any moment, sees either the old checkpoint or the
 * new one (see the top of this module). The weights are validated against the spec before
 * anything is written.
 *
 * @throws LevelskipError `INVALID_SPEC` for an invalid spec, `WEIGHTS_MISMATCH` when the weights do
 *   not fit it, `INVALID_OPTION` when `dir` is an existing file or `training` is not
 *   JSON-serializable, `IO_ERROR` when the file system fails (permissions, full disk, read-only file
 *   system, name too long) or another process is saving into `dir` right now; no temporary file is
 *   left behind.
 */
export async function saveCheckpoint(dir: string, checkpoint: SaveCheckpointInput): Promise<void> {
  const files = serializeCheckpoint(checkpoint);
  const existing = await stat(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fileSystemError(error, dir, { action: 'access', what: 'the checkpoint directory' });
  });
  if (existing !== undefined && !existing.isDirectory()) {
    throw new LevelskipError('INVALID_OPTION', `Cannot save a checkpoint to ${dir}: it is a file, not a directory; choose a directory path`);
  }
  await ensureDirectory(dir, { what: 'the checkpoint directory' });
  const lock = await acquireDirectoryLock(dir, { purpose: 'saveCheckpoint', fileName: saveLockFile });
  try {
    await removeStaleTemporaryFiles(dir);
    const current = await currentWeightsFile(dir);
    const next = current === checkpointFiles.weights ? alternateWeightsFile : checkpointFiles.weights;
    try {
      await writeFileAtomic(join(dir, next), files.weights, { syncDirectory: false });
      // The switch: one rename of model.json (then the directory is fsynced).
      await writeFileAtomic(join(dir, checkpointFiles.manifest), manifestNaming(files.manifest, next));
    } catch (error) {
      // Beside a checkpoint, the new weights are named by no manifest: remove them (the old pair is untouched).
      if (current !== undefined) await unlink(join(dir, next)).catch(() => undefined);
      throw error;
    }
    const final = next === alternateWeightsFile ? await restoreDefaultName(dir, files.manifest) : next;
    await removeOtherWeights(dir, final);
  } finally {
    await lock.release();
  }
}

/**
 * After a switch to `model.1.safetensors`, brings the weights back under the usual name (what
 * PyTorch users and older tools open), again one consistent step at a time: `model.safetensors`
 * is replaced by a hard link to the new weights while the manifest names `model.1.safetensors`,
 * then the manifest is switched to it. Where the file system has no hard links, the checkpoint
 * simply stays under `model.1.safetensors`. Returns the name the manifest ends up with.
 */
async function restoreDefaultName(dir: string, manifestText: string): Promise<string> {
  const target = join(dir, checkpointFiles.weights);
  try {
    await withTemporaryPath(target, async (temporary) => {
      await link(join(dir, alternateWeightsFile), temporary);
      await rename(temporary, target);
    });
  } catch {
    return alternateWeightsFile;
  }
  await writeFileAtomic(join(dir, checkpointFiles.manifest), manifestText);
  return checkpointFiles.weights;
}

export interface LoadCheckpointOptions {
  /** Largest model.json accepted, in bytes (default 1 MiB). */
  readonly maxManifestBytes?: number;
  /** Weights files larger than this are read tensor by tensor in place (default 256 MiB). */
  readonly inPlaceReadBytes?: number;
  /** A diffusers directory's weights variant, e.g. `fp16` (see `loadDiffusersDirectory`). */
  readonly variant?: string;
}

/** Reads of a checkpoint that is being overwritten at the same time are retried this often. */
const maxLoadAttempts = 5;

/** Whether the manifest file in place is no longer the one that was read (another save replaced it). */
async function manifestChanged(path: string, identity: BigIntStats): Promise<boolean> {
  const now = await stat(path, { bigint: true }).catch(() => undefined);
  return now === undefined || now.ino !== identity.ino || now.dev !== identity.dev || now.ctimeNs !== identity.ctimeNs || now.size !== identity.size;
}

/**
 * Reads and validates an open safetensors file's header against the file's length, before any
 * tensor data is read: a huge, sparse or hostile file fails here, having cost a few bytes.
 */
async function readLayout(file: RegularFile): Promise<SafetensorsLayout> {
  const prefix = await file.read(0, Math.min(safetensorsLengthFieldBytes, file.size));
  const headerLength = readSafetensorsHeaderLength(prefix, file.size);
  return parseSafetensorsHeader(await file.read(0, safetensorsLengthFieldBytes + headerLength), file.size);
}

/**
 * The weights of a large file, tensor by tensor with positional reads, so no buffer holds the
 * whole file (and files over 2 GiB load). The same checks as `parseCheckpoint` (which reads from
 * one buffer): dtypes against the manifest, finiteness, the spec.
 */
async function readWeightsInPlace(file: RegularFile, layout: SafetensorsLayout, manifest: CheckpointManifest, spec: UNetSpec): Promise<NamedTensors> {
  checkWeightsLayout(manifest, layout);
  const tensors = new Map<string, HostTensor>();
  for (const entry of layout.entries) {
    const bytes = await file.read(layout.dataStart + entry.begin, entry.end - entry.begin);
    tensors.set(entry.name, { shape: entry.shape, data: decodeSafetensorsTensor(entry, bytes, { rejectNonFinite: true }) });
  }
  validateWeights(spec, tensors);
  return tensors;
}

/**
 * Loads a checkpoint saved by `saveCheckpoint` (or written by hand in the same layout). Only
 * regular files are read (a FIFO, device, directory or oversized file fails at once), model.json is
 * bounded (1 MiB), and the weights' header is checked against the file's size before the data is
 * read. If the checkpoint is overwritten while being loaded, the new one is loaded.
 *
 * A directory without model.json that holds a 🤗 diffusers `UNet2DModel` (config.json) or pipeline
 * (model_index.json) is loaded by `loadDiffusersDirectory`: its config is translated to a spec
 * (refused, naming the field, when levelskip cannot run it) before any weight is read.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` when the directory or one of its files is absent;
 *   `CHECKPOINT_CORRUPT` for an unreadable or oversized manifest, a newer format version or a
 *   malformed weights file; `INVALID_SPEC` for an invalid spec in model.json; `WEIGHTS_MISMATCH`
 *   when the weights do not fit the spec; `IO_ERROR` when a file is not a regular file or the file
 *   system fails. Each message names the file and never quotes its contents.
 */
export async function loadCheckpoint(dir: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const info = await stat(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') {
      throw new LevelskipError(
        'CHECKPOINT_MISSING',
        `No checkpoint at ${dir}: the directory does not exist. Pass the directory that holds model.json and model.safetensors (written by saveCheckpoint).`,
        { cause: error },
      );
    }
    throw fileSystemError(error, dir, { action: 'access', what: 'the checkpoint directory' });
  });
  if (!info.isDirectory()) {
    throw new LevelskipError('CHECKPOINT_MISSING', `${dir} is a file, not a checkpoint directory; pass the directory that holds model.json and model.safetensors`);
  }
  const manifestPath = join(dir, checkpointFiles.manifest);
  if (!(await stat(manifestPath).then(() => true, () => false)) && (await isDiffusersDirectory(dir))) {
    return loadDiffusersDirectory(dir, options.variant === undefined ? {} : { variant: options.variant });
  }
  for (let attempt = 1; ; attempt += 1) {
    const manifestFile = await openRegularFile(manifestPath, {
      maxBytes: options.maxManifestBytes ?? defaultMaxManifestBytes,
      what: 'the checkpoint manifest',
      missingCode: 'CHECKPOINT_MISSING',
      tooLargeCode: 'CHECKPOINT_CORRUPT',
    });
    let manifestBytes: Uint8Array;
    let manifestIdentity: BigIntStats;
    try {
      manifestIdentity = await manifestFile.handle.stat({ bigint: true });
      manifestBytes = await manifestFile.read(0, manifestFile.size);
    } catch (error) {
      throw fileSystemError(error, manifestPath, { action: 'read', what: 'the checkpoint manifest' });
    } finally {
      await manifestFile.close();
    }
    const { weightsFile, manifestText } = checkpointWeightsFile(new TextDecoder().decode(manifestBytes), manifestPath);
    // The manifest is checked before the (large) weights are read.
    const { manifest, spec } = readCheckpointManifest(manifestText, manifestPath);
    const weightsPath = join(dir, weightsFile);
    let file: RegularFile;
    try {
      file = await openRegularFile(weightsPath, { what: 'the checkpoint weights', missingCode: 'CHECKPOINT_MISSING' });
    } catch (error) {
      // Overwritten between the two reads: the manifest now names other weights. Read it again.
      if (attempt < maxLoadAttempts && LevelskipError.is(error) && error.code === 'CHECKPOINT_MISSING' && (await manifestChanged(manifestPath, manifestIdentity))) continue;
      throw error;
    }
    // A save only ever replaces weights that the manifest in place does not name, so weights opened
    // while the same manifest file stayed in place belong to it. Otherwise, start again.
    if (await manifestChanged(manifestPath, manifestIdentity)) {
      await file.close();
      if (attempt < maxLoadAttempts) continue;
      throw new LevelskipError('IO_ERROR', `Could not load the checkpoint ${dir}: it was overwritten ${maxLoadAttempts} times while being read; try again when the writer pauses`);
    }
    try {
      const layout = await readLayout(file);
      if (file.size <= (options.inPlaceReadBytes ?? defaultInPlaceReadBytes)) {
        // The common case goes through the shared parser, so Node and browsers check exactly alike.
        return parseCheckpoint(manifestText, await file.read(0, file.size), { manifest: manifestPath, weights: weightsPath });
      }
      return { spec, manifest, weights: await readWeightsInPlace(file, layout, manifest, spec) };
    } catch (error) {
      throw LevelskipError.is(error) && !error.message.includes(weightsPath) ? errorInFile(error, weightsPath) : error;
    } finally {
      await file.close();
    }
  }
}
