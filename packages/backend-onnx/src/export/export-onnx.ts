/**
 * `exportOnnx` (Node.js only; browsers use `exportOnnxFiles`): writes an export's files to a
 * directory. Each file is written atomically (temporary file in the same directory, fsync,
 * rename), graphs first and the manifest last, so a reader never finds a manifest naming a graph
 * that is not fully on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelskipError, type NamedTensors, type UNetSpec, type UNetSpecInput } from '@levelskip/core';
import { exportOnnxFiles, type ExportOnnxOptions, type OnnxExportManifest } from './onnx-export-files.js';

async function writeAtomic(dir: string, file: string, data: Uint8Array): Promise<void> {
  const target = join(dir, file);
  const temp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new LevelskipError('IO_ERROR', `could not write ${target}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

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
    await writeAtomic(dir, file.name, file.bytes);
    if (file.kind === 'manifest') manifest = file.manifest;
  }
  // exportOnnxFiles always ends with the manifest.
  return manifest!;
}
