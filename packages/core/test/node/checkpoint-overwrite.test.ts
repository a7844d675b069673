/**
 * Issue 21 item 1, in process: the manifest names its weights file, a save never rewrites the
 * weights the manifest in place names, and readers racing a writer always get a whole checkpoint.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { fetchCheckpoint } from '../../src/checkpoint/fetch-checkpoint.js';
import { serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { acquireDirectoryLock } from '../../src/node/directory-lock.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-overwrite-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function weightsOf(step: number): ReturnType<typeof deterministicWeights> {
  const weights = deterministicWeights(spec);
  weights.get('conv_in.bias')!.data.fill(step);
  return weights;
}

async function saved(step: number, dir = join(root, `d${counter++}`)): Promise<string> {
  await saveCheckpoint(dir, { spec, weights: weightsOf(step), training: { step } });
  return dir;
}

async function stepOf(dir: string, options = {}): Promise<number> {
  const { manifest, weights } = await loadCheckpoint(dir, options);
  const step = manifest.training?.step as number;
  expect(new Set(weights.get('conv_in.bias')!.data)).toEqual(new Set([step]));
  return step;
}

/** The directory as a crash right after the manifest switch leaves it: model.json names model.1.safetensors, the old weights still beside it. */
async function midOverwrite(oldStep: number, newStep: number): Promise<string> {
  const dir = await saved(oldStep);
  const files = serializeCheckpoint({ spec, weights: weightsOf(newStep), training: { step: newStep } });
  await writeFile(join(dir, 'model.1.safetensors'), files.weights);
  await writeFile(join(dir, 'model.json'), files.manifest.replace('"weightsFile": "model.safetensors"', '"weightsFile": "model.1.safetensors"'));
  return dir;
}

describe('atomic checkpoint overwrite', () => {
  it('a directory at rest holds model.json and model.safetensors, which the manifest names', async () => {
    const dir = await saved(1);
    for (const step of [2, 3, 4]) {
      await saved(step, dir);
      expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.safetensors']);
      expect(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'))).toMatchObject({ weightsFile: 'model.safetensors', training: { step } });
      expect(await stepOf(dir)).toBe(step);
    }
  });

  it('a manifest naming model.1.safetensors loads those weights, not the stale model.safetensors beside it; the next save tidies up', async () => {
    const dir = await midOverwrite(1, 2);
    expect(await stepOf(dir)).toBe(2);
    expect((await loadCheckpoint(dir)).manifest.weightsFile).toBe('model.safetensors');
    await saved(3, dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.safetensors']);
    expect(await stepOf(dir)).toBe(3);
  });

  it('a save never rewrites the weights the manifest in place names (older readers see a matching pair or refuse)', async () => {
    const dir = await midOverwrite(1, 2);
    // Killed before the old weights were deleted: the next save must keep off model.1.safetensors.
    const before = await readFile(join(dir, 'model.1.safetensors'));
    await saveCheckpoint(dir, { spec, weights: weightsOf(3), training: { step: 3 } }).catch(() => undefined);
    expect(await stepOf(dir)).toBe(3);
    expect(before.length).toBeGreaterThan(0);
  });

  it('a hand-made checkpoint may name model.<tag>.safetensors; a weightsFile outside that pattern is refused', async () => {
    const dir = await saved(5);
    await rename(join(dir, 'model.safetensors'), join(dir, 'model.v7.safetensors'));
    const manifest = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), manifest.replace('"model.safetensors"', '"model.v7.safetensors"'));
    expect(await stepOf(dir)).toBe(5);
    for (const name of ['model.json', 'sub/model.safetensors', 'model.UPPER.safetensors', 'model..safetensors', 'x.safetensors']) {
      await writeFile(join(dir, 'model.json'), manifest.replace('"model.safetensors"', JSON.stringify(name)));
      await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/weightsFile/) });
    }
  });

  it('loads racing continuous overwrites always get a whole checkpoint', async () => {
    const dir = await saved(0);
    let writing = true;
    const writer = (async () => {
      for (let step = 1; writing; step++) await saved(step, dir);
    })();
    const seen = new Set<number>();
    try {
      for (let i = 0; i < 60; i++) seen.add(await stepOf(dir));
    } finally {
      writing = false;
      await writer;
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a second saver on the same directory fails clearly instead of mixing files', async () => {
    const dir = await saved(1);
    const lock = await acquireDirectoryLock(dir, { purpose: 'saveCheckpoint', fileName: '.levelskip-save.lock' });
    await expect(saved(2, dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(new RegExp(`locked by process ${process.pid} \\(saveCheckpoint`)) });
    await lock.release();
    expect(await stepOf(dir)).toBe(1);
  });
});

describe('reading weights', () => {
  it('in place, tensor by tensor (as files above 256 MiB are), gives the same checkpoint and checks dtypes and finiteness', async () => {
    const dir = join(root, `d${counter++}`);
    await saveCheckpoint(dir, { spec, weights: weightsOf(4), training: { step: 4 }, dtype: 'F16' });
    expect(await stepOf(dir, { inPlaceReadBytes: 0 })).toBe(4);
    expect(await loadCheckpoint(dir, { inPlaceReadBytes: 0 })).toEqual(await loadCheckpoint(dir));
    const manifest = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), manifest.replace('"dtype": "F16"', '"dtype": "F32"'));
    await expect(loadCheckpoint(dir, { inPlaceReadBytes: 0 })).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/model\.safetensors.*stored as F16.*F32/s) });
    const nonFinite = weightsOf(5);
    nonFinite.get('conv_in.weight')!.data[3] = Number.NaN;
    const nanDir = join(root, `d${counter++}`);
    await mkdir(nanDir);
    await writeFile(join(nanDir, 'model.json'), serializeCheckpoint({ spec, weights: weightsOf(5) }).manifest);
    await writeFile(join(nanDir, 'model.safetensors'), serializeSafetensors(nonFinite));
    await expect(loadCheckpoint(nanDir, { inPlaceReadBytes: 0 })).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining('model.safetensors') });
  });

  it('fetchCheckpoint follows the manifest\'s weightsFile', async () => {
    const dir = await midOverwrite(6, 7);
    const requested: string[] = [];
    const fetch = async (url: string): Promise<Response> => {
      const name = new URL(url).pathname.split('/').pop()!;
      requested.push(name);
      return new Response(await readFile(join(dir, name)));
    };
    const loaded = await fetchCheckpoint('http://models.example/m/', { fetch });
    expect(requested).toEqual(['model.json', 'model.1.safetensors']);
    expect(loaded.manifest.training).toEqual({ step: 7 });
    expect(new Set(loaded.weights.get('conv_in.bias')!.data)).toEqual(new Set([7]));
  });

  it('a checkpoint directory inside a missing parent is CHECKPOINT_MISSING; an empty one names model.json', async () => {
    await expect(loadCheckpoint(join(root, 'none', 'deeper'))).rejects.toMatchObject({ code: 'CHECKPOINT_MISSING' });
    const empty = join(root, `d${counter++}`);
    await mkdir(empty);
    await expect(loadCheckpoint(empty)).rejects.toMatchObject({ code: 'CHECKPOINT_MISSING', message: expect.stringContaining(join(empty, 'model.json')) });
  });
});
