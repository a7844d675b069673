/**
 * Shipped models over HTTP(S), for browsers (and Node, when the models are hosted rather than
 * installed): `<baseUrl>/<name>/model.json` + `model.safetensors`, i.e. this package's `models/`
 * directory served as static files.
 */
import { LevelskipError, fetchCheckpoint, type FetchCheckpointOptions, type LoadedCheckpoint, type RecommendedSampling, type TrainingRecord } from '@levelskip/core';
import { catalogue, type CatalogueEntry } from './catalogue.js';

export interface LoadPretrainedOptions extends FetchCheckpointOptions {
  /**
   * Where this package's `models/` directory is served, e.g. `'/models/'` in a page or
   * `'https://cdn.example.org/levelskip-models/'`. Required in browsers; in Node the models are
   * read from the installed package when it is absent.
   */
  readonly baseUrl?: string | URL;
}

/** A shipped model's catalogue entry and training record. */
export interface PretrainedInfo extends CatalogueEntry {
  /** Where it was loaded from: its package's directory, or the URL it was fetched from. */
  readonly directory: string;
  /** Its weights are present (its package is installed, or the server has them). */
  readonly available: true;
  /** The training record from its model.json (scheme, steps, batch, seed, duration, final loss, …). */
  readonly training?: TrainingRecord;
  /**
   * The sampling settings it is recommended with (model.json's `sampling`: sampler, steps, η,
   * clipping, a suggested schedule and fill, and a note with the measurement behind them), which
   * `levelskip sample` and `eval` use when no flag says otherwise.
   */
  readonly sampling?: RecommendedSampling;
}

/** A catalogued model whose package is not installed (from `listPretrained()`). */
export interface UnavailablePretrained extends CatalogueEntry {
  readonly available: false;
  readonly directory?: undefined;
  /** The command that installs it, e.g. `npm install @levelskip/model-mnist-full`. */
  readonly install: string;
}

/** One row of `listPretrained()`: an installed model's info, or how to install it. */
export type PretrainedListing = PretrainedInfo | UnavailablePretrained;

/** What `loadPretrained` returns: spec, weights and manifest, plus the model's info. */
export type LoadedPretrained = LoadedCheckpoint & { readonly info: PretrainedInfo };

/** The catalogue entry of `name`, or `CHECKPOINT_MISSING` naming the catalogued models. */
export function catalogueEntry(name: string, available?: readonly string[]): CatalogueEntry {
  const entry = catalogue.find((e) => e.name === name);
  if (entry === undefined) {
    const availableNow = available === undefined ? '' : ` (available now: ${available.join(', ') || 'none'})`;
    throw new LevelskipError('CHECKPOINT_MISSING', `Unknown pretrained model ${JSON.stringify(name)}; the models are ${catalogue.map((e) => e.name).join(', ')}${availableNow}`);
  }
  return entry;
}

/**
 * Fetches the shipped model `name` from `options.baseUrl` (see `LoadPretrainedOptions`).
 *
 * @throws LevelskipError `INVALID_OPTION` without a baseUrl; `CHECKPOINT_MISSING` for an unknown
 *   name or a model the server does not have; `fetchCheckpoint`'s errors otherwise.
 */
export async function fetchPretrained(name: string, options: LoadPretrainedOptions = {}): Promise<LoadedPretrained> {
  const entry = catalogueEntry(name);
  if (options.baseUrl === undefined) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `loadPretrained(${JSON.stringify(name)}) needs options.baseUrl here: there is no file system to read the installed models from. Serve @levelskip/pretrained's models/ directory as static files and pass its URL, e.g. { baseUrl: '/models/' }`,
    );
  }
  const base = String(options.baseUrl);
  const directory = `${base.endsWith('/') ? base : `${base}/`}${encodeURIComponent(name)}/`;
  const loaded = await fetchCheckpoint(directory, options);
  return { ...loaded, info: pretrainedInfo(entry, directory, loaded.manifest) };
}

/**
 * An available model's info: its catalogue entry, where it is, and the parts of its model.json that
 * `PretrainedInfo` carries (training record, recommended sampling).
 */
export function pretrainedInfo(entry: CatalogueEntry, directory: string, manifest: Pick<LoadedCheckpoint['manifest'], 'training' | 'sampling'>): PretrainedInfo {
  return {
    ...entry,
    directory,
    available: true,
    ...(manifest.training === undefined ? {} : { training: manifest.training }),
    ...(manifest.sampling === undefined ? {} : { sampling: manifest.sampling }),
  };
}
