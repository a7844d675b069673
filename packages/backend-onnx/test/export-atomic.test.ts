/**
 * `exportOnnx` over an earlier export (issue 21, item 2): whatever happens part-way (a write that
 * fails, a full disk, a kill -9), `manifest.json` names the old export or the new one, every file
 * it names holds that export's bytes, and the next export removes orphans and temporary files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelskipError, temporaryPathFor } from '@levelskip/core';
// The vitest config has no alias for @levelskip/core/testing/faults; its sources are imported directly.
import { bundleChildScript, killLoop } from '../../core/src/testing/faults/index.js';
import { exportOnnx, exportOnnxFiles, type OnnxExportFile, type OnnxExportManifest } from '../src/index.js';
import { nodeExportFileSystem, writeExportDirectory, type ExportFileSystem } from '../src/export/export-directory.js';
import { exportModelWeights, exportSpec, type ExportModelName } from './helpers/export-models.js';

const root = mkdtempSync(join(tmpdir(), 'levelskip-onnx-export-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every graph of a full export of each model, by `stage{s}-k{k}-{fill}`, and the file lists. */
const exported = Object.fromEntries(
  (['a', 'b'] as const).map((name) => {
    const files = [...exportOnnxFiles(exportSpec, exportModelWeights(name))];
    const graphs = new Map(files.flatMap((file) => (file.kind === 'graph' ? [[file.name.replace(/\.onnx$/, ''), Buffer.from(file.bytes)] as const] : [])));
    return [name, { files, graphs }];
  }),
) as Record<ExportModelName, { files: OnnxExportFile[]; graphs: Map<string, Buffer> }>;

const keyOf = (graph: { stage: number; k: number; fill: string }): string => `stage${graph.stage}-k${graph.k}-${graph.fill}`;

/**
 * Reads `dir` as a reader of exports would: through manifest.json. Returns which model every named
 * graph belongs to (all the same one, or the test fails) and the manifest.
 */
function loadExport(dir: string): { model: ExportModelName; manifest: OnnxExportManifest } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as OnnxExportManifest;
  expect(manifest.format).toBe('levelskip-onnx');
  expect(manifest.graphs.length).toBeGreaterThan(0);
  const owners = manifest.graphs.map((graph) => {
    const bytes = readFileSync(join(dir, graph.file));
    const owner = (['a', 'b'] as const).find((name) => exported[name].graphs.get(keyOf(graph))?.equals(bytes));
    expect(owner, `${graph.file} holds the bytes of neither export`).toBeDefined();
    return owner!;
  });
  expect(new Set(owners).size, `manifest.json names graphs of both exports: ${owners.join(',')}`).toBe(1);
  return { model: owners[0]!, manifest };
}

/** After a successful export: the plain graph files and manifest.json, nothing else. */
function expectClean(dir: string, manifest: OnnxExportManifest): void {
  expect(readdirSync(dir).sort()).toEqual([...manifest.graphs.map((graph) => graph.file), 'manifest.json'].sort());
  expect(manifest.graphs.every((graph) => /^stage\d+-k\d+-[a-z]+\.onnx$/.test(graph.file))).toBe(true);
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** Core's file operations, failing (ENOSPC) at the `failWrite`-th atomic write or the `failLink`-th link. */
function failingFileSystem(fail: { readonly write?: number; readonly link?: number }): ExportFileSystem {
  let writes = 0;
  let links = 0;
  return {
    async writeFileAtomic(path, bytes) {
      if (++writes === fail.write) {
        // A partly written temporary, as a full disk leaves it, beside the target.
        writeFileSync(temporaryPathFor(path), bytes.subarray(0, 100));
        throw enospc();
      }
      await nodeExportFileSystem.writeFileAtomic(path, bytes);
    },
    async linkOver(source, target) {
      if (++links === fail.link) throw enospc();
      await nodeExportFileSystem.linkOver(source, target);
    },
  };
}

describe('exportOnnx over an earlier export', () => {
  const graphCount = exported.a.files.length - 1;

  it('writes the same plain files as before and leaves nothing else (no versioned names, temporaries or lock)', async () => {
    const dir = join(root, 'plain');
    const manifest = await exportOnnx(exportSpec, exportModelWeights('a'), dir);
    expect(manifest.graphs).toHaveLength(graphCount);
    expectClean(dir, manifest);
    expect(loadExport(dir).model).toBe('a');
    const again = await exportOnnx(exportSpec, exportModelWeights('b'), dir);
    expectClean(dir, again);
    expect(loadExport(dir).model).toBe('b');
  });

  // Writes 1..14 are the versioned graphs, 15 the manifest naming them (the commit), 16 the final manifest.
  const failures: [string, { write?: number; link?: number }, ExportModelName][] = [
    ['the first graph', { write: 1 }, 'a'],
    ['a middle graph', { write: 7 }, 'a'],
    ['the last graph', { write: graphCount }, 'a'],
    ['the manifest that commits the export', { write: graphCount + 1 }, 'a'],
    ['the first plain name', { link: 1 }, 'b'],
    ['a middle plain name', { link: 8 }, 'b'],
    ['the last plain name', { link: graphCount }, 'b'],
    ['the final manifest', { write: graphCount + 2 }, 'b'],
  ];
  for (const [where, fail, expected] of failures) {
    it(`ENOSPC at ${where}: the directory loads as export ${expected}, and the next export cleans up`, async () => {
      const dir = join(root, `fail-${fail.write ?? 0}-${fail.link ?? 0}`);
      await exportOnnx(exportSpec, exportModelWeights('a'), dir);
      const error = await writeExportDirectory(dir, exported.b.files, failingFileSystem(fail)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(LevelskipError.is(error) || (error as NodeJS.ErrnoException).code === 'ENOSPC', String(error)).toBe(true);
      expect(String((error as Error).message)).toContain('ENOSPC');
      expect(loadExport(dir).model).toBe(expected);
      if (expected === 'a') {
        // Before the commit, nothing of the failed export is left but the simulated temporary.
        expect(readdirSync(dir).filter((name) => /\.[0-9a-f]{8}\.onnx$/.test(name))).toEqual([]);
      }
      const manifest = await exportOnnx(exportSpec, exportModelWeights('b'), dir, { ks: [0, 2] });
      expectClean(dir, manifest);
      expect(loadExport(dir)).toMatchObject({ model: 'b' });
    });
  }

  it('a graph name that cannot be replaced (a directory in its place) fails cleanly, leaving the new export readable under versioned names', async () => {
    const dir = join(root, 'blocked');
    await exportOnnx(exportSpec, exportModelWeights('a'), dir, { ks: [0] });
    mkdirSync(join(dir, 'stage1-k1-zero.onnx', 'inside'), { recursive: true });
    const error = await exportOnnx(exportSpec, exportModelWeights('b'), dir).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('stage1-k1-zero.onnx') });
    expect(loadExport(dir).model).toBe('b');
    rmSync(join(dir, 'stage1-k1-zero.onnx'), { recursive: true });
    const manifest = await exportOnnx(exportSpec, exportModelWeights('a'), dir);
    expectClean(dir, manifest);
    expect(loadExport(dir).model).toBe('a');
  });

  it('removes the graphs of an earlier export that the new one does not have, and leaves other files alone', async () => {
    const dir = join(root, 'orphans');
    await exportOnnx(exportSpec, exportModelWeights('a'), dir);
    writeFileSync(join(dir, 'README.txt'), 'mine');
    const manifest = await exportOnnx(exportSpec, exportModelWeights('b'), dir, { ks: [0], stages: [1] });
    expect(readdirSync(dir).sort()).toEqual(['README.txt', 'manifest.json', 'stage1-k0-full.onnx']);
    expect(manifest.graphs.map((graph) => graph.file)).toEqual(['stage1-k0-full.onnx']);
  });

  it('refuses a second export into a directory another live export holds', async () => {
    const dir = join(root, 'locked');
    await exportOnnx(exportSpec, exportModelWeights('a'), dir, { ks: [0] });
    const results = await Promise.allSettled([exportOnnx(exportSpec, exportModelWeights('b'), dir), exportOnnx(exportSpec, exportModelWeights('a'), dir)]);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(String(process.pid)) });
    expect(loadExport(dir).model).toBe(results[0]!.status === 'fulfilled' ? 'b' : 'a');
  });

  it.runIf(canMountTmpfs())('on a file system that really fills up (tmpfs), the old export stays whole', async () => {
    const dir = join(root, 'small-disk');
    mkdirSync(dir);
    // Room for one export (1.5 MB) and part of a second.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2560k', 'tmpfs', dir]);
    try {
      await exportOnnx(exportSpec, exportModelWeights('a'), dir);
      await expect(exportOnnx(exportSpec, exportModelWeights('b'), dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('ENOSPC') });
      expect(loadExport(dir).model).toBe('a');
      expect(readdirSync(dir).filter((name) => !/^stage\d+-k\d+-[a-z]+\.onnx$/.test(name) && name !== 'manifest.json')).toEqual([]);
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'levelskip-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe('kill -9 during exportOnnx over an earlier export', () => {
  it('after each of 20 kills the directory loads as one whole export; the next export leaves only its own files', async () => {
    const dir = join(root, 'killed');
    await exportOnnx(exportSpec, exportModelWeights('a'), dir);
    const script = await bundleChildScript(fileURLToPath(new URL('./helpers/export-child.ts', import.meta.url)), {
      alias: { '@levelskip/core': fileURLToPath(new URL('../../core/src/index-node.ts', import.meta.url)) },
      outFile: join(root, 'export-child.mjs'),
    });
    const seen = { a: 0, b: 0 };
    let leftoverTrials = 0;
    const report = await killLoop({
      script,
      // Alternate full exports with ks 0 and 2 only, so that orphans of the other set are around.
      args: (index) => [dir, index % 2 === 0 ? 'b' : 'a', index % 3 === 0 ? '0,2' : 'all'],
      trials: 20,
      seed: 21,
      minDelayMs: 0,
      maxDelayMs: 1500,
      check: () => {
        const { model } = loadExport(dir);
        seen[model] += 1;
        if (readdirSync(dir).some((name) => name.startsWith('.levelskip-') || /\.[0-9a-f]{8}\.onnx$/.test(name))) leftoverTrials += 1;
      },
    });
    expect(report.killed).toBe(20);
    expect(seen.a + seen.b).toBe(20);
    const manifest = await exportOnnx(exportSpec, exportModelWeights('a'), dir);
    expectClean(dir, manifest);
    expect(existsSync(join(dir, '.levelskip.lock'))).toBe(false);
    // The exported graphs run.
    const session = await ort.InferenceSession.create(join(dir, manifest.graphs[0]!.file));
    await session.release();
    console.info(`export kill loop: 20 kills; ${seen.a} left export a, ${seen.b} export b, none mixed; ${leftoverTrials} left temporary or versioned files, removed by the next export`);
  }, 300_000);
});
