/**
 * `exportOnnx`: the files it writes, the manifest describing them, that an exported graph runs
 * in a fresh onnxruntime session and predicts what the denoiser predicts, and (when Python's
 * `onnx` package is installed) that every graph passes `onnx.checker.check_model(full_check=True)`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { duplicateFill, parseUNetSpec, randomWeights, SeededRng } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { createOnnxBackend, exportOnnx, type OnnxExportManifest } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'levelskip-onnx-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const checker = fileURLToPath(new URL('../../../scripts/dev/check-onnx-graphs.py', import.meta.url));
const hasPythonOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

describe('exportOnnx', () => {
  const spec = parseUNetSpec(tinySpecs.multiDecoder);
  const weights = randomWeights(spec, { seed: 3, jitter: 0.1 });
  const dir = join(root, 'multi');
  let manifest: OnnxExportManifest;

  it('writes one graph per (stage, k, fill) and a manifest naming each, with no temporary files left', async () => {
    manifest = await exportOnnx(spec, weights, dir);
    // 2 stages × (k = 0 + k ∈ {1, 2} × 3 fills) = 14 graphs.
    expect(manifest.graphs).toHaveLength(14);
    const files = readdirSync(dir).sort();
    expect(files).toEqual([...manifest.graphs.map((g) => g.file), 'manifest.json'].sort());
    const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as OnnxExportManifest;
    expect(onDisk.graphs).toEqual(manifest.graphs);
    expect(onDisk.opset).toBe(17);
    expect(manifest.graphs.find((g) => g.stage === 1 && g.k === 2 && g.fill === 'duplicate')).toMatchObject({
      file: 'stage1-k2-duplicate.onnx',
      inputs: [
        { name: 'x', dims: ['batch', 2, 8, 8] },
        { name: 't', dims: ['batch'] },
      ],
      outputs: [{ name: 'eps', dims: ['batch', 2, 8, 8] }],
    });
  });

  it('an exported graph, run in its own session, predicts what the denoiser predicts', async () => {
    const graph = manifest.graphs.find((g) => g.stage === 1 && g.k === 2 && g.fill === 'duplicate')!;
    const session = await ort.InferenceSession.create(join(dir, graph.file));
    const x = new SeededRng(8).normal(2 * 2 * 8 * 8);
    const t = [700, 950];
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 2, 8, 8]), t: new ort.Tensor('float32', Float32Array.from(t), [2]) });
    await session.release();
    const backend = await createOnnxBackend();
    try {
      const denoiser = await backend.createDenoiser(spec, weights);
      const input = backend.ops.fromFloat32(x, [2, 2, 8, 8]);
      const eps = await denoiser.predict(input, t, { k: 2, fill: duplicateFill });
      expect(out['eps']!.data).toEqual(await backend.ops.toFloat32(eps));
      backend.ops.dispose([input, eps]);
    } finally {
      backend.dispose();
    }
  });

  it('respects ks, fills and stages, and rejects impossible requests', async () => {
    const some = await exportOnnx(spec, weights, join(root, 'some'), { ks: [0, 2], fills: ['zero'], stages: [0] });
    expect(some.graphs.map((g) => g.file)).toEqual(['stage0-k0-full.onnx', 'stage0-k2-zero.onnx']);
    await expect(exportOnnx(spec, weights, join(root, 'bad'), { ks: [3] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const plain = parseUNetSpec(tinySpecs.resnet);
    await expect(exportOnnx(plain, randomWeights(plain), join(root, 'bad'), { fills: ['interpolate'] })).rejects.toMatchObject({ code: 'INVALID_FILL' });
    await expect(exportOnnx(plain, weights, join(root, 'bad'))).rejects.toMatchObject({ code: 'WEIGHTS_MISMATCH' });
  });

  it.runIf(hasPythonOnnx)('every exported graph passes onnx.checker.check_model(full_check=True)', async () => {
    const ode = parseUNetSpec(tinySpecs.ode2);
    const ddpm = parseUNetSpec(tinySpecs.ddpmStyle);
    await exportOnnx(ode, randomWeights(ode), join(root, 'ode2'));
    await exportOnnx(ddpm, randomWeights(ddpm), join(root, 'ddpm'));
    const output = execFileSync('/usr/bin/python3', [checker, dir, join(root, 'ode2'), join(root, 'ddpm')], { encoding: 'utf8' });
    expect(output).toContain('14 of 14 graphs pass');
    expect(output).not.toContain('FAIL');
  });
});
