/**
 * The levelskip checkpoint: a directory holding
 *
 *   model.json         the manifest: format, format version, the spec, training metadata
 *   model.safetensors  the weights, diffusers `UNet2DModel` names in PyTorch layouts
 *
 * so PyTorch (safetensors.torch.load_file) reads the weights too. Each file is written atomically
 * (temporary file in the same directory, fsync, rename), weights first and the manifest last, so a
 * reader never finds a manifest whose weights are not fully on disk.
 *
 * This is the only module of core that uses Node APIs.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LevelskipError } from '../errors/levelskip-error.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import type { NamedTensors } from '../backend/tensor-ops.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsDtype } from './safetensors.js';
import { validateWeights } from './validate-weights.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Version of the checkpoint layout this core writes; it reads this and every older version. */
export const checkpointFormatVersion = 1;

const manifestFile = 'model.json';
const weightsFile = 'model.safetensors';
const formatName = 'levelskip-checkpoint';

/** Contents of `model.json`. */
export interface CheckpointManifest {
  readonly format: 'levelskip-checkpoint';
  readonly formatVersion: number;
  /** The spec with every default filled in, so a later change of defaults cannot change the model. */
  readonly spec: UNetSpecInput;
  /** Free-form training metadata (scheme, steps, batch size, seed, duration, loss, ...). */
  readonly training?: Record<string, unknown>;
  readonly weightsFile: 'model.safetensors';
  /** Storage dtype of the weights. */
  readonly dtype: SafetensorsDtype;
  /** ISO 8601 time of saving. */
  readonly createdAt: string;
}

export interface SaveCheckpointInput {
  readonly spec: UNetSpec | UNetSpecInput;
  readonly weights: NamedTensors;
  /** Training metadata stored in model.json; must be JSON-serializable. */
  readonly training?: Record<string, unknown>;
  /** Storage dtype (default F32). F16/BF16 halve the file and round to nearest even. */
  readonly dtype?: SafetensorsDtype;
}

export interface LoadedCheckpoint {
  readonly spec: UNetSpec;
  readonly weights: NamedTensors;
  readonly manifest: CheckpointManifest;
}

// Checked after format and formatVersion, which decide whether this schema applies at all.
const manifestSchema = z.object({
  format: z.literal(formatName),
  formatVersion: z.number().int().positive(),
  spec: z.unknown(),
  training: z.record(z.string(), z.unknown()).optional(),
  weightsFile: z.literal(weightsFile),
  dtype: z.enum(['F32', 'F16', 'BF16']),
  createdAt: z.string(),
});

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
  const spec = parseUNetSpec(checkpoint.spec);
  validateWeights(spec, checkpoint.weights);
  const dtype = checkpoint.dtype ?? 'F32';
  const manifest: CheckpointManifest = {
    format: formatName,
    formatVersion: checkpointFormatVersion,
    spec: spec as UNetSpecInput,
    ...(checkpoint.training === undefined ? {} : { training: checkpoint.training }),
    weightsFile,
    dtype,
    createdAt: new Date().toISOString(),
  };
  let manifestText: string;
  try {
    manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  } catch (error) {
    throw new LevelskipError('INVALID_OPTION', `Checkpoint training metadata must be JSON-serializable: ${(error as Error).message}`, { cause: error });
  }
  const weightBytes = serializeSafetensors(checkpoint.weights, { dtype, metadata: { format: 'pt' } });

  const existing = await stat(dir).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new LevelskipError('INVALID_OPTION', `Cannot save a checkpoint to ${dir}: it is a file, not a directory; choose a directory path`);
  }
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new LevelskipError('IO_ERROR', `Could not create checkpoint directory ${dir} (${error.code ?? error.message}); check the path and permissions`, {
      cause: error,
    });
  });
  await writeFileAtomic(join(dir, weightsFile), weightBytes);
  await writeFileAtomic(join(dir, manifestFile), manifestText);
  await syncDirectory(dir);
}

async function readCheckpointFile(path: string, what: string): Promise<Buffer> {
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

function parseManifest(text: string, path: string): CheckpointManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not valid JSON (${(error as Error).message}); restore it or save the checkpoint again`, {
      cause: error,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} must hold a JSON object (the checkpoint manifest)`);
  }
  const { format, formatVersion } = raw as Record<string, unknown>;
  if (format !== formatName) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not a levelskip checkpoint manifest: "format" is ${JSON.stringify(format)}, expected "${formatName}"`);
  }
  if (typeof formatVersion === 'number' && Number.isInteger(formatVersion) && formatVersion > checkpointFormatVersion) {
    throw new LevelskipError(
      'CHECKPOINT_CORRUPT',
      `${path} has checkpoint format version ${formatVersion}, newer than the ${checkpointFormatVersion} this levelskip reads; upgrade @levelskip/core (and the backend packages) to load it`,
    );
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not a valid checkpoint manifest:\n  ${problems.join('\n  ')}`, { cause: result.error });
  }
  // The spec is only known to be a UNetSpecInput once parseUNetSpec accepts it, which the caller does next.
  return result.data as CheckpointManifest;
}

/** Re-throws a LevelskipError with the file it came from in front of its message. */
function inFile(error: unknown, path: string): unknown {
  if (!LevelskipError.is(error)) return error;
  return new LevelskipError(error.code, `${path}: ${error.message}`, { cause: error, issues: error.issues });
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

  const manifestPath = join(dir, manifestFile);
  const manifest = parseManifest((await readCheckpointFile(manifestPath, 'the manifest')).toString('utf8'), manifestPath);
  let spec: UNetSpec;
  try {
    spec = parseUNetSpec(manifest.spec);
  } catch (error) {
    throw inFile(error, manifestPath);
  }

  const weightsPath = join(dir, manifest.weightsFile);
  const bytes = await readCheckpointFile(weightsPath, 'the weights');
  try {
    const { tensors } = parseSafetensors(bytes);
    validateWeights(spec, tensors);
    return { spec, weights: tensors, manifest };
  } catch (error) {
    throw inFile(error, weightsPath);
  }
}
