/**
 * Writing a levelskip model as a 🤗 diffusers `UNet2DModel` directory (Node only; the configs are
 * built by `checkpoint/diffusers/spec-to-config.ts`):
 *
 *   config.json                               the UNet2DModel config
 *   diffusion_pytorch_model.safetensors       the weights, float32 (or the fp16 variant,
 *                                             diffusion_pytorch_model.fp16.safetensors)
 *   scheduler_config.json                     when a noise schedule is given (as Hub repositories
 *                                             such as google/ddpm-cifar10-32 keep it beside the model)
 *
 * which `UNet2DModel.from_pretrained(dir)` loads with no missing or unexpected keys (levelskip's
 * tensor names are diffusers'), and levelskip's own `loadCheckpoint` too.
 *
 * Every file is written atomically (a temporary file, fsync, rename). diffusers reads fixed file
 * names, so the directory cannot switch from one model to the next in a single rename as a
 * levelskip checkpoint does; instead config.json, the file that makes a directory a model, is
 * removed first and written last: a reader finds no model while the others are replaced, and
 * once config.json is there, every file beside it is the new one. Weights files of other variants
 * left by an earlier model are removed (a loader could pick them). Writes into one directory are
 * serialised by the same lock `saveCheckpoint` takes.
 */
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedTensors } from '../backend/tensor-ops.js';
import { checkpointFiles } from '../checkpoint/checkpoint-format.js';
import { diffusersFiles, diffusersWeightsFiles } from '../checkpoint/diffusers/diffusers-checkpoint.js';
import { diffusersConfigFromSpec, diffusersSchedulerConfig, type DiffusersSchedulerInput } from '../checkpoint/diffusers/spec-to-config.js';
import { serializeSafetensors } from '../checkpoint/safetensors.js';
import { validateWeights } from '../checkpoint/validate-weights.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import { acquireDirectoryLock } from './directory-lock.js';
import { errnoCode, fileSystemError } from './file-system-error.js';
import { removeStaleTemporaryFiles } from './temporary-files.js';
import { ensureDirectory } from './writable-directory.js';
import { writeFileAtomic } from './write-file-atomic.js';

export interface SaveDiffusersModelInput {
  readonly spec: UNetSpec | UNetSpecInput;
  readonly weights: NamedTensors;
  /** Also write scheduler_config.json for this noise schedule and sampler settings. */
  readonly scheduler?: DiffusersSchedulerInput;
  /**
   * Storage dtype: `F32` (default) writes `diffusion_pytorch_model.safetensors`; `F16` writes the
   * fp16 variant `diffusion_pytorch_model.fp16.safetensors` (load it with `variant="fp16"`).
   */
  readonly dtype?: 'F32' | 'F16';
}

export interface SavedDiffusersModel {
  /** The files written, relative to the directory, config.json last. */
  readonly files: readonly string[];
}

/** The lock `saveCheckpoint` takes, so a checkpoint save and an export never interleave in one directory. */
const saveLockFile = '.levelskip-save.lock';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw fileSystemError(error, path, { action: 'remove', what: 'an earlier export\'s file' });
  }
}

/**
 * Writes `spec` and `weights` to `dir` (created if needed) as a diffusers `UNet2DModel` directory,
 * plus `scheduler_config.json` when `scheduler` is given. Everything is checked before anything is
 * written: the spec must be expressible as a UNet2DModel and the weights must fit it.
 *
 * @throws LevelskipError `INVALID_SPEC` for an invalid spec; `UNSUPPORTED` naming every spec field
 *   diffusers cannot express (side paths, decoder stages, ode2 blocks, …); `WEIGHTS_MISMATCH` when
 *   the weights do not fit the spec; `INVALID_OPTION` for a bad scheduler option or dtype, when
 *   `dir` is a file, or when it holds a levelskip checkpoint (model.json, which loaders would read
 *   instead); `IO_ERROR` when the file system fails or another process is writing into `dir`.
 *
 * @example
 * ```ts
 * const { spec, weights } = await loadCheckpoint('checkpoints/mnist');
 * await saveDiffusersModel('exported/mnist-diffusers', {
 *   spec,
 *   weights,
 *   scheduler: { noiseSchedule: { kind: 'linear' } },
 * });
 * // Python: UNet2DModel.from_pretrained('exported/mnist-diffusers')
 * ```
 */
export async function saveDiffusersModel(dir: string, input: SaveDiffusersModelInput): Promise<SavedDiffusersModel> {
  const dtype = input.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16') {
    throw new LevelskipError('INVALID_OPTION', `dtype must be 'F32' or 'F16' (the fp16 variant), got ${String(dtype)}`, { issues: [{ path: ['dtype'], message: 'must be F32 or F16' }] });
  }
  const config = diffusersConfigFromSpec(input.spec);
  const spec = parseUNetSpec(input.spec);
  validateWeights(spec, input.weights);
  const schedulerText = input.scheduler === undefined ? undefined : json(diffusersSchedulerConfig(input.scheduler));
  // diffusers writes {"format": "pt"} as safetensors metadata; some loaders check it.
  const weightsBytes = serializeSafetensors(input.weights, { dtype, metadata: { format: 'pt' } });
  const weightsName = dtype === 'F16' ? diffusersWeightsFiles[1] : diffusersWeightsFiles[0];

  const existing = await stat(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fileSystemError(error, dir, { action: 'access', what: 'the export directory' });
  });
  if (existing !== undefined && !existing.isDirectory()) {
    throw new LevelskipError('INVALID_OPTION', `Cannot write a diffusers model to ${dir}: it is a file, not a directory; choose a directory path`);
  }
  await ensureDirectory(dir, { what: 'the export directory' });
  const lock = await acquireDirectoryLock(dir, { purpose: 'saveDiffusersModel', fileName: saveLockFile });
  try {
    if (await stat(join(dir, checkpointFiles.manifest)).then(() => true, () => false)) {
      throw new LevelskipError(
        'INVALID_OPTION',
        `${dir} holds a levelskip checkpoint (model.json), which loaders read before a diffusers config; write the diffusers model to another directory`,
      );
    }
    await removeStaleTemporaryFiles(dir);
    // No config.json while the other files change (see the top of this module).
    await removeIfPresent(join(dir, diffusersFiles.config));
    await writeFileAtomic(join(dir, weightsName), weightsBytes, { syncDirectory: false });
    for (const other of diffusersWeightsFiles) if (other !== weightsName) await removeIfPresent(join(dir, other));
    const files: string[] = [weightsName];
    if (schedulerText === undefined) {
      await removeIfPresent(join(dir, diffusersFiles.schedulerConfig));
    } else {
      await writeFileAtomic(join(dir, diffusersFiles.schedulerConfig), schedulerText, { syncDirectory: false });
      files.push(diffusersFiles.schedulerConfig);
    }
    await writeFileAtomic(join(dir, diffusersFiles.config), json(config));
    files.push(diffusersFiles.config);
    return { files };
  } finally {
    await lock.release();
  }
}
