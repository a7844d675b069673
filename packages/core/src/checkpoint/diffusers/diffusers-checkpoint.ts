/**
 * 🤗 diffusers directories as levelskip checkpoints, from bytes (no file system: Node's
 * `loadCheckpoint` and the browser's `fetchCheckpoint` read the files and call these).
 *
 * Two layouts are read:
 *
 *   a UNet2DModel directory (`save_pretrained` of the model)
 *     config.json                                  the model config
 *     diffusion_pytorch_model.safetensors          the weights (or .fp16.safetensors, .bin, .fp16.bin)
 *     scheduler_config.json                        optional; Hub repositories such as
 *                                                  google/ddpm-cifar10-32 keep it beside the model
 *   a pipeline directory (`save_pretrained` of a DDPMPipeline / DDIMPipeline)
 *     model_index.json                             the components: unet and scheduler only
 *     unet/config.json, unet/diffusion_pytorch_model.safetensors
 *     scheduler/scheduler_config.json
 *
 * Everything that decides whether levelskip can run the model (model_index.json's components,
 * the scheduler config, the UNet config) is checked by `readDiffusersHeader` before any weight is
 * read; a refused config is reported even when the weights file is damaged. The weights then
 * pass the same checks as a levelskip checkpoint's (finite values, one dtype, every tensor of the
 * spec with its shape and no other), after deprecated attention names are renamed.
 *
 * The result is a `LoadedCheckpoint` whose manifest is synthesised: the translated spec, a
 * training record naming the origin and the noise schedule (`training.noiseSchedule`, which the CLI
 * and the pipeline read), and the scheduler's sampler settings as `sampling`.
 */
import { specPredictionOf } from '../../spec/prediction-type.js';
import type { HostTensor } from '../../backend/tensor-ops.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import type { NoiseScheduleConfig } from '../../noise/noise-schedule.js';
import type { UNetSpec, UNetSpecInput } from '../../spec/unet-spec.js';
import { checkpointFormatVersion, checkWeightsLayout, errorInFile, type CheckpointManifest, type LoadedCheckpoint } from '../checkpoint-format.js';
import { decodeSafetensorsTensor, parseSafetensorsHeader, type SafetensorsDtype, type SafetensorsLayout } from '../safetensors.js';
import { quoteName, quoteToken } from '../strict-json.js';
import { readTorchStateDict } from '../torch-pickle/read-torch-state-dict.js';
import { validateWeights } from '../validate-weights.js';
import { diffusersUNetClass, unetSpecFromDiffusersConfig } from './config-to-spec.js';
import { renameDeprecatedAttention } from './deprecated-attention-names.js';
import { diffusersIssuesError, parseDiffusersJson } from './diffusers-json.js';
import { readDiffusersSchedulerConfig, supportedSchedulerClasses, type DiffusersScheduler } from './scheduler-config.js';

/** File and folder names of diffusers directories. */
export const diffusersFiles = Object.freeze({
  config: 'config.json',
  modelIndex: 'model_index.json',
  schedulerConfig: 'scheduler_config.json',
  unetFolder: 'unet',
  schedulerFolder: 'scheduler',
  /** A sharded model's index, which levelskip does not read (UNet2DModels are small enough for one file). */
  shardIndex: 'diffusion_pytorch_model.safetensors.index.json',
} as const);

/**
 * Weights file names in the order a loader looks for them: full precision before the fp16
 * variant (diffusers' `variant="fp16"`), safetensors before PyTorch's `.bin`.
 */
export const diffusersWeightsFiles = Object.freeze([
  'diffusion_pytorch_model.safetensors',
  'diffusion_pytorch_model.fp16.safetensors',
  'diffusion_pytorch_model.bin',
  'diffusion_pytorch_model.fp16.bin',
] as const);

/** The weights file name of a diffusers variant (`fp16` → `diffusion_pytorch_model.fp16.safetensors`). */
export function diffusersWeightsFile(variant: string | undefined, format: 'safetensors' | 'bin'): string {
  if (variant !== undefined && !/^[0-9a-z_]{1,16}$/.test(variant)) {
    throw new LevelskipError('INVALID_OPTION', `variant must be a short name of lower-case letters, digits or _ such as "fp16", got ${quoteToken(variant)}`);
  }
  return `diffusion_pytorch_model${variant === undefined ? '' : `.${variant}`}.${format}`;
}

/** What model_index.json says about a pipeline directory. */
export interface DiffusersPipelineIndex {
  /** The pipeline class (`_class_name`), e.g. `DDPMPipeline`. */
  readonly className: string | undefined;
  /** The scheduler class named for the `scheduler` component, when there is one. */
  readonly schedulerClass: string | undefined;
}

const componentAdvice = 'levelskip runs pipelines of one UNet2DModel and one scheduler (DDPMPipeline, DDIMPipeline); latent and text-conditioned pipelines need components it does not have';

/**
 * Checks model_index.json: its components must be `unet` (diffusers UNet2DModel) and optionally
 * `scheduler`; any other non-null component (a VAE, a text encoder) is refused.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for malformed JSON or entries; `UNSUPPORTED` naming
 *   each component levelskip cannot run.
 */
export function readDiffusersModelIndex(text: string, source: string = diffusersFiles.modelIndex): DiffusersPipelineIndex {
  const index = parseDiffusersJson(text, source);
  const unsupported: { path: string[]; message: string }[] = [];
  const invalid: { path: string[]; message: string }[] = [];
  let schedulerClass: string | undefined;
  let unet = false;
  for (const [key, value] of Object.entries(index)) {
    if (key.startsWith('_')) continue;
    if (value === null) continue;
    const pair = Array.isArray(value) && value.length === 2 && value.every((part) => part === null || typeof part === 'string') ? (value as [string | null, string | null]) : undefined;
    if (pair === undefined) {
      // Pipeline arguments that are not components (e.g. `requires_safety_checker`) are plain values.
      if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') continue;
      invalid.push({ path: [key], message: 'must be a [library, class] pair' });
      continue;
    }
    const [, className] = pair;
    if (pair[0] === null && className === null) continue;
    if (key === 'unet') {
      unet = true;
      if (className !== diffusersUNetClass) unsupported.push({ path: [key], message: `${quoteToken(className)} is not supported; supported: "${diffusersUNetClass}"` });
    } else if (key === 'scheduler') {
      schedulerClass = className ?? undefined;
      if (className === null || !supportedSchedulerClasses.includes(className)) {
        unsupported.push({ path: [key], message: `${quoteToken(className)} is not supported; supported: ${supportedSchedulerClasses.join(', ')}` });
      }
    } else {
      unsupported.push({ path: [key], message: `the component ${quoteName(key)} (${quoteToken(className)}) is not supported; ${componentAdvice}` });
    }
  }
  if (!unet) invalid.push({ path: ['unet'], message: 'is missing: a pipeline levelskip runs has a "unet" component' });
  if (invalid.length > 0) throw diffusersIssuesError('CHECKPOINT_CORRUPT', source, 'not valid for a diffusers pipeline index', invalid);
  if (unsupported.length > 0) throw diffusersIssuesError('UNSUPPORTED', source, 'levelskip cannot run', unsupported);
  const className = index['_class_name'];
  return { className: typeof className === 'string' ? className : undefined, schedulerClass };
}

/** The texts of a diffusers directory's JSON files. */
export interface DiffusersConfigTexts {
  /** The UNet's config.json. */
  readonly config: string;
  /** scheduler_config.json, when the directory has one. */
  readonly schedulerConfig?: string | undefined;
  /** model_index.json, for a pipeline directory. */
  readonly modelIndex?: string | undefined;
}

/** Where each file came from (paths or URLs), for error messages and the training record. */
export interface DiffusersSources {
  readonly config?: string;
  readonly schedulerConfig?: string;
  readonly modelIndex?: string;
  readonly weights?: string;
}

/** Everything known before the weights are read. */
export interface DiffusersHeader {
  readonly spec: UNetSpec;
  /** The translated scheduler config; undefined when the directory has none. */
  readonly scheduler: DiffusersScheduler | undefined;
  readonly pipeline: DiffusersPipelineIndex | undefined;
  /** `_diffusers_version` of config.json when it is a plain version string. */
  readonly diffusersVersion: string | undefined;
  readonly sources: Required<Pick<DiffusersSources, 'config'>> & DiffusersSources;
}

/**
 * Checks and translates a diffusers directory's JSON files: model_index.json (if given), the
 * scheduler config (if given; its `num_train_timesteps` becomes the spec's `trainTimesteps`), then
 * the UNet config. Nothing else is read.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for malformed files, `UNSUPPORTED` naming every field
 *   levelskip cannot run (see `unetSpecFromDiffusersConfig`, `schedulerFromDiffusersConfig`),
 *   `INVALID_SPEC` for a spec beyond levelskip's bounds.
 */
export function readDiffusersHeader(texts: DiffusersConfigTexts, sources: DiffusersSources = {}): DiffusersHeader {
  const configSource = sources.config ?? diffusersFiles.config;
  const pipeline = texts.modelIndex === undefined ? undefined : readDiffusersModelIndex(texts.modelIndex, sources.modelIndex ?? diffusersFiles.modelIndex);
  const scheduler =
    texts.schedulerConfig === undefined ? undefined : readDiffusersSchedulerConfig(texts.schedulerConfig, { source: sources.schedulerConfig ?? diffusersFiles.schedulerConfig });
  const config = parseDiffusersJson(texts.config, configSource);
  // The scheduler says what the network outputs (prediction_type); the spec carries it, so that
  // samplers convert it without being told.
  const prediction = scheduler?.sampling.prediction === undefined ? undefined : specPredictionOf(scheduler.sampling.prediction);
  const spec = unetSpecFromDiffusersConfig(config, {
    source: configSource,
    ...(scheduler === undefined ? {} : { trainTimesteps: scheduler.trainTimesteps }),
    ...(prediction === undefined ? {} : { prediction }),
  });
  const version = config['_diffusers_version'];
  return {
    spec,
    scheduler,
    pipeline,
    diffusersVersion: typeof version === 'string' && /^[0-9A-Za-z.+-]{1,32}$/.test(version) ? version : undefined,
    sources: { ...sources, config: configSource },
  };
}

/** DDPM's linear schedule, what a bare UNet2DModel directory (no scheduler config) is assumed to use. */
const assumedNoiseSchedule: NoiseScheduleConfig = { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainTimesteps: 1000 };

/** The manifest a diffusers directory stands for. */
export function diffusersManifest(header: DiffusersHeader, dtype: SafetensorsDtype, weightsSource: string, createdAt: string = new Date().toISOString()): CheckpointManifest {
  const { scheduler, sources } = header;
  const training: Record<string, unknown> = {
    origin: `diffusers ${diffusersUNetClass}${header.diffusersVersion === undefined ? '' : ` (diffusers ${header.diffusersVersion})`}`,
    ...(header.pipeline?.className === undefined ? {} : { pipeline: header.pipeline.className }),
    config: sources.config,
    weights: weightsSource,
    scheduler: scheduler === undefined ? 'none: no scheduler_config.json, DDPM\'s linear β from 1e-4 to 0.02 over T = 1000 assumed' : `${scheduler.className} (${sources.schedulerConfig ?? diffusersFiles.schedulerConfig})`,
    noiseSchedule: scheduler?.noiseSchedule ?? assumedNoiseSchedule,
  };
  return {
    format: 'levelskip-checkpoint',
    formatVersion: checkpointFormatVersion,
    spec: header.spec as UNetSpecInput,
    training,
    ...(scheduler === undefined ? {} : { sampling: scheduler.sampling }),
    weightsFile: 'model.safetensors',
    dtype,
    createdAt,
  };
}

/** The checks every diffusers weights map passes: renamed attention, finite values (done by the readers), the spec's tensors. */
function checkpointOf(header: DiffusersHeader, tensors: Map<string, HostTensor>, manifest: CheckpointManifest, weightsSource: string): LoadedCheckpoint {
  try {
    const weights = renameDeprecatedAttention(tensors, weightsSource);
    validateWeights(header.spec, weights);
    return { spec: header.spec, weights, manifest };
  } catch (error) {
    throw errorInFile(error, weightsSource);
  }
}

export interface DiffusersWeightsOptions {
  /** The manifest's `createdAt` (default: now); Node passes the weights file's modification time. */
  readonly createdAt?: string;
}

/**
 * The checkpoint of a diffusers directory whose weights are a safetensors file (held in memory).
 * Every tensor must have the same dtype (F32, F16 or BF16), which the manifest records.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a malformed file or a non-finite weight,
 *   `UNSUPPORTED` for mixed dtypes, `WEIGHTS_MISMATCH` when the tensors do not fit the spec; each
 *   message starts with the weights file's name.
 */
export function diffusersCheckpointFromSafetensors(header: DiffusersHeader, bytes: Uint8Array, options: DiffusersWeightsOptions = {}): LoadedCheckpoint {
  const weightsSource = header.sources.weights ?? diffusersWeightsFiles[0];
  let layout: SafetensorsLayout;
  try {
    layout = parseSafetensorsHeader(bytes, bytes.length);
  } catch (error) {
    throw errorInFile(error, weightsSource);
  }
  const dtype = layout.entries[0]?.dtype ?? 'F32';
  const other = layout.entries.find((entry) => entry.dtype !== dtype);
  if (other !== undefined) {
    throw new LevelskipError(
      'UNSUPPORTED',
      `${weightsSource}: tensor ${quoteName(other.name)} is stored as ${other.dtype} but ${quoteName(layout.entries[0]!.name)} as ${dtype}; levelskip reads weights files of one dtype (save the model in one precision)`,
    );
  }
  const manifest = diffusersManifest(header, dtype, weightsSource, options.createdAt);
  const tensors = new Map<string, HostTensor>();
  try {
    checkWeightsLayout(manifest, layout);
    for (const entry of layout.entries) {
      const data = decodeSafetensorsTensor(entry, bytes.subarray(layout.dataStart + entry.begin, layout.dataStart + entry.end), { rejectNonFinite: true });
      tensors.set(entry.name, { shape: entry.shape, data });
    }
  } catch (error) {
    throw errorInFile(error, weightsSource);
  }
  return checkpointOf(header, tensors, manifest, weightsSource);
}

/**
 * The checkpoint of a diffusers directory whose weights are PyTorch's `diffusion_pytorch_model.bin`
 * (held in memory), read by core's restricted reader (`readTorchStateDict`: nothing is executed).
 * The tensors are widened to float32, which the manifest records as its dtype.
 *
 * @throws LevelskipError `readTorchStateDict`'s errors and `WEIGHTS_MISMATCH`, each naming the file.
 */
export function diffusersCheckpointFromTorchFile(header: DiffusersHeader, bytes: Uint8Array, options: DiffusersWeightsOptions = {}): LoadedCheckpoint {
  const weightsSource = header.sources.weights ?? diffusersWeightsFiles[2];
  const tensors = readTorchStateDict(bytes, { source: weightsSource });
  return checkpointOf(header, tensors, diffusersManifest(header, 'F32', weightsSource, options.createdAt), weightsSource);
}

/**
 * A diffusers directory's checkpoint from its files' contents: the JSON texts and the weights
 * file's bytes (safetensors, or PyTorch's zip format when `sources.weights` ends in `.bin`).
 * The JSON files are checked first (`readDiffusersHeader`), so a refused config is reported
 * whatever the weights hold.
 */
export function parseDiffusersCheckpoint(
  texts: DiffusersConfigTexts,
  weights: Uint8Array | ArrayBuffer,
  sources: DiffusersSources = {},
  options: DiffusersWeightsOptions = {},
): LoadedCheckpoint {
  const header = readDiffusersHeader(texts, sources);
  const bytes = weights instanceof Uint8Array ? weights : new Uint8Array(weights);
  return (sources.weights ?? '').endsWith('.bin') ? diffusersCheckpointFromTorchFile(header, bytes, options) : diffusersCheckpointFromSafetensors(header, bytes, options);
}
