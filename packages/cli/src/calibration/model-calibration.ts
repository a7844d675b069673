/**
 * A model's calibration table in its checkpoint directory: read from model.json's `calibration`
 * (shipped models and checkpoints carry theirs), and written back into model.json atomically
 * (`levelskip calibrate --write`), keeping every other field exactly as it was.
 */
import { join } from 'node:path';
import {
  LevelskipError,
  acquireDirectoryLock,
  checkpointFiles,
  errnoCode,
  maxManifestDepth,
  parseCalibrationTable,
  parseCheckpointManifest,
  parseStrictJson,
  readCheckpointManifest,
  readRegularFile,
  type CalibrationTable,
} from '@levelskip/core';
import { writeFileAtomic } from '../files/write-file-atomic.js';

/** model.json files are a few KiB (a calibration table adds a few more); this bounds what is read. */
const maxManifestBytes = 4 * 1024 * 1024;

/** model.json's text in `directory`, or undefined when the directory has none (a diffusers folder, a spec-only source). */
async function readManifestText(directory: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await readRegularFile(join(directory, checkpointFiles.manifest), { what: 'model.json', maxBytes: maxManifestBytes }));
  } catch (error) {
    if (errnoCode((error as { cause?: unknown }).cause) === 'ENOENT' || errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The calibration table stored in the model.json of a model's directory, if any.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when model.json or its `calibration` is invalid.
 */
export async function readModelCalibration(model: { readonly directory: string | undefined }): Promise<CalibrationTable | undefined> {
  if (model.directory === undefined) return undefined;
  const text = await readManifestText(model.directory);
  if (text === undefined) return undefined;
  return readCheckpointManifest(text, join(model.directory, checkpointFiles.manifest)).manifest.calibration;
}

/**
 * Stores `table` as `calibration` in `directory`'s model.json: under the directory's lock, the
 * file is parsed, the field set (replacing an older table), the result checked as a manifest, and
 * written atomically (temporary file, fsync, rename). Other fields keep their values and order.
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` when the directory has no model.json (e.g. a
 *   diffusers folder: write the table to a file with --out instead), `CHECKPOINT_CORRUPT` for an
 *   unreadable model.json, `IO_ERROR` when writing fails, and the lock's error when another
 *   levelskip process holds the directory.
 */
export async function writeModelCalibration(directory: string, table: CalibrationTable): Promise<string> {
  const path = join(directory, checkpointFiles.manifest);
  parseCalibrationTable(table);
  const lock = await acquireDirectoryLock(directory, { purpose: `levelskip calibrate --write (${path})` });
  try {
    const text = await readManifestText(directory);
    if (text === undefined) {
      throw new LevelskipError('CHECKPOINT_MISSING', `${path} does not exist: --write stores the table in a levelskip checkpoint's model.json; write it to a file with --out instead`);
    }
    parseCheckpointManifest(text, path);
    const raw = parseStrictJson(text, { maxDepth: maxManifestDepth }) as Record<string, unknown>;
    const updated = `${JSON.stringify({ ...raw, calibration: table }, null, 2)}\n`;
    // What is written must read back as a valid manifest.
    parseCheckpointManifest(updated, path);
    await writeFileAtomic(path, updated);
    return path;
  } finally {
    await lock.release();
  }
}
