/**
 * 🤗 diffusers directories over HTTP(S), for `fetchCheckpoint` when a URL has no model.json: a
 * static copy of a `save_pretrained` directory, or a Hub repository's file URLs
 * (`https://huggingface.co/<owner>/<repo>/resolve/main/`). Without a directory listing, the files
 * are found by asking for them in the order `loadDiffusersDirectory` looks for them on disk; a 404
 * only means "not this one". The JSON files are fetched and checked before the weights.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import type { LoadedCheckpoint } from '../checkpoint-format.js';
import {
  diffusersCheckpointFromSafetensors,
  diffusersCheckpointFromTorchFile,
  diffusersFiles,
  diffusersWeightsFiles,
  readDiffusersHeader,
} from './diffusers-checkpoint.js';

/** Fetches one file; undefined on HTTP 404, every other failure thrown (as `fetchCheckpoint` reports it). */
export type FetchOptionalFile = (url: string, kind: 'config' | 'weights') => Promise<Uint8Array | undefined>;

const decode = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

/**
 * Loads the diffusers directory served at `base` (a directory URL ending in `/`), or returns
 * undefined when it has neither model_index.json nor config.json.
 *
 * @throws LevelskipError as `loadDiffusersDirectory`, naming URLs.
 */
export async function fetchDiffusersCheckpoint(base: string, fetchFile: FetchOptionalFile): Promise<LoadedCheckpoint | undefined> {
  const at = (path: string): string => new URL(path, base).href;
  const modelIndexUrl = at(diffusersFiles.modelIndex);
  const modelIndex = decode(await fetchFile(modelIndexUrl, 'config'));
  let unetBase = base;
  let config: string | undefined;
  if (modelIndex !== undefined) {
    unetBase = at(`${diffusersFiles.unetFolder}/`);
    config = decode(await fetchFile(new URL(diffusersFiles.config, unetBase).href, 'config'));
    // Older Hub repositories keep the UNet beside model_index.json.
    if (config === undefined) unetBase = base;
  }
  const configUrl = new URL(diffusersFiles.config, unetBase).href;
  config ??= decode(await fetchFile(configUrl, 'config'));
  if (config === undefined) {
    if (modelIndex === undefined) return undefined;
    throw new LevelskipError('CHECKPOINT_MISSING', `${base} has ${diffusersFiles.modelIndex} but neither unet/${diffusersFiles.config} nor ${diffusersFiles.config}: the pipeline's UNet is missing`);
  }
  let schedulerUrl = at(`${diffusersFiles.schedulerFolder}/${diffusersFiles.schedulerConfig}`);
  let schedulerConfig = decode(await fetchFile(schedulerUrl, 'config'));
  if (schedulerConfig === undefined) {
    schedulerUrl = at(diffusersFiles.schedulerConfig);
    schedulerConfig = decode(await fetchFile(schedulerUrl, 'config'));
  }
  const header = readDiffusersHeader(
    { config, schedulerConfig, modelIndex },
    { config: configUrl, ...(schedulerConfig === undefined ? {} : { schedulerConfig: schedulerUrl }), ...(modelIndex === undefined ? {} : { modelIndex: modelIndexUrl }) },
  );
  for (const name of diffusersWeightsFiles) {
    const url = new URL(name, unetBase).href;
    const bytes = await fetchFile(url, 'weights');
    if (bytes === undefined) continue;
    const withWeights = { ...header, sources: { ...header.sources, weights: url } };
    return name.endsWith('.bin') ? diffusersCheckpointFromTorchFile(withWeights, bytes) : diffusersCheckpointFromSafetensors(withWeights, bytes);
  }
  throw new LevelskipError('CHECKPOINT_MISSING', `${unetBase} serves no weights file: expected one of ${diffusersWeightsFiles.join(', ')}`);
}
