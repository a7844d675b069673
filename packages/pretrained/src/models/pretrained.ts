/**
 * The shipped models in Node: each model's weights live in a package of its own,
 * `@levelskip/model-<name>` (one core checkpoint directory: model.json + fp16 model.safetensors),
 * found with Node's module resolution and read through core's checkpoint reader, so they load
 * offline on any backend. With `baseUrl` they are fetched instead, as in browsers
 * (`pretrained-url.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LevelskipError, loadCheckpoint, parseCheckpointManifest } from '@levelskip/core';
import { catalogue, type CatalogueEntry } from './catalogue.js';
import {
  catalogueEntry,
  fetchPretrained,
  pretrainedInfo,
  type LoadPretrainedOptions,
  type LoadedPretrained,
  type PretrainedListing,
} from './pretrained-url.js';

/**
 * Where module resolution starts: from this module (the model packages are this package's optional
 * peer dependencies, so a package manager links them beside it), then from the working directory
 * (an app that installed a model package itself, under a strict layout that did not link the peer).
 */
function resolutionBases(): string[] {
  // ESM (and the sources) have import.meta.url; in the CJS build import.meta is empty and __filename
  // is the module's path. Not `typeof __filename` first: `node -e` defines a global __filename.
  const self = import.meta.url ? import.meta.url : pathToFileURL(__filename).href;
  return [self, pathToFileURL(join(process.cwd(), 'package.json')).href];
}

/** The installed directory of a model's package, or undefined when it is not installed. */
function installedDirectory(entry: CatalogueEntry): string | undefined {
  for (const base of resolutionBases()) {
    try {
      return dirname(createRequire(base).resolve(`${entry.packageName}/package.json`));
    } catch {
      // not resolvable from here; try the next base
    }
  }
  return undefined;
}

function installCommand(entry: CatalogueEntry): string {
  return `npm install ${entry.packageName}`;
}

function installedNames(): string[] {
  return catalogue.filter((e) => installedDirectory(e) !== undefined).map((e) => e.name);
}

function notInstalled(entry: CatalogueEntry): LevelskipError {
  return new LevelskipError(
    'CHECKPOINT_MISSING',
    `The pretrained model ${JSON.stringify(entry.name)} ships in the package ${entry.packageName}, which is not installed; install it with \`${installCommand(entry)}\` (installed now: ${
      installedNames().join(', ') || 'none'
    })`,
  );
}

/**
 * The checkpoint directory of a catalogued model: its installed package's directory.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` for an unknown name (naming the catalogue) or a model
 *   whose package is not installed (naming the install command).
 */
export function pretrainedDirectory(name: string): string {
  const entry = catalogueEntry(name);
  const directory = installedDirectory(entry);
  if (directory === undefined) throw notInstalled(entry);
  return directory;
}

/**
 * Every catalogued model: for an installed one, where it is, how it was trained and the sampling
 * settings it is recommended with (model.json, checked by core's manifest parser); for the others,
 * the command that installs them.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when an installed model.json is damaged.
 */
export function listPretrained(): PretrainedListing[] {
  return catalogue.map((entry): PretrainedListing => {
    const directory = installedDirectory(entry);
    if (directory === undefined || !existsSync(join(directory, 'model.json'))) {
      return { ...entry, available: false, install: installCommand(entry) };
    }
    const manifestPath = join(directory, 'model.json');
    return pretrainedInfo(entry, directory, parseCheckpointManifest(readFileSync(manifestPath, 'utf8'), manifestPath));
  });
}

/**
 * Loads a shipped model: its spec (validated) and weights (fp16 on disk, float32 in memory),
 * ready for `backend.createDenoiser(spec, weights)`. From its installed package
 * (`@levelskip/model-<name>`), or, with `options.baseUrl`, fetched from where the model
 * directories are served.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` for an unknown name or a model whose package is not
 *   installed (naming `npm install @levelskip/model-<name>`); `CHECKPOINT_CORRUPT` if the files are
 *   damaged.
 */
export async function loadPretrained(name: string, options: LoadPretrainedOptions = {}): Promise<LoadedPretrained> {
  if (options.baseUrl !== undefined) return fetchPretrained(name, options);
  const entry = catalogueEntry(name, catalogue.some((e) => e.name === name) ? undefined : installedNames());
  const directory = pretrainedDirectory(name);
  if (!existsSync(join(directory, 'model.json'))) {
    throw new LevelskipError(
      'CHECKPOINT_MISSING',
      `The package ${entry.packageName} at ${directory} has no model.json; reinstall it with \`${installCommand(entry)}\``,
    );
  }
  const loaded = await loadCheckpoint(directory);
  return { ...loaded, info: pretrainedInfo(entry, directory, loaded.manifest) };
}
