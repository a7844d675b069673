/**
 * 🤗 diffusers directories on disk (Node only; the formats are `checkpoint/diffusers/`): a
 * `UNet2DModel` directory (`config.json` + `diffusion_pytorch_model.safetensors`, its `.fp16`
 * variant or `.bin`) or a pipeline directory (`model_index.json`, `unet/`, `scheduler/`), loaded as
 * a `LoadedCheckpoint`. `loadCheckpoint` dispatches here for a directory without `model.json`.
 *
 * The order of work: the JSON files are read (bounded, regular files only) and checked first, so
 * a model levelskip cannot run is refused before its weights are opened; then the weights file is
 * chosen (see `diffusersWeightsFiles`) and read whole.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedCheckpoint } from '../checkpoint/checkpoint-format.js';
import {
  diffusersCheckpointFromSafetensors,
  diffusersCheckpointFromTorchFile,
  diffusersFiles,
  diffusersWeightsFile,
  diffusersWeightsFiles,
  readDiffusersHeader,
} from '../checkpoint/diffusers/diffusers-checkpoint.js';
import { maxDiffusersJsonBytes } from '../checkpoint/diffusers/diffusers-json.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { readRegularFile } from './read-regular-file.js';

export interface LoadDiffusersDirectoryOptions {
  /**
   * The weights variant to load (diffusers' `variant`, e.g. `fp16` for
   * `diffusion_pytorch_model.fp16.safetensors`). Default: the full-precision file when there is
   * one, else the fp16 variant, safetensors before `.bin`.
   */
  readonly variant?: string;
}

/** Whether `path` is a regular file (false when absent); other errors are thrown. */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw fileSystemError(error, path, { action: 'access' });
  }
}

/**
 * Whether `dir` looks like a diffusers directory: it holds `model_index.json` or `config.json`.
 * Cheap (two stats); nothing is validated.
 */
export async function isDiffusersDirectory(dir: string): Promise<boolean> {
  return (await isFile(join(dir, diffusersFiles.modelIndex))) || (await isFile(join(dir, diffusersFiles.config)));
}

async function readJson(path: string, what: string): Promise<string> {
  const bytes = await readRegularFile(path, { maxBytes: maxDiffusersJsonBytes, what, missingCode: 'CHECKPOINT_MISSING', tooLargeCode: 'CHECKPOINT_CORRUPT' });
  return new TextDecoder().decode(bytes);
}

/** Where the UNet and scheduler files of a directory are. */
interface DiffusersLayout {
  readonly unetDir: string;
  readonly modelIndex: string | undefined;
  readonly schedulerConfig: string | undefined;
}

/**
 * A pipeline keeps the UNet in `unet/` and the scheduler in `scheduler/`; older Hub repositories
 * (google/ddpm-cifar10-32) keep both at the top beside model_index.json, which diffusers also loads.
 */
async function findLayout(dir: string): Promise<DiffusersLayout> {
  const modelIndex = join(dir, diffusersFiles.modelIndex);
  const hasIndex = await isFile(modelIndex);
  const unetDir = hasIndex && (await isFile(join(dir, diffusersFiles.unetFolder, diffusersFiles.config))) ? join(dir, diffusersFiles.unetFolder) : dir;
  const candidates = [join(dir, diffusersFiles.schedulerFolder, diffusersFiles.schedulerConfig), join(dir, diffusersFiles.schedulerConfig)];
  let schedulerConfig: string | undefined;
  for (const candidate of candidates) {
    if (await isFile(candidate)) {
      schedulerConfig = candidate;
      break;
    }
  }
  if (!(await isFile(join(unetDir, diffusersFiles.config)))) {
    throw new LevelskipError(
      'CHECKPOINT_MISSING',
      hasIndex
        ? `${dir} has ${diffusersFiles.modelIndex} but no ${join(diffusersFiles.unetFolder, diffusersFiles.config)}: the pipeline's UNet is missing; download the whole pipeline directory`
        : `${dir} has no ${diffusersFiles.config}: pass a diffusers UNet2DModel or pipeline directory`,
    );
  }
  return { unetDir, modelIndex: hasIndex ? modelIndex : undefined, schedulerConfig };
}

/** The weights file of `unetDir`: the variant asked for, else the first of `diffusersWeightsFiles` present. */
async function findWeights(unetDir: string, variant: string | undefined): Promise<string> {
  const names = variant === undefined ? [...diffusersWeightsFiles] : [diffusersWeightsFile(variant, 'safetensors'), diffusersWeightsFile(variant, 'bin')];
  for (const name of names) {
    if (await isFile(join(unetDir, name))) return join(unetDir, name);
  }
  if (variant === undefined && (await isFile(join(unetDir, diffusersFiles.shardIndex)))) {
    throw new LevelskipError(
      'UNSUPPORTED',
      `${unetDir} holds a sharded model (${diffusersFiles.shardIndex}); levelskip reads one weights file: save it with a larger max_shard_size, or merge the shards`,
    );
  }
  throw new LevelskipError(
    'CHECKPOINT_MISSING',
    `${unetDir} has no weights file${variant === undefined ? '' : ` of variant ${JSON.stringify(variant)}`}: expected one of ${names.join(', ')}`,
  );
}

/**
 * Loads a diffusers `UNet2DModel` or pipeline directory (see the top of this module) as a levelskip
 * checkpoint: the spec translated from config.json, the weights (deprecated attention names
 * renamed), and a manifest carrying the scheduler's noise schedule and sampler settings.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` when config.json or the weights are absent;
 *   `UNSUPPORTED` naming each config field levelskip cannot run (before any weight is read) or a
 *   sharded model; `CHECKPOINT_CORRUPT` for malformed files; `WEIGHTS_MISMATCH` when the weights do
 *   not fit the config; `IO_ERROR` for file-system failures. Messages name the file.
 */
export async function loadDiffusersDirectory(dir: string, options: LoadDiffusersDirectoryOptions = {}): Promise<LoadedCheckpoint> {
  const layout = await findLayout(dir);
  const configPath = join(layout.unetDir, diffusersFiles.config);
  const texts = {
    config: await readJson(configPath, 'the diffusers model config'),
    schedulerConfig: layout.schedulerConfig === undefined ? undefined : await readJson(layout.schedulerConfig, 'the diffusers scheduler config'),
    modelIndex: layout.modelIndex === undefined ? undefined : await readJson(layout.modelIndex, 'the diffusers pipeline index'),
  };
  const sources = {
    config: configPath,
    ...(layout.schedulerConfig === undefined ? {} : { schedulerConfig: layout.schedulerConfig }),
    ...(layout.modelIndex === undefined ? {} : { modelIndex: layout.modelIndex }),
  };
  // Every config is checked before the weights are even looked for.
  const header = readDiffusersHeader(texts, sources);
  const weightsPath = await findWeights(layout.unetDir, options.variant);
  const bytes = await readRegularFile(weightsPath, { what: 'the diffusers weights', missingCode: 'CHECKPOINT_MISSING' });
  const modified = await stat(weightsPath).then(
    (info) => info.mtime.toISOString(),
    () => undefined,
  );
  const withWeights = { ...header, sources: { ...header.sources, weights: weightsPath } };
  const weightsOptions = modified === undefined ? {} : { createdAt: modified };
  return weightsPath.endsWith('.bin') ? diffusersCheckpointFromTorchFile(withWeights, bytes, weightsOptions) : diffusersCheckpointFromSafetensors(withWeights, bytes, weightsOptions);
}
