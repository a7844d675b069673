import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointFormatVersion } from '../../src/checkpoint/checkpoint-format.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { parseSafetensors } from '../../src/checkpoint/safetensors.js';
import { isLevelskipError, type LevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { randomWeights } from '../../src/weights/random-weights.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';

const spec = tinySpec();
const written = { imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, groups: 4, attentionLevels: [1] };
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-checkpoint-'));
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

describe('saveCheckpoint / loadCheckpoint', () => {
  it.each(['F32', 'F16', 'BF16'] as const)('round-trips spec, weights and training metadata (%s)', async (dtype) => {
    const dir = join(root, 'nested', 'run-1');
    const weights = deterministicWeights(spec);
    const training = { scheme: 'skip-aware', steps: 120, batch: 16, seed: 7, durationSeconds: 3.5, loss: [0.9, 0.5] };
    await saveCheckpoint(dir, { spec: written, weights, training, dtype });

    expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.safetensors']);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.manifest).toMatchObject({
      format: 'levelskip-checkpoint',
      formatVersion: checkpointFormatVersion,
      weightsFile: 'model.safetensors',
      dtype,
      training,
    });
    expect(Number.isNaN(Date.parse(loaded.manifest.createdAt))).toBe(false);
    expect(loaded.weights.size).toBe(weights.size);
    // The test values are multiples of 1/64 in [-1, 1): exact in every dtype.
    for (const [name, t] of weights) {
      expect(loaded.weights.get(name)!.shape).toEqual(t.shape);
      expect(loaded.weights.get(name)!.data).toEqual(t.data);
    }
  });

  it('round-trips randomWeights: exact in F32, within half precision in F16', async () => {
    const weights = randomWeights(spec, { seed: 3, jitter: 0.1 });
    await saveCheckpoint(join(root, 'f32'), { spec, weights });
    await saveCheckpoint(join(root, 'f16'), { spec, weights, dtype: 'F16' });
    const f32 = await loadCheckpoint(join(root, 'f32'));
    const f16 = await loadCheckpoint(join(root, 'f16'));
    let changed = 0;
    const outOfTolerance: string[] = [];
    for (const [name, t] of weights) {
      expect(f32.weights.get(name)!.data).toEqual(t.data);
      const half = f16.weights.get(name)!.data;
      t.data.forEach((x, i) => {
        // Round to nearest half: error <= 2^(e-11) for |x| in [2^e, 2^(e+1)), <= 2^-25 below 2^-14.
        const e = Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -14)), -14);
        if (Math.abs(half[i]! - x) > 2 ** (e - 11)) outOfTolerance.push(`${name}[${i}]: ${x} -> ${half[i]}`);
        if (half[i] !== x) changed++;
      });
    }
    expect(outOfTolerance).toEqual([]);
    expect(changed).toBeGreaterThan(0); // random values are not all representable in half
  });

  it('stores the spec with its defaults filled in, and safetensors PyTorch can read', async () => {
    await saveCheckpoint(root, { spec: written, weights: deterministicWeights(spec) });
    const manifest = JSON.parse(await readFile(join(root, 'model.json'), 'utf8'));
    expect(manifest.spec).toMatchObject({ ...written, outChannels: 1, timeEmbedDim: 32, midAttention: true });
    expect(parseUNetSpec(manifest.spec)).toEqual(spec);
    expect(manifest.training).toBeUndefined();
    const { metadata, tensors } = parseSafetensors(await readFile(join(root, 'model.safetensors')));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('conv_in.weight')!.shape).toEqual([8, 1, 3, 3]);
  });

  it('replaces an existing checkpoint', async () => {
    await saveCheckpoint(root, { spec, weights: deterministicWeights(spec), training: { steps: 1 } });
    const weights = deterministicWeights(spec);
    weights.get('conv_in.bias')!.data.fill(0.25);
    await saveCheckpoint(root, { spec, weights, training: { steps: 2 } });
    const loaded = await loadCheckpoint(root);
    expect(loaded.manifest.training).toEqual({ steps: 2 });
    expect([...loaded.weights.get('conv_in.bias')!.data]).toEqual(new Array(8).fill(0.25));
    expect((await readdir(root)).sort()).toEqual(['model.json', 'model.safetensors']);
  });
});

describe('saveCheckpoint failures leave nothing behind', () => {
  it('weights that do not fit the spec: WEIGHTS_MISMATCH before anything is written', async () => {
    const dir = join(root, 'bad');
    const weights = deterministicWeights(spec);
    weights.delete('mid_block.attentions.0.to_q.weight');
    const error = await rejection(saveCheckpoint(dir, { spec, weights }), 'WEIGHTS_MISMATCH');
    expect(error.message).toContain('mid_block.attentions.0.to_q.weight');
    expect(await readdir(root)).toEqual([]);
  });

  it('an invalid spec: INVALID_SPEC', async () => {
    await rejection(saveCheckpoint(root, { spec: { ...written, groups: 3 }, weights: deterministicWeights(spec) }), 'INVALID_SPEC');
    expect(await readdir(root)).toEqual([]);
  });

  it('a directory path that is a file: INVALID_OPTION, no temporary files', async () => {
    const path = join(root, 'taken');
    await writeFile(path, 'not a directory');
    const error = await rejection(saveCheckpoint(path, { spec, weights: deterministicWeights(spec) }), 'INVALID_OPTION');
    expect(error.message).toContain(path);
    expect(await readdir(root)).toEqual(['taken']);
  });

  it('training metadata that is not JSON: INVALID_OPTION', async () => {
    const training: Record<string, unknown> = { steps: 10n };
    await rejection(saveCheckpoint(root, { spec, weights: deterministicWeights(spec), training }), 'INVALID_OPTION');
    expect(await readdir(root)).toEqual([]);
  });

  it('a file-system error mid-save (model.json is a directory): no temporary files', async () => {
    await mkdir(join(root, 'model.json', 'blocker'), { recursive: true });
    await expect(saveCheckpoint(root, { spec, weights: deterministicWeights(spec) })).rejects.toThrow();
    // The weights were renamed into place first; the failed manifest left no temporary file.
    expect((await readdir(root)).sort()).toEqual(['model.json', 'model.safetensors']);
  });
});

describe('loadCheckpoint errors', () => {
  async function saved(): Promise<string> {
    await saveCheckpoint(root, { spec, weights: deterministicWeights(spec) });
    return root;
  }
  async function editManifest(dir: string, edit: (manifest: Record<string, unknown>) => void): Promise<void> {
    const path = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    edit(manifest);
    await writeFile(path, JSON.stringify(manifest));
  }

  it('a missing directory: CHECKPOINT_MISSING naming it', async () => {
    const dir = join(root, 'nope');
    const error = await rejection(loadCheckpoint(dir), 'CHECKPOINT_MISSING');
    expect(error.message).toContain(dir);
    expect(error.message).toMatch(/does not exist/);
  });

  it('a file instead of a directory: CHECKPOINT_MISSING', async () => {
    await writeFile(join(root, 'file'), '');
    expect((await rejection(loadCheckpoint(join(root, 'file')), 'CHECKPOINT_MISSING')).message).toMatch(/not a checkpoint directory/);
  });

  it('a missing model.json or model.safetensors: CHECKPOINT_MISSING naming the file', async () => {
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_MISSING')).message).toContain(join(root, 'model.json'));
    await saved();
    await rm(join(root, 'model.safetensors'));
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_MISSING')).message).toContain(join(root, 'model.safetensors'));
  });

  it('a newer format version: CHECKPOINT_CORRUPT saying to upgrade', async () => {
    await editManifest(await saved(), (m) => (m.formatVersion = 99));
    const error = await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/format version 99, newer than the 1/);
    expect(error.message).toMatch(/upgrade @levelskip\/core/);
  });

  it('bad JSON, a foreign format or invalid fields: CHECKPOINT_CORRUPT naming the file', async () => {
    await saved();
    const path = join(root, 'model.json');
    await writeFile(path, '{"format": ');
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT')).message).toMatch(/model\.json is not valid JSON/);
    await writeFile(path, '[]');
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT')).message).toMatch(/must hold a JSON object/);
    await writeFile(path, JSON.stringify({ format: 'diffusers' }));
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT')).message).toMatch(/not a levelskip checkpoint manifest/);
    await saved();
    await editManifest(root, (m) => (m.dtype = 'F64'));
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT')).message).toMatch(/dtype/);
    await saved();
    await editManifest(root, (m) => (m.weightsFile = '../elsewhere.safetensors'));
    expect((await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT')).message).toMatch(/weightsFile/);
  });

  it('an invalid spec: INVALID_SPEC prefixed with the file, issues kept', async () => {
    await editManifest(await saved(), (m) => ((m.spec as Record<string, unknown>).channelMults = []));
    const error = await rejection(loadCheckpoint(root), 'INVALID_SPEC');
    expect(error.message.startsWith(`${join(root, 'model.json')}: Invalid U-Net spec`)).toBe(true);
    expect(error.issues[0]?.path).toEqual(['channelMults']);
    expect(isLevelskipError(error.cause)).toBe(true);
  });

  it('weights saved for another spec: WEIGHTS_MISMATCH naming a tensor', async () => {
    // baseChannels 16 keeps every tensor name but doubles the channel counts.
    await editManifest(await saved(), (m) => ((m.spec as Record<string, unknown>).baseChannels = 16));
    const error = await rejection(loadCheckpoint(root), 'WEIGHTS_MISMATCH');
    expect(error.message).toContain(join(root, 'model.safetensors'));
    expect(error.message).toContain('conv_in.weight: expected shape [16, 1, 3, 3] (PyTorch layout), got [8, 1, 3, 3]');
  });

  it('a truncated weights file: CHECKPOINT_CORRUPT naming the file', async () => {
    await saved();
    const path = join(root, 'model.safetensors');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    const error = await rejection(loadCheckpoint(root), 'CHECKPOINT_CORRUPT');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/extend beyond/);
  });
});
