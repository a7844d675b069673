/**
 * `exportOnnxFiles`, the export that returns bytes (both entries; the browser's only export): the
 * graphs it yields are byte for byte the files `exportOnnx` writes, the manifest comes last and
 * names each graph, bad arguments fail on the call rather than on first iteration, and the
 * browser entry has no `exportOnnx` (it would need node:fs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUNetSpec, randomWeights } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import * as browserEntry from '../src/browser.js';
import { exportOnnx, exportOnnxFiles, type OnnxExportFile } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'levelskip-onnx-export-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('exportOnnxFiles', () => {
  const spec = parseUNetSpec(tinySpecs.resnet);
  const weights = randomWeights(spec, { seed: 6, jitter: 0.1 });

  it('yields the graphs exportOnnx writes, byte for byte, then manifest.json naming them', async () => {
    const files: OnnxExportFile[] = [...exportOnnxFiles(spec, weights, { ks: [0, 2] })];
    expect(files.map((f) => f.name)).toEqual(['stage0-k0-full.onnx', 'stage0-k2-zero.onnx', 'stage0-k2-duplicate.onnx', 'manifest.json']);
    const last = files.at(-1)!;
    if (last.kind !== 'manifest') throw new Error('the last file must be the manifest');
    expect(last.manifest.graphs.map((g) => g.file)).toEqual(files.slice(0, -1).map((f) => f.name));
    expect(JSON.parse(new TextDecoder().decode(last.bytes))).toEqual(last.manifest);

    const dir = join(root, 'resnet');
    const written = await exportOnnx(spec, weights, dir, { ks: [0, 2] });
    expect(written.graphs).toEqual(last.manifest.graphs);
    for (const file of files.slice(0, -1)) expect(Buffer.from(file.bytes).equals(readFileSync(join(dir, file.name)))).toBe(true);
  });

  it('checks its arguments on the call, before any graph is built', () => {
    expect(() => exportOnnxFiles(spec, weights, { ks: [5] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => exportOnnxFiles(spec, weights, { fills: ['interpolate'] })).toThrow(expect.objectContaining({ code: 'INVALID_FILL' }));
  });

  it('is in the browser entry, which has no exportOnnx', () => {
    expect(browserEntry.exportOnnxFiles).toBe(exportOnnxFiles);
    expect('exportOnnx' in browserEntry).toBe(false);
  });
});
