/**
 * `exportOnnx` (Node.js only; browsers use `exportOnnxFiles`): writes an export's files to a
 * directory. Each file is written atomically (core's `writeFileAtomic`: temporary file in the
 * same directory, fsync, rename), graphs first and the manifest last, so a reader never finds a
 * manifest naming a graph that is not fully on disk.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelskipError, writeFileAtomic, type NamedTensors, type UNetSpec, type UNetSpecInput } from '@levelskip/core';
import { exportOnnxFiles, type ExportOnnxOptions, type OnnxExportManifest } from './onnx-export-files.js';

/**
 * Writes the fused graphs of `spec` with `weights` to `dir` (created if missing) and `manifest.json`.
 * File names are `stage{s}-k{k}-{fill}.onnx` (`-full` at k = 0).
 *
 * @returns the manifest written.
 * @throws LevelskipError `WEIGHTS_MISMATCH`, `INVALID_OPTION`, `INVALID_FILL` or `IO_ERROR`.
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
    throw new LevelskipError('IO_ERROR', `could not create ${dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let manifest: OnnxExportManifest | undefined;
  for (const file of files) {
    await writeFileAtomic(join(dir, file.name), file.bytes);
    if (file.kind === 'manifest') manifest = file.manifest;
  }
  // exportOnnxFiles always ends with the manifest.
  return manifest!;
}
