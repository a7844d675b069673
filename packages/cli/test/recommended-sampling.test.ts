/**
 * `sample` and `eval` sample with the model's recommended settings (model.json's `sampling`) where
 * no flag says otherwise, and say so (issue 22, item 2): the rules of `sampling-settings.ts`, the
 * line on stderr, the summaries, `--help` and `info`. Explicit flags always win.
 *
 * The runs are in-process on the shipped models with a stand-in backend (ε̂ = 0.1·x on the host)
 * and a stand-in FD-LeNet, so they check the settings, not image quality.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { powerSchedule, type RecommendedSampling } from '@levelskip/core';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { planSample, type SampleSummary } from '../src/commands/sample.js';
import type { EvalSummary } from '../src/commands/eval.js';
import type { InfoReport } from '../src/commands/info.js';
import { resolveSamplerSettings, resolveSkipSettings, samplingLine } from '../src/sampling/sampling-settings.js';
import { errorOf } from './helpers/error-of.js';
import { fakeBackendCalls } from './helpers/fake-backend.js';
import { runInProcess } from './helpers/run-in-process.js';

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

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-recommended-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
beforeEach(() => {
  fakeBackendCalls.length = 0;
});

const recommended: RecommendedSampling = { sampler: 'ddim', steps: 50, eta: 1, clip: true, schedule: { kind: 'power', c: 2 }, fill: 'zero' };
const none = { sampler: undefined, steps: undefined, eta: undefined, noiseLevels: undefined, clipSample: undefined };

describe('planSample leaves the sampler settings open when no flag sets them', () => {
  it('sampler, steps, η and clipping are undefined (was: ddim and no clipping, fixed before the model was read)', () => {
    expect(planSample({ model: 'mnist-zero-c2' })).toMatchObject(none);
  });

  it('--clip-sample and --no-clip-sample set clipping either way', () => {
    expect(planSample({ model: 'mnist-zero-c2', clipSample: true }).clipSample).toBe(true);
    expect(planSample({ model: 'mnist-zero-c2', clipSample: false }).clipSample).toBe(false);
  });
});

describe('resolveSamplerSettings', () => {
  it('without a recommendation: ddim, 50 steps, η = 0, no clipping (defaults)', () => {
    expect(resolveSamplerSettings(none, undefined, 1000)).toEqual({
      sampler: 'ddim',
      steps: 50,
      eta: 0,
      noiseLevels: undefined,
      clipSample: false,
      prediction: 'epsilon',
      origins: { sampler: 'default', steps: 'default', eta: 'default', clipSample: 'default' },
    });
  });

  it("with one: the model's sampler, steps, η and clipping", () => {
    expect(resolveSamplerSettings(none, recommended, 1000)).toMatchObject({
      sampler: 'ddim',
      steps: 50,
      eta: 1,
      clipSample: true,
      origins: { sampler: 'recommended', steps: 'recommended', eta: 'recommended', clipSample: 'recommended' },
    });
  });

  it('each flag wins on its own, the rest stays recommended', () => {
    expect(resolveSamplerSettings({ ...none, steps: 20 }, recommended, 1000)).toMatchObject({ steps: 20, eta: 1, clipSample: true, origins: { steps: 'flag', eta: 'recommended' } });
    expect(resolveSamplerSettings({ ...none, eta: 0, clipSample: false }, recommended, 1000)).toMatchObject({ steps: 50, eta: 0, clipSample: false, origins: { eta: 'flag', clipSample: 'flag' } });
  });

  it("another sampler keeps its own defaults: the recommendation's steps, η and clipping were measured with ddim", () => {
    expect(resolveSamplerSettings({ ...none, sampler: 'ddpm' }, recommended, 1000)).toMatchObject({ sampler: 'ddpm', steps: 1000, eta: undefined, clipSample: false });
    expect(resolveSamplerSettings({ ...none, sampler: 'dpm-solver' }, recommended, 1000)).toMatchObject({ sampler: 'dpm-solver', steps: 50, clipSample: false });
  });

  it('a flag that does not fit the recommended sampler asks for --sampler', () => {
    const dpm: RecommendedSampling = { sampler: 'dpm-solver', steps: 20 };
    expect(errorOf(() => resolveSamplerSettings({ ...none, eta: 1 }, dpm, 1000))).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/--eta applies to --sampler ddim only, and this model recommends --sampler dpm-solver .*: add --sampler ddim/),
    });
  });
});

describe('resolveSkipSettings', () => {
  const training = { schedule: { kind: 'power', c: 3 }, fill: 'duplicate' };
  const model = { training, sampling: { ...recommended, schedule: { kind: 'power', c: 1 }, fill: 'cache:2' } };

  it('no --c, --k-table or --fill: the recommended schedule and fill', () => {
    const skip = resolveSkipSettings({ skip: undefined, fill: undefined }, model);
    expect([skip.schedule.description, skip.scheduleOrigin, skip.fill, skip.fillOrigin]).toEqual([powerSchedule({ c: 1 }).description, 'recommended', 'cache:2', 'recommended']);
  });

  it('any of them given: the recommendation is left out; the rest comes from the training record', () => {
    const withFill = resolveSkipSettings({ skip: undefined, fill: 'zero' }, model);
    expect([withFill.schedule.description, withFill.scheduleOrigin, withFill.fill, withFill.fillOrigin]).toEqual(['power(c=3)', 'model', 'zero', 'flag']);
    const withC = resolveSkipSettings({ skip: { kind: 'power', c: 0 }, fill: undefined }, model);
    expect([withC.schedule.description, withC.scheduleOrigin, withC.fill, withC.fillOrigin]).toEqual(['power(c=0)', 'flag', 'duplicate', 'model']);
  });

  it('a recommendation without a fill takes the trained one; without anything, full depth and zero', () => {
    const skip = resolveSkipSettings({ skip: undefined, fill: undefined }, { training, sampling: { sampler: 'ddim', steps: 50, schedule: { kind: 'power', c: 0 } } });
    expect([skip.schedule.description, skip.fill, skip.fillOrigin]).toEqual(['power(c=0)', 'duplicate', 'model']);
    const bare = resolveSkipSettings({ skip: undefined, fill: undefined }, { training: undefined });
    expect([bare.schedule.description, bare.scheduleOrigin, bare.fill, bare.fillOrigin]).toEqual(['power(c=0)', 'default', 'zero', 'default']);
  });

  it('a recommended schedule core cannot rebuild is a damaged model.json', () => {
    expect(errorOf(() => resolveSkipSettings({ skip: undefined }, { training: undefined, sampling: { ...recommended, schedule: { kind: 'spiral' } } }))).toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: expect.stringContaining('sampling.schedule'),
    });
  });
});

describe('the settings line', () => {
  it('names each run of settings with where it came from', () => {
    const sampler = resolveSamplerSettings({ ...none, steps: 20 }, recommended, 1000);
    const skip = resolveSkipSettings({ skip: undefined, fill: undefined }, { training: undefined, sampling: recommended });
    expect(samplingLine(sampler, skip)).toBe('sampling: ddim (recommended in model.json), 20 steps (from flags), η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)');
  });
});

describe('levelskip sample on a shipped model', () => {
  it('uses and prints the recommended settings when no flag sets them', async () => {
    const run = await runInProcess(['sample', '--model', 'mnist-zero-c2', '--batch', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe('sampling: ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)');
    const summary = JSON.parse(run.stdout) as SampleSummary;
    expect(summary.sampler).toBe('ddim(steps=50, eta=1, spacing=leading, clipSample=1)');
    expect(summary).toMatchObject({
      schedule: 'power(c=2)',
      scheduleOrigin: 'recommended',
      fill: 'zero',
      fillOrigin: 'recommended',
      samplerOrigins: { sampler: 'recommended', steps: 'recommended', eta: 'recommended', clipSample: 'recommended' },
    });
  });

  it('explicit flags win: --eta 0 --no-clip-sample --steps 4 --c 0', async () => {
    const run = await runInProcess(['sample', '--model', 'mnist-zero-c2', '--batch', '1', '--eta', '0', '--no-clip-sample', '--steps', '4', '--c', '0', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(run.stdout) as SampleSummary;
    expect(summary.sampler).toBe('ddim(steps=4, eta=0, spacing=leading)');
    expect(summary).toMatchObject({ schedule: 'power(c=0)', scheduleOrigin: 'flag', fill: 'zero', fillOrigin: 'model' });
    expect(summary.settings).toBe('ddim (recommended in model.json), 4 steps, η = 0, no clip, schedule power(c=0) (from flags), fill zero (trained for; from model.json)');
  });

  it("the text summary names the origins, and prepare() gets the run's depths, fill and batch", async () => {
    const run = await runInProcess(['sample', '--model', 'mnist-zero-c2', '--batch', '3', '--steps', '4', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('sampler    ddim(steps=4, eta=1, spacing=leading, clipSample=1) (sampler, η, clip recommended in model.json; steps from flags)');
    expect(run.stdout).toContain('schedule   power(c=2) (recommended in model.json)');
    // DDIM-4 visits t = 750, 500, 250, 0: k = 3, 3, 1, 0 at c = 2.
    expect(fakeBackendCalls[0]).toEqual({ kind: 'prepare', denoiser: 0, ks: [0, 1, 3], fills: ['zero'], batch: 3 });
    expect(fakeBackendCalls.slice(1).every((call) => call.kind === 'predict')).toBe(true);
  });

  it('a model without recommendations keeps the defaults and says so', async () => {
    const run = await runInProcess(['sample', '--preset', 'mnistSmall', '--random-weights', '--steps', '2', '--batch', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe('sampling: ddim (default), 2 steps (from flags), η = 0, no clip, schedule power(c=0), fill zero (default)');
  });
});

describe('levelskip eval on a shipped model', () => {
  it('uses the recommended settings, prints them on stderr and under the table, and reports their origins', async () => {
    const text = await runInProcess(['eval', '--model', 'mnist-zero-c2', '--samples', '2', '--batch', '2', '--steps', '4']);
    expect(text.code, text.stderr).toBe(0);
    const line = 'sampling: ddim (recommended in model.json), 4 steps (from flags), η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)';
    expect(text.stderr.split('\n')[0]).toBe(line);
    expect(text.stdout).toContain('ddim(steps=4, eta=1, spacing=leading, clipSample=1)');
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(line);
    const json = await runInProcess(['eval', '--model', 'mnist-zero-c2', '--samples', '2', '--batch', '2', '--steps', '4', '--json', '--no-progress']);
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as EvalSummary;
    expect(summary).toMatchObject({ sampler: 'ddim(steps=4, eta=1, spacing=leading, clipSample=1)', scheduleOrigin: 'recommended', fillOrigin: 'recommended' });
    expect(`sampling: ${summary.settings}`).toBe(line);
  });

  it('its progress lines in a log count images (they used to name the k of a batch\'s last step: always k=0)', async () => {
    const run = await runInProcess(['eval', '--model', 'mnist-zero-c2', '--samples', '6', '--batch', '2', '--steps', '4']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter((l) => /^sampling \d+\/12 /.test(l));
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l).toMatch(/^sampling \d+\/12 \(\d+%\) [0246]\/6 images /);
    expect(lines.at(-1)).toMatch(/^sampling 12\/12 \(100%\) 6\/6 images /);
  });
});

describe('--help and info', () => {
  it.each(['sample', 'eval'])('%s --help states the rule', async (command) => {
    const run = await runInProcess([command, '--help']);
    const help = run.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('explicit flags always win');
    expect(help).toContain('the recommended ones only when none of --c, --k-table and --fill is given');
    expect(help).toContain('--no-clip-sample');
  });

  it('info --model shows the recommendation and its note', async () => {
    const json = await runInProcess(['info', '--model', 'mnist-zero-c2', '--json']);
    expect((JSON.parse(json.stdout) as InfoReport).sampling).toMatchObject({ sampler: 'ddim', steps: 50, eta: 1, clip: true });
    const text = await runInProcess(['info', '--model', 'mnist-zero-c2']);
    expect(text.stdout).toContain('Recommended sampling (model.json');
    expect(text.stdout).toContain('ddim, 50 steps, η = 1, clip, schedule {"kind":"power","c":2}, fill zero');
  });
});
