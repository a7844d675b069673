/**
 * `levelskip export --format diffusers`: a levelskip checkpoint written as a diffusers UNet2DModel
 * directory (config.json, diffusion_pytorch_model.safetensors, scheduler_config.json from the
 * model's noise schedule and recommended sampler), and the flags that do not apply refused.
 * (diffusers itself loading such an export: scripts/dev/diffusers-roundtrip.py.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, parseUNetSpec, randomWeights, sameSpec, saveCheckpoint } from '@levelskip/core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';

const root = mkdtempSync(join(tmpdir(), 'levelskip-cli-export-diffusers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = parseUNetSpec({ imageSize: 16, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [1], groups: 4, normEps: 1e-6, freqShift: 1 });
const weights = randomWeights(spec, { seed: 11 });

describe('export --format diffusers', () => {
  it('writes the checkpoint as a UNet2DModel directory with its noise schedule and sampler', async () => {
    const checkpoint = join(root, 'checkpoint');
    await saveCheckpoint(checkpoint, {
      spec,
      weights,
      training: { noiseSchedule: { kind: 'cosine', trainTimesteps: 1000, s: 0.008, maxBeta: 0.999 } },
      sampling: { sampler: 'ddim', steps: 20, eta: 0, clip: true },
    });
    const out = join(root, 'exported');
    const run = await runInProcess(['export', '--checkpoint', checkpoint, '--format', 'diffusers', '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { format: string; files: { file: string; bytes: number }[] };
    expect(summary.format).toBe('diffusers');
    expect(summary.files.map((f) => f.file)).toEqual(['diffusion_pytorch_model.safetensors', 'scheduler_config.json', 'config.json']);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors', 'scheduler_config.json']);

    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ _class_name: 'UNet2DModel', block_out_channels: [8, 16], norm_eps: 1e-6, freq_shift: 1, down_block_types: ['DownBlock2D', 'AttnDownBlock2D'] });
    const scheduler = JSON.parse(readFileSync(join(out, 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    expect(scheduler).toMatchObject({ _class_name: 'DDIMScheduler', beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: 1000, clip_sample: true, prediction_type: 'epsilon' });

    const loaded = await loadCheckpoint(out);
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    for (const [name, tensor] of weights) expect(loaded.weights.get(name)!.data).toEqual(tensor.data);
  });

  it('prints the files and how to load them', async () => {
    const out = join(root, 'text');
    const run = await runInProcess(['export', '--preset', 'mnistSmall', '--random-weights', '--format', 'diffusers', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('diffusion_pytorch_model.safetensors');
    expect(run.stdout).toContain(`UNet2DModel.from_pretrained(${JSON.stringify(out)})`);
    // No recommended sampler: DDPMScheduler over DDPM's linear schedule.
    expect(JSON.parse(readFileSync(join(out, 'scheduler_config.json'), 'utf8'))).toMatchObject({ _class_name: 'DDPMScheduler', beta_schedule: 'linear' });
  });

  it.each(['--k', '--fill', '--stage'])('refuses %s, which applies to ONNX graphs only', async (flag) => {
    const out = join(root, `refused${flag}`);
    const run = await runInProcess(['export', '--preset', 'mnistSmall', '--random-weights', '--format', 'diffusers', '--out', out, flag, flag === '--fill' ? 'zero' : '0']);
    expectCleanFailure(run, new RegExp(`${flag} applies to --format onnx only`));
    expect(() => readdirSync(out)).toThrow();
  });

  it('refuses an unknown format', async () => {
    const run = await runInProcess(['export', '--preset', 'mnistSmall', '--random-weights', '--format', 'tflite', '--out', join(root, 'tflite')]);
    expectCleanFailure(run, /--format/);
  });

  it('refuses a model diffusers cannot express, naming the spec field, and writes nothing', async () => {
    const specFile = join(root, 'side-paths.json');
    writeFileSync(specFile, JSON.stringify({ imageSize: 16, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, groups: 4, sidePaths: true }));
    const out = join(root, 'side-paths');
    const run = await runInProcess(['export', '--spec', specFile, '--random-weights', '--format', 'diffusers', '--out', out]);
    expectCleanFailure(run, /sidePaths/);
    expect(readdirSync(root)).toContain('side-paths.json');
    expect(() => readdirSync(out)).toThrow();
  });
});
