/**
 * Atomic writes: a failure after the temporary file is written (here, a failing rename) must
 * remove it, and a failure on the manifest must not leave a manifest without its weights.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, rename: vi.fn(actual.rename) };
});

const spec = tinySpec();
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-atomic-'));
});
afterEach(async () => {
  vi.mocked(fs.rename).mockReset();
  await rm(root, { recursive: true, force: true });
});

describe('saveCheckpoint writes atomically', () => {
  it('writes through a temporary file in the same directory, weights before the manifest', async () => {
    await saveCheckpoint(root, { spec, weights: deterministicWeights(spec) });
    const calls = vi.mocked(fs.rename).mock.calls.map(([from, to]): [string, string] => [String(from), String(to)]);
    expect(calls.map(([, to]) => to)).toEqual([join(root, 'model.safetensors'), join(root, 'model.json')]);
    // Short temporary names in the target's directory (`.levelskip-<host>-<pid>-<hex>.tmp`), so a 255-byte target name still works.
    const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const [from] of calls) expect(from).toMatch(new RegExp(`^${escaped}/\\.levelskip-[0-9a-f]{4}-${process.pid.toString(36)}-[0-9a-f]{8}\\.tmp$`));
  });

  it('a failing rename of the weights removes the temporary file and writes no manifest', async () => {
    vi.mocked(fs.rename).mockRejectedValueOnce(Object.assign(new Error('simulated EIO'), { code: 'EIO' }));
    await expect(saveCheckpoint(root, { spec, weights: deterministicWeights(spec) })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/model\.safetensors \(EIO\)/) });
    expect(await readdir(root)).toEqual([]);
  });

  it('a failing rename of the manifest leaves the previous checkpoint loadable and no temporary file', async () => {
    await saveCheckpoint(root, { spec, weights: deterministicWeights(spec), training: { steps: 1 } });
    const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    vi.mocked(fs.rename)
      .mockImplementationOnce(actual.rename)
      .mockRejectedValueOnce(Object.assign(new Error('simulated ENOSPC'), { code: 'ENOSPC' }));
    await expect(saveCheckpoint(root, { spec, weights: deterministicWeights(spec), training: { steps: 2 } })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/model\.json \(ENOSPC\)/) });
    expect((await readdir(root)).sort()).toEqual(['model.json', 'model.safetensors']);
    expect((await loadCheckpoint(root)).manifest.training).toEqual({ steps: 1 });
  });
});
