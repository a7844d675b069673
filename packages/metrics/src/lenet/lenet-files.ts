/**
 * The shipped classifier on disk (Node only): `weights/lenet.safetensors` of this package, found
 * from this module's own path. Browsers fetch the file and call `lenetFromSafetensors`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelskipError } from '@levelskip/core';
import { lenetFromSafetensors, lenetWeightsFileName, type Lenet } from './lenet.js';

/** Options of {@link loadLenet}. */
export interface LoadLenetOptions {
  /**
   * Directory holding `lenet.safetensors`; default this package's shipped `weights/`. Only weights
   * of the same architecture load.
   */
  readonly directory?: string;
}

/**
 * The directory of this package's shipped weights (`weights/` beside `package.json`), found by
 * walking up from this module, so it works from the sources, the ESM build and the CJS build.
 */
export function lenetWeightsDirectory(): string {
  // ESM (and the sources) have import.meta.url; in the CJS build import.meta is empty and __filename
  // is the module's path. Not `typeof __filename` first: `node -e` defines a global __filename.
  let directory = dirname(import.meta.url ? fileURLToPath(import.meta.url) : __filename);
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === '@levelskip/metrics') return join(directory, 'weights');
      } catch {
        // An unreadable package.json on the way up is not ours; keep walking.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) {
      throw new LevelskipError('CHECKPOINT_MISSING', "could not find @levelskip/metrics's package directory (and its weights/) above this module; reinstall @levelskip/metrics");
    }
    directory = parent;
  }
}

let shipped: Promise<Lenet> | undefined;

/**
 * Loads the classifier from `weights/lenet.safetensors` (the shipped weights unless
 * `options.directory` says otherwise). The shipped classifier is loaded once per process.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` when the file is absent, `CHECKPOINT_CORRUPT` when it
 *   is not valid safetensors, `WEIGHTS_MISMATCH` when its tensors are not this architecture's.
 */
export function loadLenet(options: LoadLenetOptions = {}): Promise<Lenet> {
  if (options.directory !== undefined) return readLenet(options.directory);
  shipped ??= readLenet(lenetWeightsDirectory()).catch((error: unknown) => {
    shipped = undefined;
    throw error;
  });
  return shipped;
}

async function readLenet(directory: string): Promise<Lenet> {
  const path = join(directory, lenetWeightsFileName);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new LevelskipError('CHECKPOINT_MISSING', `FD-LeNet weights not found at ${path}: ${(error as Error).message}. Reinstall @levelskip/metrics (it ships weights/lenet.safetensors).`, {
      cause: error,
    });
  }
  return lenetFromSafetensors(bytes);
}
