/**
 * Where a command's model comes from: a shipped pretrained model (`--model`), a checkpoint
 * directory (`--checkpoint`), or an architecture alone (`--preset`, `--spec`) with random weights
 * for timing runs (`--random-weights`). `modelSourceFromOptions` checks the flags (no I/O);
 * `loadModel` reads the model.
 */
import {
  LevelskipError,
  StrictJsonError,
  errnoCode,
  isBuiltinFillKind,
  linearBetaSchedule,
  loadCheckpoint,
  noiseScheduleFromConfig,
  parseStrictJson,
  parseUNetSpec,
  presets,
  randomWeights,
  readRegularFile,
  skipScheduleFromJSON,
  type BuiltinFillKind,
  type LoadedCheckpoint,
  type NamedTensors,
  type NoiseSchedule,
  type NoiseScheduleConfig,
  type PresetName,
  type RecommendedSampling,
  type SkipSchedule,
  type TrainingRecord,
  type UNetSpec,
} from '@levelskip/core';
import { loadPretrained } from '@levelskip/pretrained';
import { optionError } from '../options/option-values.js';

/** The largest `--spec` file read (a spec or model.json is a few KiB). */
export const maxSpecFileBytes = 1024 * 1024;

/** Deepest JSON nesting accepted in a `--spec` file (a spec nests 4 levels). */
const maxSpecFileDepth = 64;

export type ModelSource =
  | { readonly kind: 'pretrained'; readonly name: string }
  | { readonly kind: 'checkpoint'; readonly directory: string }
  | { readonly kind: 'preset'; readonly name: PresetName }
  | { readonly kind: 'spec-file'; readonly path: string };

/** The model flags as commander parsed them. */
export interface ModelSourceOptions {
  readonly model?: string;
  readonly checkpoint?: string;
  readonly preset?: string;
  readonly spec?: string;
}

/** Names of core's presets (`mnistSmall`, `ddpmCifar10`). */
export const presetNames = Object.keys(presets) as PresetName[];

/**
 * The one model source the flags name.
 *
 * @throws LevelskipError `INVALID_OPTION` when none or several of `--model`, `--checkpoint`,
 *   `--preset`, `--spec` are given, or the preset name is unknown.
 */
export function modelSourceFromOptions(options: ModelSourceOptions): ModelSource {
  const given = (['model', 'checkpoint', 'preset', 'spec'] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1) {
    const which = given.length === 0 ? 'no model was given' : `got ${given.map((key) => `--${key}`).join(' and ')}`;
    throw new LevelskipError(
      'INVALID_OPTION',
      `pass exactly one of --model <pretrained name>, --checkpoint <dir>, --preset <${presetNames.join('|')}> or --spec <file.json> (${which})`,
    );
  }
  if (options.model !== undefined) {
    if (options.model.trim() === '') throw optionError('--model', 'must name a pretrained model');
    return { kind: 'pretrained', name: options.model };
  }
  if (options.checkpoint !== undefined) {
    if (options.checkpoint.trim() === '') throw optionError('--checkpoint', 'must be a checkpoint directory');
    return { kind: 'checkpoint', directory: options.checkpoint };
  }
  if (options.preset !== undefined) {
    if (!(presetNames as string[]).includes(options.preset)) {
      throw optionError('--preset', `must be one of ${presetNames.join(', ')}, got ${JSON.stringify(options.preset)}`);
    }
    return { kind: 'preset', name: options.preset as PresetName };
  }
  if (options.spec!.trim() === '') throw optionError('--spec', 'must be a JSON file holding a U-Net spec');
  return { kind: 'spec-file', path: options.spec! };
}

/** Whether a source carries trained weights (pretrained models and checkpoints) or only an architecture. */
export function hasStoredWeights(source: ModelSource): boolean {
  return source.kind === 'pretrained' || source.kind === 'checkpoint';
}

/**
 * Checks the `--random-weights` flag against the source: a command that runs the model needs
 * weights, which only `--model` and `--checkpoint` have; `--random-weights` stands in for them
 * with `--preset` or `--spec` (timing runs), and makes no sense with stored weights.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the fix.
 */
export function checkWeightsChoice(source: ModelSource, randomWeights: boolean): void {
  if (hasStoredWeights(source) && randomWeights) {
    throw optionError('--random-weights', `replaces missing weights of --preset or --spec; --${source.kind === 'pretrained' ? 'model' : 'checkpoint'} has trained weights, so drop --random-weights`);
  }
  if (!hasStoredWeights(source) && !randomWeights) {
    const flag = source.kind === 'preset' ? '--preset' : '--spec';
    throw optionError(flag, 'gives an architecture without weights; add --random-weights (for timing), or use --model <name> or --checkpoint <dir>');
  }
}

export interface LoadModelOptions {
  /** `stored`: the source's trained weights; `random`: `randomWeights(spec, { seed })`; `none`: only the spec. */
  readonly weights: 'stored' | 'random' | 'none';
  /** Seed of random weights (default 0). */
  readonly weightsSeed?: number;
}

/** A model ready for `backend.createDenoiser(spec, weights)` and for accounting. */
export interface ResolvedModel {
  readonly source: ModelSource;
  /** Short description for summaries, e.g. `mnist-zero-c2`, `checkpoint out/model`, `preset mnistSmall (random weights)`. */
  readonly label: string;
  readonly spec: UNetSpec;
  /** Present unless `weights: 'none'` was asked. */
  readonly weights: NamedTensors | undefined;
  readonly weightsKind: 'stored' | 'random' | 'none';
  /** model.json's training record (checked when the manifest loaded), when the source has one. */
  readonly training: TrainingRecord | undefined;
  /** model.json's recommended sampling settings (`sampling`), when the source has them. */
  readonly sampling?: RecommendedSampling | undefined;
  /** The checkpoint directory, for pretrained models and checkpoints. */
  readonly directory: string | undefined;
}

/**
 * Reads a spec from a JSON file: a spec object, or a checkpoint manifest (model.json) holding one
 * under `spec`. Only a regular file of at most 1 MiB is read; errors name the path and the position
 * of a syntax fault, never the file's contents.
 *
 * @throws LevelskipError `INVALID_OPTION` (naming `--spec`) when the file does not exist or is not
 *   valid JSON, `IO_ERROR` when it cannot be read (a directory, a device, too large, EACCES, ...),
 *   `INVALID_SPEC` when the spec is invalid.
 */
export async function readSpecFile(path: string): Promise<UNetSpec> {
  let text: string;
  try {
    // core's reader: stat first, regular files only (not /dev/zero, a FIFO or a directory), bounded.
    text = new TextDecoder().decode(await readRegularFile(path, { what: 'the --spec file', maxBytes: maxSpecFileBytes }));
  } catch (error) {
    if (errnoCode((error as { cause?: unknown }).cause) === 'ENOENT') {
      throw optionError('--spec', `cannot read ${path} (the file does not exist); pass a JSON file holding a U-Net spec`);
    }
    throw error;
  }
  let json: unknown;
  try {
    json = parseStrictJson(text, { maxDepth: maxSpecFileDepth });
  } catch (error) {
    const where = error instanceof StrictJsonError ? error.message : 'a syntax error';
    throw optionError('--spec', `${path} is not valid JSON (${where})`);
  }
  const body = typeof json === 'object' && json !== null && !Array.isArray(json) && 'spec' in json ? (json as { spec: unknown }).spec : json;
  try {
    return parseUNetSpec(body);
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError(error.code, `${path}: ${error.message}`, { cause: error, issues: error.issues });
  }
}

function sourceLabel(source: ModelSource): string {
  switch (source.kind) {
    case 'pretrained':
      return source.name;
    case 'checkpoint':
      return `checkpoint ${source.directory}`;
    case 'preset':
      return `preset ${source.name}`;
    case 'spec-file':
      return `spec ${source.path}`;
  }
}

/**
 * Loads the model a source names.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` for an unknown or untrained pretrained name (naming
 *   the available ones) or a missing checkpoint directory; `CHECKPOINT_CORRUPT`, `INVALID_SPEC`,
 *   `WEIGHTS_MISMATCH` for damaged files; `INVALID_OPTION` when stored weights are asked of a
 *   preset or spec file.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions): Promise<ResolvedModel> {
  const label = sourceLabel(source);
  if (source.kind === 'pretrained' || source.kind === 'checkpoint') {
    if (options.weights === 'random') checkWeightsChoice(source, true);
    let loaded: LoadedCheckpoint;
    let directory: string;
    if (source.kind === 'pretrained') {
      const pretrained = await loadPretrained(source.name);
      loaded = pretrained;
      directory = pretrained.info.directory;
    } else {
      loaded = await loadCheckpoint(source.directory);
      directory = source.directory;
    }
    return {
      source,
      label,
      spec: loaded.spec,
      weights: options.weights === 'none' ? undefined : loaded.weights,
      weightsKind: options.weights === 'none' ? 'none' : 'stored',
      training: loaded.manifest.training,
      sampling: loaded.manifest.sampling,
      directory,
    };
  }
  if (options.weights === 'stored') checkWeightsChoice(source, false);
  const spec = source.kind === 'preset' ? parseUNetSpec(presets[source.name]) : await readSpecFile(source.path);
  const random = options.weights === 'random';
  return {
    source,
    label: random ? `${label} (random weights, seed ${options.weightsSeed ?? 0})` : label,
    spec,
    weights: random ? randomWeights(spec, { seed: options.weightsSeed ?? 0 }) : undefined,
    weightsKind: random ? 'random' : 'none',
    training: undefined,
    directory: undefined,
  };
}

/** The skip schedule a model was trained for (model.json `training.schedule`), if it records a valid one. */
export function trainedSchedule(training: TrainingRecord | undefined): SkipSchedule | undefined {
  const json = training?.schedule;
  // A string is a schedule's description (it had no JSON form): nothing to rebuild.
  if (json === undefined || json === null || typeof json === 'string') return undefined;
  try {
    return skipScheduleFromJSON(json);
  } catch {
    return undefined;
  }
}

/** The fill a model was trained with (model.json `training.fill`), if it records a built-in one (by kind). */
export function trainedFill(training: TrainingRecord | undefined): BuiltinFillKind | undefined {
  const fill = training?.fill;
  return isBuiltinFillKind(fill) ? fill : undefined;
}

/**
 * The noise schedule a model was trained with: model.json's `training.noiseSchedule` when it is a
 * config object (`{ kind: 'linear' | 'cosine', ... }`, as `train()` records it), else DDPM's linear
 * schedule over the spec's `trainTimesteps` (the default of training).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when the recorded config is invalid.
 */
export function trainedNoiseSchedule(spec: UNetSpec, training: TrainingRecord | undefined): NoiseSchedule {
  const config = training?.noiseSchedule;
  // Absent, or words (the shipped models' records): DDPM's linear schedule, which they were trained with.
  if (config === undefined || typeof config === 'string') return linearBetaSchedule({ trainTimesteps: spec.trainTimesteps });
  try {
    // The record checked it is an object with a string `kind`; noiseScheduleFromConfig checks the rest.
    const withT = config as unknown as NoiseScheduleConfig;
    const schedule = noiseScheduleFromConfig(withT.trainTimesteps === undefined ? { ...withT, trainTimesteps: spec.trainTimesteps } : withT);
    if (schedule.trainTimesteps !== spec.trainTimesteps) {
      throw new LevelskipError('INVALID_OPTION', `trainTimesteps ${schedule.trainTimesteps} differs from the spec's ${spec.trainTimesteps}`);
    }
    return schedule;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `model.json: training.noiseSchedule is not a valid noise schedule (${message})`, { cause: error });
  }
}
