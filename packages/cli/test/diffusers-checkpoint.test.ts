/**
 * `--checkpoint <diffusers directory>` (issue 23): info, sample, eval and export load a diffusers
 * UNet2DModel or pipeline directory through core's `loadCheckpoint`; its scheduler's settings are
 * used (spacing, offset, variance), `--fill cache:m` alone caches at k = N − 1 (DeepCache-style),
 * and `sample` prints the FLOP-predicted and the measured time saved.
 *
 * In-process runs with a stand-in backend (ε̂ = 0.1·x on the host) and stand-in metrics: they check
 * what the commands do with the directory, not image quality.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUNetSpec, randomWeights, serializeSafetensors } from '@levelskip/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { measuredTimeSaved, type SampleSummary } from '../src/commands/sample.js';
import type { InfoReport } from '../src/commands/info.js';
import { resolveSkipSettings } from '../src/sampling/sampling-settings.js';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';

vi.mock('../src/backends/backend-choice.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/backends/backend-choice.js')>();
  const { createFakeBackend } = await import('./helpers/fake-backend.js');
  return { ...original, createBackend: async () => createFakeBackend() as never };
});
vi.mock('@levelskip/metrics', async (importOriginal) => {
  const original = await importOriginal<typeof import('@levelskip/metrics')>();
  return {
    ...original,
    loadMnistReference: async () => ({ lenet: {} }),
    loadMnistReferenceImages: async () => ({ heldOut: { images: new Float32Array(4 * 32 * 32), count: 4 } }),
    fdLenet: () => ({ fd: 1, floor: null }),
    recognisableRate: () => 0.5,
  };
});

const root = mkdtempSync(join(tmpdir(), 'levelskip-cli-diffusers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A 2-level UNet2DModel config (32×32, 1 channel, widths 8 and 16, attention at level 1 and in the middle). */
const config = {
  _class_name: 'UNet2DModel',
  _diffusers_version: '0.31.0',
  sample_size: 32,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
  up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
  attention_head_dim: null,
  norm_num_groups: 4,
  norm_eps: 1e-6,
};
const spec = parseUNetSpec({ imageSize: 32, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [1], groups: 4, normEps: 1e-6 });
const weights = serializeSafetensors(randomWeights(spec, { seed: 3 }));

let counter = 0;
function directory(files: Record<string, unknown>): string {
  const dir = join(root, `d${counter++}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  return dir;
}

function pipeline(scheduler: Record<string, unknown>): string {
  return directory({
    'model_index.json': { _class_name: 'DDPMPipeline', unet: ['diffusers', 'UNet2DModel'], scheduler: ['diffusers', String(scheduler['_class_name'])] },
    'unet/config.json': config,
    'unet/diffusion_pytorch_model.safetensors': weights,
    'scheduler/scheduler_config.json': scheduler,
  });
}

const ddim = { _class_name: 'DDIMScheduler', num_train_timesteps: 1000, clip_sample: true, timestep_spacing: 'trailing' };

describe('levelskip info --checkpoint <diffusers directory>', () => {
  it('shows the translated spec, the origin and the scheduler settings', async () => {
    const dir = pipeline(ddim);
    const json = await runInProcess(['info', '--checkpoint', dir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as InfoReport;
    expect(report.spec).toMatchObject({ imageSize: 32, baseChannels: 8, channelMults: [1, 2], attentionLevels: [1], normEps: 1e-6 });
    expect(report.training).toMatchObject({ origin: 'diffusers UNet2DModel (diffusers 0.31.0)', pipeline: 'DDPMPipeline', noiseSchedule: { kind: 'linear' } });
    expect(report.sampling).toMatchObject({ sampler: 'ddim', steps: 50, eta: 0, clip: true, timestepSpacing: 'trailing' });
    const text = await runInProcess(['info', '--checkpoint', dir]);
    expect(text.stdout).toContain('ddim, 50 steps, η = 0, clip, trailing spacing');
  });

  it('says what a v-prediction model outputs', async () => {
    const text = await runInProcess(['info', '--checkpoint', pipeline({ ...ddim, prediction_type: 'v_prediction' })]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('(out 1 channels, v-prediction (diffusers v_prediction), T = 1000)');
    expect(text.stdout).toContain('predicts v_prediction');
  });

  it('refuses a model levelskip cannot run in one line naming the field', async () => {
    const dir = directory({ 'config.json': { ...config, down_block_types: ['DownBlock2D', 'AttnSkipDownBlock2D'] }, 'diffusion_pytorch_model.safetensors': new Uint8Array(16) });
    expectCleanFailure(await runInProcess(['info', '--checkpoint', dir]), /config\.json: 1 field levelskip cannot run: +down_block_types\[1\]: "AttnSkipDownBlock2D" is not supported/);
  });
});

describe('levelskip sample --checkpoint <diffusers directory>', () => {
  it('--fill cache:3 alone caches at k = N − 1 and prints the predicted and the measured time saved', async () => {
    const dir = directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': weights });
    const json = await runInProcess(['sample', '--checkpoint', dir, '--fill', 'cache:3', '--steps', '7', '--json', '--no-progress']);
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as SampleSummary;
    // N = 2: k = 1 asked at every step; cache:3 runs steps 0, 3 and 6 at full depth.
    expect(summary.ks).toEqual([0, 1, 1, 0, 1, 1, 0]);
    expect(summary.fill).toBe('cache:3');
    expect(summary.schedule).toBe('k = N − 1 (DeepCache-style with the cache fill)');
    expect(summary.predictedFractionSaved).toBeGreaterThan(0);
    expect(typeof summary.measuredFractionSaved).toBe('number');
    expect(summary.fullDepthMsPerStep).toBeGreaterThan(0);

    const text = await runInProcess(['sample', '--checkpoint', dir, '--fill', 'cache:3', '--steps', '7']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^predicted {2}\d+(\.\d+)? ?% of full-depth FLOPs saved by this schedule$/m);
    expect(text.stdout).toMatch(/^measured {3}-?\d+(\.\d+)? ?% of the time saved against this run's full-depth steps \(median .+\/step at k = 0\)$/m);
  });

  it("samples with the scheduler's spacing and offset (DDIM trailing: 999, 899, …, 99; leading with steps_offset 1: 901, …, 1)", async () => {
    const trailing = JSON.parse((await runInProcess(['sample', '--checkpoint', pipeline(ddim), '--steps', '10', '--json', '--no-progress'])).stdout) as SampleSummary;
    expect(trailing.timesteps).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(trailing.settings).toContain('trailing spacing');
    const offset = JSON.parse((await runInProcess(['sample', '--checkpoint', pipeline({ _class_name: 'DDIMScheduler', steps_offset: 1 }), '--steps', '10', '--json', '--no-progress'])).stdout) as SampleSummary;
    expect(offset.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  it("a DDPMScheduler's variance goes to the ddpm sampler, and the run says so", async () => {
    const run = await runInProcess(['sample', '--checkpoint', pipeline({ _class_name: 'DDPMScheduler', variance_type: 'fixed_large' }), '--steps', '5', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as SampleSummary;
    expect(summary.settings).toMatch(/^ddpm \(recommended in model\.json\), 5 steps \(from flags\), clip, leading spacing, variance fixed_large \(recommended in model\.json\)/);
  });
});

describe('eval and export --checkpoint <diffusers directory>', () => {
  it('eval samples it', async () => {
    const run = await runInProcess(['eval', '--checkpoint', pipeline(ddim), '--samples', '2', '--batch', '2', '--steps', '3', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
  });

  it('export writes its ONNX graph', async () => {
    const out = join(root, 'export');
    const run = await runInProcess(['export', '--checkpoint', pipeline(ddim), '--out', out, '--k', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(out).some((name) => name.endsWith('.onnx'))).toBe(true);
  });
});

describe('measuredTimeSaved', () => {
  it('compares the run with its full-depth steps (by hand: 1 − 36 / (6 × 10) = 0.4)', () => {
    // Step times 10, 4, 4, 10, 4, 4 ms at k = 0, 1, 1, 0, 1, 1.
    expect(measuredTimeSaved([10, 14, 18, 28, 32, 36], [0, 1, 1, 0, 1, 1])).toEqual({ measuredFractionSaved: 1 - 36 / 60, fullDepthMsPerStep: 10 });
  });

  it('uses the median full-depth step, so one slow first step does not inflate it', () => {
    // Full-depth steps of 30, 10, 12 ms: median 12; total 30 + 5 + 10 + 5 + 12 = 62 over 5 steps.
    expect(measuredTimeSaved([30, 35, 45, 50, 62], [0, 1, 0, 1, 0]).measuredFractionSaved).toBeCloseTo(1 - 62 / 60, 12);
  });

  it('is 0 at full depth throughout and unknown without a full-depth step', () => {
    expect(measuredTimeSaved([5, 10], [0, 0])).toEqual({ measuredFractionSaved: 0, fullDepthMsPerStep: 5 });
    expect(measuredTimeSaved([5, 10], [1, 1])).toEqual({ measuredFractionSaved: null, fullDepthMsPerStep: null });
  });
});

describe('--fill cache without a schedule', () => {
  it('means k = N − 1 when the model has no trained schedule, and the trained one otherwise', () => {
    const bare = resolveSkipSettings({ skip: undefined, fill: 'cache:3' }, { training: undefined });
    expect([bare.schedule.kAt(0.5, 4), bare.schedule.kAt(0, 2), bare.scheduleOrigin]).toEqual([3, 1, 'default']);
    const trained = resolveSkipSettings({ skip: undefined, fill: 'cache' }, { training: { schedule: { kind: 'power', c: 2 } } });
    expect([trained.schedule.description, trained.scheduleOrigin]).toEqual(['power(c=2)', 'model']);
    const zero = resolveSkipSettings({ skip: undefined, fill: 'zero' }, { training: undefined });
    expect(zero.schedule.description).toBe('power(c=0)');
  });
});
