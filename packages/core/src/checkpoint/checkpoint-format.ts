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
import { predictionTypeOf, predictionTypes, type PredictionType } from '../spec/prediction-type.js';
import * as z from 'zod/mini';
import { LevelskipError } from '../errors/levelskip-error.js';
import { parseUNetSpec, safeZodIssues, zodMessages, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';
import {
  checkTensorFinite,
  decodeSafetensorsTensor,
  parseSafetensorsHeader,
  serializeSafetensors,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsLayout,
} from './safetensors.js';
import { parseStrictJson, quoteName, quoteToken, StrictJsonError } from './strict-json.js';
import { validateWeights } from './validate-weights.js';
import { calibrationTableSchema, type CalibrationTable } from '../schedules/calibrated/calibration-table.js';
import { builtinFillSyntax, isBuiltinFillLabel } from '../fills/fill-registry.js';
import { trainingRecordProblems, trainingRecordSchema, type TrainingRecord } from './training-record.js';

/** Version of the checkpoint layout this core writes; it reads this and every older version. */
export const checkpointFormatVersion = 1;

/** File names inside a checkpoint directory. */
export const checkpointFiles = Object.freeze({ manifest: 'model.json', weights: 'model.safetensors' } as const);

const weightsFile = checkpointFiles.weights;
const formatName = 'levelskip-checkpoint';

/**
 * Deepest nesting of objects and arrays accepted in model.json. The spec needs 4
 * (manifest → spec → decoderStages → stage); the rest is room for free-form training metadata.
 * Bounded before parsing, so `[[[[...]]]]` fails with a position, not a stack overflow later.
 */
export const maxManifestDepth = 64;

/** The samplers a checkpoint may recommend (the CLI's `--sampler` names). */
export const recommendedSamplers = ['ddim', 'ddpm', 'langevin', 'dpm-solver'] as const;

/**
 * How a model samples best, as measured by whoever trained it: the settings `levelskip sample`,
 * `eval` and the pipeline use when the user gives none, and print. Every field but `sampler` and
 * `steps` is optional; absent ones keep the tools' defaults.
 */
export interface RecommendedSampling {
  readonly sampler: (typeof recommendedSamplers)[number];
  /** Sampling steps (an integer in [1, 100000]). */
  readonly steps: number;
  /** DDIM's η in [0, 1] (1: DDPM-like noise). */
  readonly eta?: number;
  /** Clip the predicted x0 to [−1, 1] at each step. */
  readonly clip?: boolean;
  /** Suggested skip schedule, as `SkipSchedule.toJSON()` writes it (e.g. `{ "kind": "power", "c": 2 }`). */
  readonly schedule?: { readonly kind: string } & Record<string, unknown>;
  /** Suggested fill, in the CLI's syntax (`builtinFillSyntax`): `zero`, `duplicate`, `interpolate`, `cache`, `cache:3`, `mean`. */
  readonly fill?: string;
  /** Why these settings (shown by `levelskip info`), e.g. the measurement behind them. */
  readonly note?: string;
  /** What the model outputs (diffusers' `prediction_type`); absent: `'epsilon'`, the noise ε. */
  readonly prediction?: PredictionType;
  /** How the recommended sampler spreads its timesteps (diffusers' `timestep_spacing`); absent: the sampler's default. */
  readonly timestepSpacing?: 'leading' | 'linspace' | 'trailing';
  /** Added to every timestep of the `leading` spacing (diffusers' `steps_offset`); absent: 0. */
  readonly stepsOffset?: number;
  /** `clip` clamps x0 to [−clipSampleRange, clipSampleRange] (diffusers' `clip_sample_range`); absent: 1. */
  readonly clipSampleRange?: number;
  /** DDPM's reverse-step variance (diffusers' `variance_type`); absent: `'fixed_small'`. */
  readonly varianceType?: 'fixed_small' | 'fixed_large';
}

/** Contents of `model.json`. */
export interface CheckpointManifest {
  readonly format: 'levelskip-checkpoint';
  readonly formatVersion: number;
  /** The spec with every default filled in, so a later change of defaults cannot change the model. */
  readonly spec: UNetSpecInput;
  /** What made the weights (scheme, steps, batch size, seed, duration, loss, ...); its known fields are typed, others kept. */
  readonly training?: TrainingRecord;
  /** The sampling settings the model is recommended with (absent: the tools' defaults). */
  readonly sampling?: RecommendedSampling;
  /** The model's calibration table (`calibrate()`), which `optimalSchedule` / `--schedule auto:f` plan with. */
  readonly calibration?: CalibrationTable;
  readonly weightsFile: 'model.safetensors';
  /** Storage dtype of the weights. */
  readonly dtype: SafetensorsDtype;
  /** ISO 8601 time of saving. */
  readonly createdAt: string;
}

export interface SaveCheckpointInput {
  readonly spec: UNetSpec | UNetSpecInput;
  readonly weights: NamedTensors;
  /** Training metadata stored in model.json (a `TrainingRecord`: known fields checked, others kept); must be JSON-serializable. */
  readonly training?: TrainingRecord;
  /** Storage dtype (default F32). F16/BF16 halve the file and round to nearest even. */
  readonly dtype?: SafetensorsDtype;
  /** Recommended sampling settings, stored in model.json. */
  readonly sampling?: RecommendedSampling;
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
  training: z.optional(trainingRecordSchema),
  sampling: z.optional(
    z.strictObject({
      sampler: z.enum(recommendedSamplers),
      steps: z.int().check(z.minimum(1), z.maximum(100_000)),
      eta: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
      clip: z.optional(z.boolean()),
      schedule: z.optional(z.looseObject({ kind: z.string() })),
      fill: z.optional(z.string().check(z.maxLength(64), z.refine(isBuiltinFillLabel, { message: `must be a built-in fill: ${builtinFillSyntax.join(', ')}` }))),
      note: z.optional(z.string().check(z.maxLength(2000))),
      prediction: z.optional(z.enum(predictionTypes as ['epsilon', 'v_prediction', 'sample'])),
      timestepSpacing: z.optional(z.enum(['leading', 'linspace', 'trailing'])),
      stepsOffset: z.optional(z.int().check(z.minimum(0), z.maximum(100_000))),
      clipSampleRange: z.optional(z.number().check(z.positive(), z.maximum(1e6))),
      varianceType: z.optional(z.enum(['fixed_small', 'fixed_large'])),
    }),
  ),
  calibration: z.optional(calibrationTableSchema),
  weightsFile: z.literal(weightsFile),
  dtype: z.enum(['F32', 'F16', 'BF16']),
  createdAt: z.string(),
});

/** Parses and checks model.json's text; `path` names the file in errors. */
export function parseCheckpointManifest(text: string, path: string): CheckpointManifest {
  let raw: unknown;
  try {
    // Strict: duplicate keys and deep nesting are refused, and the message gives the fault's
    // position, never the text (model.json may be a symlink to a file that is not ours to show).
    raw = parseStrictJson(text, { maxDepth: maxManifestDepth });
  } catch (error) {
    const reason = error instanceof StrictJsonError ? error.message : 'it could not be parsed';
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not valid JSON (${reason}); restore it or save the checkpoint again`, {
      cause: error,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} must hold a JSON object (the checkpoint manifest)`);
  }
  const { format, formatVersion } = raw as Record<string, unknown>;
  if (format !== formatName) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not a levelskip checkpoint manifest: "format" is ${quoteToken(format)}, expected "${formatName}"`);
  }
  if (typeof formatVersion === 'number' && Number.isInteger(formatVersion) && formatVersion > checkpointFormatVersion) {
    throw new LevelskipError(
      'CHECKPOINT_CORRUPT',
      `${path} has checkpoint format version ${formatVersion}, newer than the ${checkpointFormatVersion} this levelskip reads; upgrade @levelskip/core (and the backend packages) to load it`,
    );
  }
  const result = manifestSchema.safeParse(raw, { error: zodMessages });
  if (!result.success) {
    const problems = safeZodIssues(result.error).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${path} is not a valid checkpoint manifest:\n  ${problems.join('\n  ')}`, { cause: result.error });
  }
  // The spec is only known to be a UNetSpecInput once parseUNetSpec accepts it, which the caller does next.
  return result.data as CheckpointManifest;
}

/**
 * The mismatch between what the spec says the network outputs and what the recommended sampling
 * settings say (both may state it), or undefined when they agree or the settings say nothing.
 */
function predictionMismatch(spec: UNetSpec, sampling: RecommendedSampling | undefined): string | undefined {
  if (sampling?.prediction === undefined || sampling.prediction === predictionTypeOf(spec.prediction)) return undefined;
  return `sampling.prediction is ${JSON.stringify(sampling.prediction)} but spec.prediction is ${JSON.stringify(spec.prediction)} (diffusers' ${JSON.stringify(predictionTypeOf(spec.prediction))}); they must agree: set spec.prediction, which samplers read, and drop sampling.prediction or make it match`;
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
 *   not fit it, `INVALID_OPTION` when `training` has a known field of the wrong type (naming it) or
 *   is not JSON-serializable.
 */
export function serializeCheckpoint(checkpoint: SaveCheckpointInput): SerializedCheckpoint {
  const spec = parseUNetSpec(checkpoint.spec);
  validateWeights(spec, checkpoint.weights);
  const dtype = checkpoint.dtype ?? 'F32';
  const mismatch = predictionMismatch(spec, checkpoint.sampling);
  if (mismatch !== undefined) throw new LevelskipError('INVALID_OPTION', mismatch);
  if (checkpoint.sampling !== undefined) {
    const checked = manifestSchema.shape.sampling.safeParse(checkpoint.sampling, { error: zodMessages });
    if (!checked.success) {
      const problems = safeZodIssues(checked.error).map((issue) => `sampling${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`);
      throw new LevelskipError('INVALID_OPTION', `Recommended sampling settings are not valid: ${problems.join('; ')}`, { cause: checked.error });
    }
  }
  if (checkpoint.training !== undefined) {
    // Checked as loading checks it, so no save writes a model.json that cannot be loaded back.
    const checked = trainingRecordSchema.safeParse(checkpoint.training, { error: zodMessages });
    if (!checked.success) {
      throw new LevelskipError('INVALID_OPTION', `The training record is not valid: ${trainingRecordProblems(checked.error).join('; ')}`, { cause: checked.error });
    }
  }
  const manifest: CheckpointManifest = {
    format: formatName,
    formatVersion: checkpointFormatVersion,
    spec: spec as UNetSpecInput,
    ...(checkpoint.training === undefined ? {} : { training: checkpoint.training }),
    ...(checkpoint.sampling === undefined ? {} : { sampling: checkpoint.sampling }),
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
  let spec: UNetSpec;
  try {
    spec = parseUNetSpec(manifest.spec);
  } catch (error) {
    throw errorInFile(error, path);
  }
  const mismatch = predictionMismatch(spec, manifest.sampling);
  if (mismatch !== undefined) throw new LevelskipError('CHECKPOINT_CORRUPT', `${path}: ${mismatch}`);
  return { manifest, spec };
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
  const header = readCheckpointManifest(typeof manifest === 'string' ? manifest : new TextDecoder().decode(manifest), manifestPath);
  const weightsPath = sources.weights ?? header.manifest.weightsFile;
  const bytes = weights instanceof Uint8Array ? weights : new Uint8Array(weights);
  let layout: SafetensorsLayout;
  try {
    layout = parseSafetensorsHeader(bytes, bytes.length);
  } catch (error) {
    throw errorInFile(error, weightsPath);
  }
  return readCheckpointWeights(header, layout, (entry) => bytes.subarray(layout.dataStart + entry.begin, layout.dataStart + entry.end), weightsPath);
}

/**
 * Checks a weights file's header against its manifest before any tensor is read: every tensor
 * must be stored in the dtype model.json records.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming the first tensor whose dtype differs.
 */
export function checkWeightsLayout(manifest: CheckpointManifest, layout: SafetensorsLayout): void {
  const other = layout.entries.find((entry) => entry.dtype !== manifest.dtype);
  if (other !== undefined) {
    throw new LevelskipError(
      'CHECKPOINT_CORRUPT',
      `tensor ${quoteName(other.name)} is stored as ${other.dtype}, but model.json records dtype ${manifest.dtype}: ` +
        'the weights file does not belong to this manifest (a mixed or interrupted copy?); restore both files from the same save',
    );
  }
}

/**
 * Checks that every weight is finite (no NaN, no ±Infinity): a non-finite weight turns every
 * sample into NaN, which would otherwise surface as black images.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming the tensor and the first bad index.
 */
export function checkWeightsFinite(weights: Iterable<readonly [string, HostTensor]>): void {
  for (const [name, tensor] of weights) checkTensorFinite(name, tensor.data);
}

/**
 * The weights of a checkpoint, read tensor by tensor: after `readCheckpointManifest` and
 * `parseSafetensorsHeader` (which checks the header against the file's length), so a caller can
 * read each tensor's bytes with a positional read instead of holding the whole file.
 *
 * Checks the dtypes against the manifest, decodes each tensor, checks it is finite, and checks the
 * weights against the spec.
 *
 * @param readTensorBytes Returns exactly the file's bytes `[dataStart + begin, dataStart + end)` of `entry`.
 * @param weightsPath Names the weights file in errors.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a dtype other than the manifest's or a non-finite
 *   weight; `WEIGHTS_MISMATCH` when the weights do not fit the spec. Messages start with `weightsPath`.
 */
export function readCheckpointWeights(
  header: { readonly manifest: CheckpointManifest; readonly spec: UNetSpec },
  layout: SafetensorsLayout,
  readTensorBytes: (entry: SafetensorsEntry) => Uint8Array,
  weightsPath: string = checkpointFiles.weights,
): LoadedCheckpoint {
  try {
    checkWeightsLayout(header.manifest, layout);
    const tensors = new Map<string, HostTensor>();
    for (const entry of layout.entries) {
      tensors.set(entry.name, { shape: entry.shape, data: decodeSafetensorsTensor(entry, readTensorBytes(entry), { rejectNonFinite: true }) });
    }
    validateWeights(header.spec, tensors);
    return { spec: header.spec, weights: tensors, manifest: header.manifest };
  } catch (error) {
    throw errorInFile(error, weightsPath);
  }
}
