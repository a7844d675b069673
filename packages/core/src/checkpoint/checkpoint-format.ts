/**
 * The levelskip checkpoint format: a directory (or a pair of files served side by side) holding
 *
 *   model.json         the manifest: format, format version, the spec, training metadata
 *   model.safetensors  the weights, diffusers `UNet2DModel` names in PyTorch layouts
 *
 * so PyTorch (safetensors.torch.load_file) reads the weights too. This module turns bytes into a
 * checkpoint and back, with no file system: browsers fetch the two files and call
 * `parseCheckpoint`; Node's `loadCheckpoint` / `saveCheckpoint` (the `node` entry of this package)
 * read and write them atomically around these functions.
 */
import * as z from 'zod/mini';
import { LevelskipError } from '../errors/levelskip-error.js';
import { parseUNetSpec, zodMessages, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import type { NamedTensors } from '../backend/tensor-ops.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsDtype } from './safetensors.js';
import { validateWeights } from './validate-weights.js';

/** Version of the checkpoint layout this core writes; it reads this and every older version. */
export const checkpointFormatVersion = 1;

/** File names inside a checkpoint directory. */
export const checkpointFiles = Object.freeze({ manifest: 'model.json', weights: 'model.safetensors' } as const);

const weightsFile = checkpointFiles.weights;
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
  formatVersion: z.int().check(z.positive()),
  spec: z.unknown(),
  training: z.optional(z.record(z.string(), z.unknown())),
  weightsFile: z.literal(weightsFile),
  dtype: z.enum(['F32', 'F16', 'BF16']),
  createdAt: z.string(),
});

/** Parses and checks model.json's text; `path` names the file in errors. */
export function parseCheckpointManifest(text: string, path: string): CheckpointManifest {
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
  const result = manifestSchema.safeParse(raw, { error: zodMessages });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not a valid checkpoint manifest:\n  ${problems.join('\n  ')}`, { cause: result.error });
  }
  // The spec is only known to be a UNetSpecInput once parseUNetSpec accepts it, which the caller does next.
  return result.data as CheckpointManifest;
}

/** Re-throws a LevelskipError with the file it came from in front of its message. */
export function errorInFile(error: unknown, path: string): unknown {
  if (!LevelskipError.is(error)) return error;
  return new LevelskipError(error.code, `${path}: ${error.message}`, { cause: error, issues: error.issues });
}


/** What `serializeCheckpoint` returns: the two files' contents. */
export interface SerializedCheckpoint {
  /** model.json's text. */
  readonly manifest: string;
  /** model.safetensors' bytes. */
  readonly weights: Uint8Array;
}

/**
 * The files of a checkpoint, in memory. The weights are validated against the spec first.
 *
 * @throws LevelskipError `INVALID_SPEC` for an invalid spec, `WEIGHTS_MISMATCH` when the weights do
 *   not fit it, `INVALID_OPTION` when `training` is not JSON-serializable.
 */
export function serializeCheckpoint(checkpoint: SaveCheckpointInput): SerializedCheckpoint {
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
  return { manifest: manifestText, weights: serializeSafetensors(checkpoint.weights, { dtype, metadata: { format: 'pt' } }) };
}

/**
 * model.json's text → the manifest and its validated spec, before any weight is read.
 * `path` (a file path or URL) names the file in errors.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a malformed manifest; `INVALID_SPEC` for an invalid spec.
 */
export function readCheckpointManifest(text: string, path: string = checkpointFiles.manifest): { manifest: CheckpointManifest; spec: UNetSpec } {
  const manifest = parseCheckpointManifest(text, path);
  try {
    return { manifest, spec: parseUNetSpec(manifest.spec) };
  } catch (error) {
    throw errorInFile(error, path);
  }
}

/** Where `parseCheckpoint`'s inputs came from, for error messages (paths or URLs). */
export interface CheckpointSources {
  readonly manifest?: string;
  readonly weights?: string;
}

/**
 * A checkpoint from its two files' contents (fetched, read from disk, or built in memory).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for an unreadable manifest, a newer format version or
 *   a malformed weights file; `INVALID_SPEC` for an invalid spec in model.json; `WEIGHTS_MISMATCH`
 *   when the weights do not fit the spec. Each message names the source.
 */
export function parseCheckpoint(
  manifest: string | Uint8Array | ArrayBuffer,
  weights: Uint8Array | ArrayBuffer,
  sources: CheckpointSources = {},
): LoadedCheckpoint {
  const manifestPath = sources.manifest ?? checkpointFiles.manifest;
  const { manifest: parsed, spec } = readCheckpointManifest(typeof manifest === 'string' ? manifest : new TextDecoder().decode(manifest), manifestPath);
  const weightsPath = sources.weights ?? parsed.weightsFile;
  try {
    const { tensors } = parseSafetensors(weights instanceof Uint8Array ? weights : new Uint8Array(weights));
    validateWeights(spec, tensors);
    return { spec, weights: tensors, manifest: parsed };
  } catch (error) {
    throw errorInFile(error, weightsPath);
  }
}
