/**
 * The shipped models in Node: their weights live in this package's `models/` directory (one core
 * checkpoint directory per model: model.json + fp16 model.safetensors) and are read through core's
 * checkpoint reader, so they load offline on any backend. With `baseUrl` they are fetched instead,
 * as in browsers (`pretrained-url.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelskipError, loadCheckpoint, parseCheckpointManifest } from '@levelskip/core';
import { catalogue } from './catalogue.js';
import { catalogueEntry, fetchPretrained, manifestInfo, type LoadPretrainedOptions, type LoadedPretrained, type PretrainedInfo } from './pretrained-url.js';

let root: string | undefined;

/**
 * This package's root: the nearest directory above this module with our package.json. Found by
 * walking up, because the module runs from `src/models/` in tests and from `dist/` when installed.
 */
function packageRoot(): string {
  if (root !== undefined) return root;
  // ESM (and the sources) have import.meta.url; in the CJS build import.meta is empty and __filename
  // is the module's path. Not `typeof __filename` first: `node -e` defines a global __filename.
  let dir = dirname(import.meta.url ? fileURLToPath(import.meta.url) : __filename);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@levelskip/pretrained') {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new LevelskipError('IO_ERROR', '@levelskip/pretrained cannot find its own package.json above its module; reinstall the package');
    dir = parent;
  }
}

function entryOf(name: string) {
  return catalogueEntry(name, catalogue.some((e) => e.name === name) ? undefined : availableNames());
}

function availableNames(): string[] {
  return catalogue.filter((e) => existsSync(join(pretrainedDirectory(e.name), 'model.json'))).map((e) => e.name);
}

/** The checkpoint directory of a catalogued model (whether or not it has been trained). */
export function pretrainedDirectory(name: string): string {
  if (!catalogue.some((e) => e.name === name)) entryOf(name);
  return join(packageRoot(), 'models', name);
}

/**
 * Every catalogued model, with whether it is available and, if so, how it was trained and the
 * sampling settings it is recommended with (model.json, checked by core's manifest parser).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when a shipped model.json is damaged.
 */
export function listPretrained(): PretrainedInfo[] {
  return catalogue.map((entry) => {
    const directory = pretrainedDirectory(entry.name);
    const manifestPath = join(directory, 'model.json');
    if (!existsSync(manifestPath)) return { ...entry, directory, available: false };
    const manifest = parseCheckpointManifest(readFileSync(manifestPath, 'utf8'), manifestPath);
    return { ...entry, directory, available: true, ...manifestInfo(manifest) };
  });
}

/**
 * Loads a shipped model: its spec (validated) and weights (fp16 on disk, float32 in memory),
 * ready for `backend.createDenoiser(spec, weights)`. From the installed package, or, with
 * `options.baseUrl`, fetched from where its `models/` directory is served.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` for an unknown name or a model not trained yet,
 *   naming the available ones; `CHECKPOINT_CORRUPT` if the files are damaged.
 */
export async function loadPretrained(name: string, options: LoadPretrainedOptions = {}): Promise<LoadedPretrained> {
  if (options.baseUrl !== undefined) return fetchPretrained(name, options);
  const entry = entryOf(name);
  const directory = pretrainedDirectory(name);
  if (!existsSync(join(directory, 'model.json'))) {
    throw new LevelskipError(
      'CHECKPOINT_MISSING',
      `The pretrained model ${JSON.stringify(name)} has not been trained and shipped yet (no ${join(directory, 'model.json')}); available now: ${
        availableNames().join(', ') || 'none'
      }. Train it with \`pnpm --filter @levelskip/pretrained train:models -- --model ${name}\``,
    );
  }
  const loaded = await loadCheckpoint(directory);
  const info: PretrainedInfo = {
    ...entry,
    directory,
    available: true,
    ...manifestInfo(loaded.manifest),
  };
  return { ...loaded, info };
}
