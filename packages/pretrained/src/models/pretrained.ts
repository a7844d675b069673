/**
 * Offline access to the shipped models: their weights live in this package's `models/` directory
 * (one core checkpoint directory per model: model.json + fp16 model.safetensors) and are read
 * through core's checkpoint reader, so they load on any backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelskipError, loadCheckpoint, type LoadedCheckpoint } from '@levelskip/core';
import { catalogue, type CatalogueEntry } from './catalogue.js';

export interface PretrainedInfo extends CatalogueEntry {
  /** The checkpoint directory (model.json + model.safetensors). */
  readonly directory: string;
  /** Whether its weights are present (trained and shipped). */
  readonly available: boolean;
  /** The training record from its model.json (scheme, steps, batch, seed, duration, final loss, …). */
  readonly training?: Readonly<Record<string, unknown>>;
}

let root: string | undefined;

/**
 * This package's root: the nearest directory above this module with our package.json. Found by
 * walking up, because the module runs from `src/models/` in tests and from `dist/` when installed.
 */
function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
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

function entryOf(name: string): CatalogueEntry {
  const entry = catalogue.find((e) => e.name === name);
  if (entry === undefined) {
    throw new LevelskipError(
      'CHECKPOINT_MISSING',
      `Unknown pretrained model ${JSON.stringify(name)}; the models are ${catalogue.map((e) => e.name).join(', ')} (available now: ${
        availableNames().join(', ') || 'none'
      })`,
    );
  }
  return entry;
}

function availableNames(): string[] {
  return catalogue.filter((e) => existsSync(join(pretrainedDirectory(e.name), 'model.json'))).map((e) => e.name);
}

/** The checkpoint directory of a catalogued model (whether or not it has been trained). */
export function pretrainedDirectory(name: string): string {
  if (!catalogue.some((e) => e.name === name)) entryOf(name);
  return join(packageRoot(), 'models', name);
}

/** Every catalogued model, with whether it is available and, if so, how it was trained. */
export function listPretrained(): PretrainedInfo[] {
  return catalogue.map((entry) => {
    const directory = pretrainedDirectory(entry.name);
    const manifestPath = join(directory, 'model.json');
    if (!existsSync(manifestPath)) return { ...entry, directory, available: false };
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { training?: Record<string, unknown> };
    return { ...entry, directory, available: true, ...(manifest.training === undefined ? {} : { training: manifest.training }) };
  });
}

/**
 * Loads a shipped model: its spec (validated) and weights (fp16 on disk, float32 in memory),
 * ready for `backend.createDenoiser(spec, weights)`.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` for an unknown name or a model not trained yet,
 *   naming the available ones; `CHECKPOINT_CORRUPT` if the files are damaged.
 */
export async function loadPretrained(name: string): Promise<LoadedCheckpoint & { readonly info: PretrainedInfo }> {
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
    ...(loaded.manifest.training === undefined ? {} : { training: loaded.manifest.training }),
  };
  return { ...loaded, info };
}
