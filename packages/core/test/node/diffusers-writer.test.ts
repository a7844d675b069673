/**
 * saveDiffusersModel: the files of a diffusers UNet2DModel directory, read back by levelskip's own
 * loader, the fp16 variant, replacing an earlier export, and refusals before anything is written.
 * (Loading the result in diffusers itself: scripts/dev/diffusers-roundtrip.py, recorded in
 * test/diffusers/fixtures/roundtrip-result.json.)
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/checkpoint/safetensors.js';
import { isLevelskipError, type LevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { saveDiffusersModel } from '../../src/node/diffusers-writer.js';
import { parseUNetSpec, sameSpec } from '../../src/spec/unet-spec.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
const weights = deterministicWeights(spec);
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-diffusers-writer-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>, code: LevelskipErrorCode): Promise<LevelskipError> {
  try {
    await promise;
  } catch (error) {
    if (isLevelskipError(error) && error.code === code) return error;
    throw error;
  }
  throw new Error(`expected ${code}`);
}

describe('saveDiffusersModel', () => {
  it('writes config.json and diffusion_pytorch_model.safetensors, which loadCheckpoint reads back exactly', async () => {
    const dir = join(root, 'nested', 'export');
    const saved = await saveDiffusersModel(dir, { spec, weights });
    expect(saved.files).toEqual(['diffusion_pytorch_model.safetensors', 'config.json']);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors']);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ _class_name: 'UNet2DModel', sample_size: 8, block_out_channels: [8, 16], down_block_types: ['DownBlock2D', 'AttnDownBlock2D'] });
    const file = parseSafetensors(new Uint8Array(await readFile(join(dir, 'diffusion_pytorch_model.safetensors'))));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.values()].every((t) => t.data instanceof Float32Array)).toBe(true);

    const loaded = await loadCheckpoint(dir);
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expect([...loaded.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, tensor] of weights) {
      expect(loaded.weights.get(name)!.shape).toEqual(tensor.shape);
      expect(loaded.weights.get(name)!.data).toEqual(tensor.data);
    }
  });

  it('writes scheduler_config.json beside the model when a noise schedule is given, and levelskip reads its T back', async () => {
    const dir = join(root, 'with-scheduler');
    const specT500 = parseUNetSpec({ ...spec, trainTimesteps: 500 });
    const saved = await saveDiffusersModel(dir, { spec: specT500, weights, scheduler: { noiseSchedule: { kind: 'linear', trainTimesteps: 500 }, className: 'DDIMScheduler' } });
    expect(saved.files).toEqual(['diffusion_pytorch_model.safetensors', 'scheduler_config.json', 'config.json']);
    const scheduler = JSON.parse(await readFile(join(dir, 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    expect(scheduler).toMatchObject({ _class_name: 'DDIMScheduler', num_train_timesteps: 500, beta_schedule: 'linear' });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.spec.trainTimesteps).toBe(500);
    expect(loaded.manifest.sampling?.sampler).toBe('ddim');
  });

  it('F16 writes the fp16 variant only, with values rounded to half precision', async () => {
    const dir = join(root, 'fp16');
    await saveDiffusersModel(dir, { spec, weights, dtype: 'F16' });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'diffusion_pytorch_model.fp16.safetensors']);
    const file = parseSafetensors(new Uint8Array(await readFile(join(dir, 'diffusion_pytorch_model.fp16.safetensors'))));
    expect(file.tensors.size).toBe(weights.size);
    const loaded = await loadCheckpoint(dir);
    // deterministicWeights holds multiples of 1/64: exact in half precision.
    for (const [name, tensor] of weights) expect(loaded.weights.get(name)!.data).toEqual(tensor.data);
  });

  it('replaces an earlier export: other weight variants and a stale scheduler config are removed', async () => {
    const dir = join(root, 'replace');
    await saveDiffusersModel(dir, { spec, weights, scheduler: { noiseSchedule: { kind: 'linear' } } });
    await writeFile(join(dir, 'diffusion_pytorch_model.bin'), 'left by an older tool');
    await writeFile(join(dir, 'notes.txt'), 'not ours');
    const other = parseUNetSpec({ ...spec, channelMults: [1, 1] });
    await saveDiffusersModel(dir, { spec: other, weights: deterministicWeights(other), dtype: 'F16' });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'diffusion_pytorch_model.fp16.safetensors', 'notes.txt']);
    expect(sameSpec((await loadCheckpoint(dir)).spec, other)).toBe(true);
  });

  it('refuses a spec diffusers cannot express, naming the field, before creating anything', async () => {
    const dir = join(root, 'never');
    const sided = parseUNetSpec({ ...spec, sidePaths: true });
    const error = await rejection(saveDiffusersModel(dir, { spec: sided, weights }), 'UNSUPPORTED');
    expect(error.message).toContain('sidePaths');
    await expect(readdir(dir)).rejects.toThrow();
  });

  it('refuses weights that do not fit the spec (WEIGHTS_MISMATCH), writing nothing', async () => {
    const dir = join(root, 'mismatch');
    const missing = new Map(weights);
    missing.delete('conv_out.weight');
    await rejection(saveDiffusersModel(dir, { spec, weights: missing }), 'WEIGHTS_MISMATCH');
    await expect(readdir(dir)).rejects.toThrow();
  });

  it('refuses a file path and a levelskip checkpoint directory (INVALID_OPTION), leaving them untouched', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await rejection(saveDiffusersModel(file, { spec, weights }), 'INVALID_OPTION');
    expect(await readFile(file, 'utf8')).toBe('x');

    const checkpoint = join(root, 'checkpoint');
    await saveCheckpoint(checkpoint, { spec, weights });
    const before = (await readdir(checkpoint)).sort();
    const error = await rejection(saveDiffusersModel(checkpoint, { spec, weights }), 'INVALID_OPTION');
    expect(error.message).toContain('model.json');
    expect((await readdir(checkpoint)).sort()).toEqual(before);
  });

  it('refuses a bad dtype and a bad scheduler option before writing', async () => {
    const dir = join(root, 'options');
    await rejection(saveDiffusersModel(dir, { spec, weights, dtype: 'BF16' as 'F16' }), 'INVALID_OPTION');
    await rejection(saveDiffusersModel(dir, { spec, weights, scheduler: { noiseSchedule: { kind: 'linear' }, timestepSpacing: 'uniform' as 'leading' } }), 'INVALID_OPTION');
    await expect(readdir(dir)).rejects.toThrow();
  });

  it('leaves no lock or temporary file behind', async () => {
    const dir = join(root, 'clean');
    await mkdir(dir);
    await saveDiffusersModel(dir, { spec, weights });
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});
