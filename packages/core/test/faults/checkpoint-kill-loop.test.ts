/**
 * Issue 21 item 1: a checkpoint overwrite killed with SIGKILL at any moment leaves the old
 * checkpoint or the new one, whole (before: weights renamed first, then the manifest, so 11 of 30
 * kills left new weights under the old manifest). And item 5: whatever the killed writer left
 * (temporaries, its save lock, the unused weights name) is gone after the next save.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { bundleChildScript, killLoop } from '../../src/testing/faults/index.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
let root: string;
let childScript: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-kill-'));
  childScript = await bundleChildScript(fileURLToPath(new URL('./children/save-checkpoint-loop.ts', import.meta.url)), {
    outFile: join(root, 'save-checkpoint-loop.mjs'),
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The step of the loaded checkpoint, after checking that its weights are that save's. */
async function loadedStep(dir: string): Promise<number> {
  const { manifest, weights } = await loadCheckpoint(dir);
  const step = manifest.training?.step as number;
  expect(new Set(weights.get('conv_in.bias')!.data), `weights of step ${step}`).toEqual(new Set([step]));
  return step;
}

/**
 * What a levelskip from before atomic overwrites reads: model.safetensors, with a manifest whose
 * weightsFile must be "model.safetensors" (anything else it refuses). Whenever the manifest names
 * model.safetensors, that file must hold the same save's weights.
 */
async function olderReaderAgrees(dir: string, step: number): Promise<void> {
  const manifest = await readFile(join(dir, 'model.json'), 'utf8');
  if ((JSON.parse(manifest) as { weightsFile: string }).weightsFile !== 'model.safetensors') return;
  const { weights } = parseCheckpoint(manifest, await readFile(join(dir, 'model.safetensors')));
  expect(new Set(weights.get('conv_in.bias')!.data), 'model.safetensors beside a manifest naming it').toEqual(new Set([step]));
}

describe('saveCheckpoint under kill -9', () => {
  it('an overwrite killed at a random moment leaves the previous or the new checkpoint, and the next save cleans up (24 trials)', async () => {
    const dir = join(root, 'checkpoint');
    const weights = deterministicWeights(spec);
    weights.get('conv_in.bias')!.data.fill(0);
    await saveCheckpoint(dir, { spec, weights, training: { step: 0 } });
    let last = 0;
    const report = await killLoop({
      script: childScript,
      args: () => [dir, String(last)],
      trials: 24,
      seed: 21,
      minDelayMs: 0,
      // A save takes some tens of milliseconds here: the kills land in every phase of several saves.
      maxDelayMs: 150,
      check: async (trial) => {
        const saved = [...trial.stdout.matchAll(/^saved (\d+)$/gm)].map((match) => Number(match[1]));
        const lastSaved = saved.length === 0 ? last : saved[saved.length - 1]!;
        const step = await loadedStep(dir);
        await olderReaderAgrees(dir, step);
        // The last completed save, or the one the kill interrupted.
        expect([lastSaved, lastSaved + 1]).toContain(step);
        last = step;
        weights.get('conv_in.bias')!.data.fill(step);
        await saveCheckpoint(dir, { spec, weights, training: { step } });
        expect((await readdir(dir)).sort()).toEqual(['model.json', 'model.safetensors']);
        expect(await loadedStep(dir)).toBe(step);
      },
    });
    expect(report.killed).toBeGreaterThanOrEqual(20);
    // Child processes start slowly on a busy 2-core machine: a few seconds per trial there.
  }, 240_000);
});
