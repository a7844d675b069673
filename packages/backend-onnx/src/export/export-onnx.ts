/**
 * `exportOnnx` (Node.js only; browsers use `exportOnnxFiles`): writes an export's files to a
 * directory. Overwriting an earlier export is safe: the graphs go under names of this export
 * first, `manifest.json` is switched atomically, and only then do the plain names and the final
 * manifest follow and the old export's leftovers go (see `export-directory.ts`), so a reader of
 * the manifest sees the old export or the new one, whole, even if the writer is killed or the disk
 * fills up part-way.
 */
import { mkdir } from 'node:fs/promises';
import { fileSystemError, type NamedTensors, type UNetSpec, type UNetSpecInput } from '@levelskip/core';
import { writeExportDirectory } from './export-directory.js';
import { exportOnnxFiles, type ExportOnnxOptions, type OnnxExportManifest } from './onnx-export-files.js';

/**
 * Writes the fused graphs of `spec` with `weights` to `dir` (created if missing) and `manifest.json`.
 * File names are `stage{s}-k{k}-{fill}.onnx` (`-full` at k = 0). Graph files of an earlier export
 * in `dir` that this one does not write are removed once the new manifest is in place; other
 * files are left alone. Two exports into one directory at once are refused (a lock file,
 * `.levelskip.lock`, exists while an export runs).
 *
 * @returns the manifest written.
 * @throws LevelskipError `WEIGHTS_MISMATCH`, `INVALID_OPTION` or `INVALID_FILL` before anything is
 *   written; `IO_ERROR` naming the path and the reason when the file system fails or another export
 *   holds the directory. On failure the directory holds the previous export or the new one, whole.
 */
export async function exportOnnx(
  specInput: UNetSpec | UNetSpecInput,
  weights: NamedTensors,
  dir: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxExportManifest> {
  const files = exportOnnxFiles(specInput, weights, options);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fileSystemError(error, dir, { action: 'create the export directory' });
  }
  return writeExportDirectory(dir, files);
}
