/**
 * Checkpoint directories on disk (Node only; the format itself is `checkpoint-format.ts`). Each
 * file is written atomically (temporary file in the same directory, fsync, rename), weights first
 * and the manifest last, so a reader never finds a manifest whose weights are not fully on disk.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelskipError } from '../errors/levelskip-error.js';
import {
  checkpointFiles,
  parseCheckpoint,
  readCheckpointManifest,
  serializeCheckpoint,
  type LoadedCheckpoint,
  type SaveCheckpointInput,
} from '../checkpoint/checkpoint-format.js';
import { writeFileAtomic } from './write-file-atomic.js';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** Best effort: persists the renames; directories cannot be opened for fsync on every platform. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The files themselves are already fsynced; only the rename's durability is at stake.
  }
}

/**
 * Saves a checkpoint to `dir` (created if needed; existing checkpoint files are replaced).
 * The weights are validated against the spec before anything is written.
 *
 * @throws LevelskipError `INVALID_SPEC` for an invalid spec, `WEIGHTS_MISMATCH` when the weights do
 *   not fit it, `INVALID_OPTION` when `dir` is an existing file or `training` is not
 *   JSON-serializable, `IO_ERROR` when the file system fails (permissions, full disk); no temporary
 *   file is left behind.
 */
export async function saveCheckpoint(dir: string, checkpoint: SaveCheckpointInput): Promise<void> {
  const files = serializeCheckpoint(checkpoint);
  const existing = await stat(dir).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new LevelskipError('INVALID_OPTION', `Cannot save a checkpoint to ${dir}: it is a file, not a directory; choose a directory path`);
  }
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new LevelskipError('IO_ERROR', `Could not create checkpoint directory ${dir} (${error.code ?? error.message}); check the path and permissions`, {
      cause: error,
    });
  });
  await writeFileAtomic(join(dir, checkpointFiles.weights), files.weights);
  await writeFileAtomic(join(dir, checkpointFiles.manifest), files.manifest);
  await syncDirectory(dir);
}

async function readCheckpointFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new LevelskipError(
        'CHECKPOINT_MISSING',
        `Checkpoint file ${path} (${what}) does not exist; the directory is not a levelskip checkpoint or saving it did not finish. Save it again with saveCheckpoint().`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Loads a checkpoint saved by `saveCheckpoint` (or written by hand in the same layout).
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` when the directory or one of its files is absent;
 *   `CHECKPOINT_CORRUPT` for an unreadable manifest, a newer format version or a malformed weights
 *   file; `INVALID_SPEC` for an invalid spec in model.json; `WEIGHTS_MISMATCH` when the weights do
 *   not fit the spec. Each message names the file.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const info = await stat(dir).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') {
      throw new LevelskipError(
        'CHECKPOINT_MISSING',
        `No checkpoint at ${dir}: the directory does not exist. Pass the directory that holds model.json and model.safetensors (written by saveCheckpoint).`,
        { cause: error },
      );
    }
    throw error;
  });
  if (!info.isDirectory()) {
    throw new LevelskipError('CHECKPOINT_MISSING', `${dir} is a file, not a checkpoint directory; pass the directory that holds model.json and model.safetensors`);
  }
  const manifestPath = join(dir, checkpointFiles.manifest);
  const manifest = await readCheckpointFile(manifestPath, 'the manifest');
  // The manifest is checked before the (large) weights are read.
  const weightsPath = join(dir, checkpointFiles.weights);
  const decoded = new TextDecoder().decode(manifest);
  readCheckpointManifest(decoded, manifestPath);
  const weights = await readCheckpointFile(weightsPath, 'the weights');
  return parseCheckpoint(decoded, weights, { manifest: manifestPath, weights: weightsPath });
}
