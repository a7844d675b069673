/**
 * NaN and Infinity never become images (issue 21, item 6, CLI part): when the model's prediction
 * is not finite, `sample`, `demo` and `eval` write nothing and exit 1 with one line naming the
 * step, timestep and k. The checkpoints here hold only finite weights (core refuses NaN and ±Inf at
 * load), but weights of 3·10^38 overflow float32 in the output convolution at every step, as a
 * diverged training run's would.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseUNetSpec, presets, randomWeights, saveCheckpoint, type UNetSpecInput } from '@levelskip/core';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';

// demo samples the shipped models by name: here they resolve to the overflowing checkpoint. The
// MNIST reference of eval and demo is only needed for scores after sampling, which never come.
const shipped = vi.hoisted(() => ({ checkpoint: '' }));
vi.mock('../src/model/resolve-model.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/model/resolve-model.js')>();
  return {
    ...original,
    loadModel: (source: Parameters<typeof original.loadModel>[0], options: Parameters<typeof original.loadModel>[1]) =>
      original.loadModel(source.kind === 'pretrained' ? { kind: 'checkpoint', directory: shipped.checkpoint } : source, options),
  };
});
vi.mock('@levelskip/metrics', async (importOriginal) => ({ ...(await importOriginal<typeof import('@levelskip/metrics')>()), loadMnistReference: async () => ({}) }));

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-nonfinite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Saves `spec` with random weights whose output convolution is all 3·10^38 (finite, but it overflows). */
async function overflowingCheckpoint(name: string, specInput: UNetSpecInput): Promise<string> {
  const spec = parseUNetSpec(specInput);
  const weights = new Map(randomWeights(spec, { seed: 1 }));
  const convOut = weights.get('conv_out.weight')!;
  weights.set('conv_out.weight', { shape: convOut.shape, data: new Float32Array(convOut.data.length).fill(3e38) });
  const dir = join(directory, name);
  await saveCheckpoint(dir, { spec, weights });
  return dir;
}

describe('a model whose predictions overflow', () => {
  let tiny: string;
  let mnist: string;
  beforeAll(async () => {
    tiny = await overflowingCheckpoint('tiny', { imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 });
    mnist = await overflowingCheckpoint('mnist', presets.mnistSmall);
  });

  for (const backend of ['onnx', 'tfjs'] as const) {
    for (const sampler of ['ddim', 'ddpm', 'langevin', 'dpm-solver'] as const) {
      it(`sample --backend ${backend} --sampler ${sampler}: no PNG, exit 1, one line naming step 1, its timestep and k`, async () => {
        const out = join(directory, `${backend}-${sampler}`, 'samples.png');
        const engine = backend === 'tfjs' ? ['--engine', 'cpu'] : [];
        const run = await runInProcess(['sample', '--checkpoint', tiny, '--backend', backend, ...engine, '--sampler', sampler, '--steps', '4', '--batch', '2', '--out', out, '--no-progress']);
        expectCleanFailure(run, /sample: the model's prediction ε at step 1 of 4 \(timestep \d+, k = 0\) is not finite \(.*of 128 values\)/, 1);
        expect(run.stdout).toBe('');
        expect(existsSync(out)).toBe(false);
        expect(existsSync(join(directory, `${backend}-${sampler}`)) ? readdirSync(join(directory, `${backend}-${sampler}`)) : []).toEqual([]);
      });
    }
  }

  it('demo: no PNG grid, exit 1, one line', async () => {
    shipped.checkpoint = mnist;
    const out = join(directory, 'demo', 'samples.png');
    const run = await runInProcess(['demo', '--samples', '2', '--batch', '2', '--steps', '2', '--columns', '1', '--out', out, '--no-progress']);
    expectCleanFailure(run, /the model's prediction ε at step 1 of 2 .* is not finite/, 1);
    expect(existsSync(out)).toBe(false);
  });

  it('eval: no score, exit 1, one line', async () => {
    const run = await runInProcess(['eval', '--checkpoint', mnist, '--samples', '2', '--batch', '2', '--steps', '2', '--no-progress']);
    expectCleanFailure(run, /the model's prediction ε at step 1 of 2 .* is not finite/, 1);
    expect(run.stdout).toBe('');
  });
});
