/**
 * The `model` option of `createPipeline`: a shipped model's name (`@levelskip/pretrained`), a
 * checkpoint directory (Node) or file: URL, an http(s) URL of a served checkpoint directory, or a
 * `{ spec, weights }` object (e.g. what `loadCheckpoint` returns). Whatever the source, the result
 * is a validated spec, the weights and the model's recommended sampling settings.
 */
import {
  LevelskipError,
  parseUNetSpec,
  type FetchCheckpointOptions,
  type LoadedCheckpoint,
  type NamedTensors,
  type RecommendedSampling,
  type UNetSpec,
  type UNetSpecInput,
} from '@levelskip/core';
import type { PipelineEnvironment } from './pipeline-environment.js';
import { optionError, shown } from './pipeline-errors.js';

/** A model in memory: a spec and its weights, optionally with model.json's contents. */
export interface PipelineModel {
  readonly spec: UNetSpec | UNetSpecInput;
  readonly weights: NamedTensors;
  /** model.json's contents (as `loadCheckpoint`, `fetchCheckpoint` and `loadPretrained` return them): its `sampling` and `training` are read. */
  readonly manifest?: { readonly sampling?: RecommendedSampling; readonly training?: Readonly<Record<string, unknown>> };
  /** Recommended sampling settings (over `manifest.sampling`). */
  readonly sampling?: RecommendedSampling;
  /** Training metadata (over `manifest.training`): its `schedule`, `fill` and `noiseSchedule` are read. */
  readonly training?: Readonly<Record<string, unknown>>;
  /** Shown in `pipeline.model.name` and messages (default `model object`). */
  readonly name?: string;
}

/** Where the pipeline's model came from. */
export type ModelSourceKind = 'pretrained' | 'directory' | 'url' | 'object';

/** The pipeline's model. */
export interface PipelineModelInfo {
  readonly source: ModelSourceKind;
  /** The shipped model's name, the directory, the URL, or the object's `name`. */
  readonly name: string;
  readonly spec: UNetSpec;
  /** The model's recommended sampling settings (model.json `sampling`), if it has any. */
  readonly recommended: RecommendedSampling | undefined;
  /** model.json's training metadata, if any. */
  readonly training: Readonly<Record<string, unknown>> | undefined;
}

/** A loaded model: its info, weights, and the code of errors in its recommendation. */
export interface ResolvedModel {
  readonly info: PipelineModelInfo;
  readonly weights: NamedTensors;
  readonly errorCode: 'CHECKPOINT_CORRUPT' | 'INVALID_OPTION';
}

export interface ModelSourceOptions {
  readonly baseUrl?: string | URL | undefined;
  readonly fetch?: FetchCheckpointOptions['fetch'];
  readonly signal?: AbortSignal | undefined;
  /** Download progress (URLs, and shipped models with `baseUrl`). */
  readonly onDownload?: FetchCheckpointOptions['onProgress'];
}

/** A bare name (no path separator, not starting with `.` or `~`): what a model name looks like. */
const bareName = /^[A-Za-z0-9_][\w.-]*$/;

function fromCheckpoint(source: ModelSourceKind, name: string, loaded: LoadedCheckpoint): ResolvedModel {
  return {
    info: { source, name, spec: loaded.spec, recommended: loaded.manifest.sampling, training: loaded.manifest.training },
    weights: loaded.weights,
    errorCode: 'CHECKPOINT_CORRUPT',
  };
}

function unknownModel(environment: PipelineEnvironment, name: string): LevelskipError {
  const where = environment.directories === undefined ? 'nor a URL (pass ./name/ for a checkpoint served beside the page)' : 'nor a checkpoint directory';
  return optionError(
    'createPipeline',
    'model',
    `${shown(name)} is not a shipped model (${environment.pretrainedNames.join(', ')}) ${where}; pass one of those names, ` +
      `${environment.directories === undefined ? '' : 'a directory holding model.json and model.safetensors, '}an http(s) URL of one, or { spec, weights }`,
    'CHECKPOINT_MISSING',
  );
}

function fromObject(model: PipelineModel): ResolvedModel {
  const weights = (model as { weights?: unknown }).weights;
  if (!(weights instanceof Map)) throw optionError('createPipeline', 'model.weights', `must be a Map of tensor names to { shape, data } (NamedTensors, as loadCheckpoint returns them), got ${shown(weights)}`);
  let spec: UNetSpec;
  try {
    spec = parseUNetSpec(model.spec);
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError(error.code, `createPipeline: model.spec: ${error.message}`, { cause: error, issues: error.issues });
  }
  const name = model.name ?? 'model object';
  if (typeof name !== 'string') throw optionError('createPipeline', 'model.name', `must be a string, got ${shown(name)}`);
  return {
    info: { source: 'object', name, spec, recommended: model.sampling ?? model.manifest?.sampling, training: model.training ?? model.manifest?.training },
    weights: model.weights,
    errorCode: 'INVALID_OPTION',
  };
}

/**
 * Loads the model `model` names.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` naming the shipped models for a name that is none of
 *   them (and no directory), `INVALID_OPTION` for a value of the wrong kind, and the loaders'
 *   errors (`CHECKPOINT_CORRUPT`, `IO_ERROR`, `ABORTED`, …).
 */
export async function resolveModel(environment: PipelineEnvironment, model: unknown, options: ModelSourceOptions): Promise<ResolvedModel> {
  const fetchOptions: FetchCheckpointOptions = {
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onDownload === undefined ? {} : { onProgress: options.onDownload }),
  };
  if (model instanceof URL) {
    if (model.protocol === 'http:' || model.protocol === 'https:') return fromCheckpoint('url', model.href, await environment.fetchCheckpoint(model, fetchOptions));
    if (model.protocol === 'file:' && environment.directories !== undefined) {
      const path = environment.directories.fromFileUrl(model);
      return fromCheckpoint('directory', path, await environment.directories.load(path));
    }
    throw optionError('createPipeline', 'model', `is a ${model.protocol} URL; pass an http(s) URL${environment.directories === undefined ? '' : ', a file: URL'} or a directory path`);
  }
  if (typeof model === 'string') {
    if (model.trim() === '') throw optionError('createPipeline', 'model', 'is empty; pass a shipped model name, a checkpoint directory, a URL or { spec, weights }');
    if (/^https?:\/\//i.test(model)) return fromCheckpoint('url', model, await environment.fetchCheckpoint(model, fetchOptions));
    if (/^file:/i.test(model)) return resolveModel(environment, new URL(model), options);
    if (environment.pretrainedNames.includes(model)) {
      const loaded = await environment.loadPretrained(model, { ...fetchOptions, ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }) });
      return fromCheckpoint('pretrained', model, loaded);
    }
    const { directories } = environment;
    if (directories === undefined) {
      if (bareName.test(model) && !model.includes('.')) throw unknownModel(environment, model);
      return fromCheckpoint('url', model, await environment.fetchCheckpoint(model, fetchOptions));
    }
    if (bareName.test(model) && !(await directories.exists(model))) throw unknownModel(environment, model);
    return fromCheckpoint('directory', model, await directories.load(model));
  }
  if (typeof model === 'object' && model !== null && 'spec' in model) return fromObject(model as PipelineModel);
  throw optionError(
    'createPipeline',
    'model',
    `must be a shipped model name (${environment.pretrainedNames.join(', ')}), a checkpoint directory, an http(s) URL or { spec, weights }, got ${shown(model)}`,
  );
}
