/**
 * Writing an export into a directory that may hold an earlier export, so that a reader (who goes
 * through `manifest.json`) always finds the old export or the new one, whole, whatever moment the
 * writer is killed or the disk fills up. The manifest is the commit point:
 *
 * 1. every graph is written under a name of this export alone, `stage0-k1-zero.<id>.onnx`
 *    (each atomically: temporary file, fsync, rename). The old manifest names none of them, so
 *    the old export stays intact; a failure here removes what was written and leaves the old
 *    export as it was;
 * 2. `manifest.json` is replaced (atomically) by one naming those versioned files: the new export
 *    is now the one readers see;
 * 3. each graph gets its plain name `stage0-k1-zero.onnx` (a hard link, or a copy, renamed over
 *    the old file). No manifest names a plain file during this phase;
 * 4. `manifest.json` is replaced by the final one, naming the plain files (what users and tools
 *    expect to find);
 * 5. the versioned files, graphs no manifest names any more (a previous export's depths that this
 *    one does not have, leftovers of an interrupted export) and dead processes' temporary files
 *    are removed.
 *
 * An exclusive lock on the directory (core's `acquireDirectoryLock`) keeps two exports from
 * interleaving; a lock left by a killed export is reclaimed.
 */
import { copyFile, link, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  LevelskipError,
  acquireDirectoryLock,
  exportableFillKinds,
  fileSystemError,
  removeStaleTemporaryFiles,
  syncDirectory,
  withTemporaryPath,
  writeFileAtomic,
} from '@levelskip/core';
import type { OnnxExportFile, OnnxExportManifest } from './onnx-export-files.js';

/** The file operations an export needs; tests inject failures through this. */
export interface ExportFileSystem {
  /** Writes a whole file atomically (temporary, fsync, rename). */
  writeFileAtomic(path: string, bytes: Uint8Array): Promise<void>;
  /** Makes `target` a second name of `source`'s content, atomically replacing `target`. */
  linkOver(source: string, target: string): Promise<void>;
}

/** A hard link (a copy where the file system has none) under a temporary name, renamed over `target`. */
async function linkOver(source: string, target: string): Promise<void> {
  await withTemporaryPath(target, async (temporary) => {
    try {
      await link(source, temporary);
    } catch {
      // FAT, some network file systems: no hard links. A copy is as good, only slower.
      await copyFile(source, temporary);
    }
    await rename(temporary, target);
  });
}

export const nodeExportFileSystem: ExportFileSystem = {
  writeFileAtomic: (path, bytes) => writeFileAtomic(path, bytes),
  linkOver,
};

/** Graph files of an export, plain (`stage0-k1-zero.onnx`) or versioned (`stage0-k1-zero.1a2b3c4d.onnx`), of any exportable fill. */
const graphFilePattern = new RegExp(`^stage\\d+-k\\d+-(?:full|${exportableFillKinds.join('|')})(?:\\.[0-9a-f]{8})?\\.onnx$`);

/** True for the name of a graph file an export writes, in either form. */
export function isExportGraphFileName(name: string): boolean {
  return graphFilePattern.test(name);
}

/** `stage0-k1-zero.onnx` → `stage0-k1-zero.<id>.onnx`. */
export function versionedGraphName(file: string, id: string): string {
  return file.replace(/\.onnx$/, `.${id}.onnx`);
}

function manifestBytes(manifest: OnnxExportManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

async function removeQuietly(paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(path, { force: true }).catch(() => undefined);
}

/**
 * Writes `files` (graphs, then the manifest, as `exportOnnxFiles` yields them) into the existing
 * directory `dir` as described at the top of this module.
 *
 * @returns the manifest written (naming the plain file names).
 * @throws LevelskipError `IO_ERROR` naming the path and the reason. Before the new manifest is in
 *   place, the directory still holds the previous export, untouched, and nothing of this one; after
 *   it, the directory holds the new export (under versioned names until step 4 completes).
 */
export async function writeExportDirectory(dir: string, files: Iterable<OnnxExportFile>, fs: ExportFileSystem = nodeExportFileSystem): Promise<OnnxExportManifest> {
  const lock = await acquireDirectoryLock(dir, { purpose: 'exportOnnx' });
  try {
    const id = randomBytes(4).toString('hex');
    const written: string[] = [];
    let manifest: OnnxExportManifest | undefined;
    // Steps 1 and 2: versioned graphs, then the manifest naming them.
    try {
      for (const file of files) {
        if (file.kind === 'manifest') {
          manifest = file.manifest;
          break;
        }
        const path = join(dir, versionedGraphName(file.name, id));
        written.push(path);
        await fs.writeFileAtomic(path, file.bytes);
      }
      if (manifest === undefined) throw new LevelskipError('INTERNAL', 'exportOnnxFiles ended without a manifest');
      const versioned: OnnxExportManifest = { ...manifest, graphs: manifest.graphs.map((graph) => ({ ...graph, file: versionedGraphName(graph.file, id) })) };
      await fs.writeFileAtomic(join(dir, 'manifest.json'), manifestBytes(versioned));
    } catch (error) {
      // The old manifest still rules: what this export wrote is nobody's.
      await removeQuietly(written);
      throw error;
    }
    // Steps 3 and 4: plain names, then the final manifest. A failure leaves the versioned export in force.
    for (const graph of manifest.graphs) {
      const target = join(dir, graph.file);
      try {
        await fs.linkOver(join(dir, versionedGraphName(graph.file, id)), target);
      } catch (error) {
        throw fileSystemError(error, target, { action: 'write', what: 'the exported graph' });
      }
    }
    await syncDirectory(dir);
    await fs.writeFileAtomic(join(dir, 'manifest.json'), manifestBytes(manifest));
    // Step 5: anything the final manifest does not name.
    await removeOrphans(dir, new Set(manifest.graphs.map((graph) => graph.file)));
    return manifest;
  } finally {
    await lock.release();
  }
}

/** Removes graph files `keep` does not name and stale temporaries (best effort: leftovers go next time). */
async function removeOrphans(dir: string, keep: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await removeQuietly(names.filter((name) => isExportGraphFileName(name) && !keep.has(name)).map((name) => join(dir, name)));
  await removeStaleTemporaryFiles(dir).catch(() => undefined);
}
