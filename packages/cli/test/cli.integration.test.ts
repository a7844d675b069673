/**
 * The built `levelskip` executable, spawned as a user runs it (`node bin/levelskip.js ...`):
 * help, info, sampling on both backends, training with Ctrl-C and resume, export, the shipped
 * model, and the error paths (one line on stderr, exit code 2 for usage errors).
 *
 * Needs `pnpm --filter @levelskip/cli build` (and the sibling packages built) first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, binPath, packageRoot, runCli, type CliRun } from './helpers/run-cli.js';
import { ode2MultiStageSpec } from './helpers/spec-fixtures.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-run-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
beforeAll(() => assertBuilt());

/** A 2-level U-Net for 32×32×1 images: small enough to train a few steps in a test. */
const tinySpecPath = join(directory, 'tiny.json');
writeFileSync(
  tinySpecPath,
  JSON.stringify({ imageSize: 32, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }),
);

function pngSize(path: string): [number, number] {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  return [png.width, png.height];
}

function expectOneErrorLine(run: CliRun, code: number, message: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n');
  expect(lines, run.stderr).toHaveLength(2); // one line and its newline
  expect(lines[0]).toMatch(/^levelskip: /);
  expect(lines[0]).toMatch(message);
}

describe('help', () => {
  it('lists the commands', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['demo', 'info', 'sample', 'eval', 'train', 'export']) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each([
    ['info', ['--model', '--checkpoint', '--preset', '--spec', '--json']],
    ['sample', ['--backend', '--engine', '--sampler', '--steps', '--eta', '--c', '--k-table', '--fill', '--batch', '--seed', '--out', '--row-labels', '--random-weights', '--json']],
    ['train', ['--scheme', '--c', '--fill', '--steps', '--epochs', '--batch', '--lr', '--warmup', '--ema', '--grad-clip', '--seed', '--workers', '--checkpoint-dir', '--checkpoint-every', '--resume', '--out', '--dtype']],
    ['export', ['--out', '--k', '--fill', '--json']],
  ])('%s --help shows its flags', async (command, flags) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(0);
    for (const flag of flags) expect(run.stdout).toContain(flag);
  });
});

describe('info', () => {
  it('--preset mnistSmall --json reports 2,997,793 parameters', async () => {
    const run = await runCli(['info', '--preset', 'mnistSmall', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { parameters: number; levels: number };
    expect(report.parameters).toBe(2_997_793);
    expect(report.levels).toBe(4);
  });
});

describe('sample with random weights', () => {
  it.each(['onnx', 'tfjs'])('runs 3 steps on %s and writes a 2-image grid', async (backend) => {
    const out = join(directory, `grid-${backend}.png`);
    const run = await runCli(['sample', '--preset', 'mnistSmall', '--random-weights', '--backend', backend, '--steps', '3', '--batch', '2', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    // Two 32×32 cells side by side with 2-px gutters: 2 + 2·(32 + 2) = 70 wide, 2 + 34 = 36 tall.
    expect(pngSize(out)).toEqual([70, 36]);
    expect(run.stdout).toContain(`backend    ${backend}-`);
    expect(run.stdout).toMatch(/^ks {9}k=0: 3$/m);
    // stderr is a pipe here: plain progress lines, ending with the last step.
    expect(run.stderr).toMatch(/^sampling 3\/3 \(100%\) k=0 /m);
  });

  it('--json reports the steps, ks and a FLOP prediction for the schedule', async () => {
    const run = await runCli(['sample', '--preset', 'mnistSmall', '--random-weights', '--steps', '4', '--batch', '1', '--c', '2', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(run.stdout) as { timesteps: number[]; ks: number[]; ksHistogram: Record<string, number>; predictedFractionSaved: number; output: null; schedule: string };
    expect(summary.timesteps).toEqual([750, 500, 250, 0]);
    // k(t) = min(3, ⌊4 − 4(1 − t)²⌋): t = 0.75 → ⌊3.75⌋ = 3, 0.5 → 3, 0.25 → ⌊1.75⌋ = 1, 0 → 0.
    expect(summary.ks).toEqual([3, 3, 1, 0]);
    expect(summary.ksHistogram).toEqual({ '0': 1, '1': 1, '3': 2 });
    expect(summary.schedule).toBe('power(c=2)');
    expect(summary.predictedFractionSaved).toBeGreaterThan(0);
    expect(summary.output).toBeNull();
  });

  it('--fill mean (a fill of core\'s registry) samples with the skip schedule', async () => {
    const run = await runCli(['sample', '--preset', 'mnistSmall', '--random-weights', '--steps', '4', '--batch', '1', '--c', '2', '--fill', 'mean', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { ks: number[]; fill: string };
    expect(summary.ks).toEqual([3, 3, 1, 0]);
    expect(summary.fill).toBe('mean');
  });
});

describe('ode2 blocks and multiple decoder stages', () => {
  it('samples on both backends with the interpolate fill and exports per stage', async () => {
    const spec = join(directory, 'ode2-stages.json');
    writeFileSync(
      spec,
      JSON.stringify(ode2MultiStageSpec),
    );
    const images: Float32Array[] = [];
    for (const backend of ['onnx', 'tfjs']) {
      const out = join(directory, `ode2-${backend}.png`);
      const run = await runCli(['sample', '--spec', spec, '--random-weights', '--backend', backend, '--steps', '4', '--batch', '2', '--c', '2', '--fill', 'interpolate', '--json', '--no-progress', '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      // 3 levels, DDIM-4 at t = 0.75, 0.5, 0.25, 0: k = min(2, ⌊3 − 3(1 − t)²⌋) = 2, 2, 1, 0.
      expect((JSON.parse(run.stdout) as { ks: number[] }).ks).toEqual([2, 2, 1, 0]);
      expect(pngSize(out)).toEqual([2 + 2 * 18, 2 + 18]);
      const png = pngjs.PNG.sync.read(readFileSync(out));
      images.push(Float32Array.from(png.data));
    }
    // Same seed, same model: the two backends draw the same grid (up to a grey level of rounding).
    const [a, b] = images as [Float32Array, Float32Array];
    expect(a.every((v, i) => Math.abs(v - b[i]!) <= 1)).toBe(true);
    const exported = await runCli(['export', '--spec', spec, '--random-weights', '--out', join(directory, 'ode2-onnx'), '--k', '2', '--fill', 'interpolate', '--stage', '1', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect((JSON.parse(exported.stdout) as { graphs: { file: string }[] }).graphs.map((g) => g.file)).toEqual(['stage1-k2-interpolate.onnx']);
  });
});

describe('DeepCache-style caching (--fill cache:m)', () => {
  it('runs every m-th step at full depth on both backends, says so in ks, and the backends agree', async () => {
    const spec = join(directory, 'cache-tiny.json');
    writeFileSync(spec, JSON.stringify({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2, 2], groups: 4, resBlocks: 1, attentionLevels: [], midAttention: false }));
    const images: Float32Array[] = [];
    for (const backend of ['onnx', 'tfjs']) {
      const out = join(directory, `cache-${backend}.png`);
      const run = await runCli(['sample', '--spec', spec, '--random-weights', '--backend', backend, '--steps', '5', '--batch', '2', '--k-table', '0:1=2', '--fill', 'cache:2', '--json', '--no-progress', '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as { ks: number[]; fill: string };
      // k = 2 asked at every step; cache:2 refreshes at full depth at steps 0, 2, 4.
      expect(summary.ks).toEqual([0, 2, 0, 2, 0]);
      expect(summary.fill).toBe('cache:2');
      images.push(Float32Array.from(pngjs.PNG.sync.read(readFileSync(out)).data));
    }
    const [a, b] = images as [Float32Array, Float32Array];
    expect(a.every((v, i) => Math.abs(v - b[i]!) <= 1)).toBe(true);
  });
});

describe('errors: one line on stderr, exit code 2, before any engine starts', () => {
  const randomModel = ['sample', '--preset', 'mnistSmall', '--random-weights'];
  it.each([
    ['an unknown fill', [...randomModel, '--fill', 'nearest'], /Unknown fill "nearest"/],
    ['a cache interval of 0', [...randomModel, '--fill', 'cache:0'], /cache fill interval must be an integer ≥ 1 .*got 0/],
    ['c = -1', [...randomModel, '--c', '-1'], /--c must be a number ≥ 0/],
    ['c = -1 (--c=-1)', [...randomModel, '--c=-1'], /--c must be a number ≥ 0/],
    ['interpolate without side paths', [...randomModel, '--fill', 'interpolate'], /fill "interpolate" needs learned side paths.*sidePaths: false/],
    ['a missing checkpoint directory', ['sample', '--checkpoint', join(directory, 'no-such-model')], /No checkpoint at .*no-such-model: the directory does not exist/],
    ['an unknown model', ['sample', '--model', 'mnist-nope'], /Unknown pretrained model "mnist-nope".*mnist-zero-c2/],
    ['steps = 0', [...randomModel, '--steps', '0'], /--steps must be a positive integer, got "0"/],
    ['steps = 1.5', [...randomModel, '--steps', '1.5'], /--steps must be a positive integer/],
    ['a k table deeper than the model', [...randomModel, '--k-table', '0:1=4'], /skips 4 levels but the model only has 4 levels/],
    ['an unknown option', [...randomModel, '--bogus'], /unknown option '--bogus'/],
    ['no model', ['sample'], /pass exactly one of --model/],
    ['info on a missing spec file', ['info', '--spec', join(directory, 'nope.json')], /--spec cannot read .*nope\.json \(the file does not exist\)/],
    ['export without --out', ['export', '--preset', 'mnistSmall', '--random-weights'], /--out is required/],
    ['train with cache', ['train', '--preset', 'mnistSmall', '--fill', 'cache', '--steps', '1', '--out', join(directory, 'never')], /--fill cache/],
    ['train interpolate without side paths', ['train', '--preset', 'mnistSmall', '--fill', 'interpolate', '--steps', '1', '--out', join(directory, 'never')], /sidePaths: false/],
  ])('%s', async (_, args, message) => {
    expectOneErrorLine(await runCli(args), 2, message);
  });

  it('prints the stack with LEVELSKIP_DEBUG=1', async () => {
    const run = await runCli(['sample', '--preset', 'mnistSmall', '--random-weights', '--fill', 'nearest'], { env: { LEVELSKIP_DEBUG: '1' } });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^levelskip: Unknown fill/);
    expect(run.stderr).toMatch(/\n\s+at /);
  });
});

describe('export', () => {
  it('writes the chosen per-k graphs and a manifest', async () => {
    const out = join(directory, 'onnx');
    const run = await runCli(['export', '--spec', tinySpecPath, '--random-weights', '--out', out, '--k', '0,1', '--fill', 'zero,duplicate', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { graphs: { file: string; k: number; fill: string; bytes: number }[] };
    expect(summary.graphs.map((g) => g.file)).toEqual(['stage0-k0-full.onnx', 'stage0-k1-zero.onnx', 'stage0-k1-duplicate.onnx']);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'stage0-k0-full.onnx', 'stage0-k1-duplicate.onnx', 'stage0-k1-zero.onnx']);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { format: string; graphs: unknown[] };
    expect(manifest.format).toBe('levelskip-onnx');
    expect(manifest.graphs).toHaveLength(3);
    for (const graph of summary.graphs) expect(graph.bytes).toBeGreaterThan(1000);
  });
});

describe('train', () => {
  const model = join(directory, 'tiny-model');
  const common = ['train', '--spec', tinySpecPath, '--data-count', '16', '--batch', '2', '--engine', 'wasm', '--scheme', 'schedule-aware', '--c', '2', '--seed', '3', '--out', model];

  it('trains, writes the EMA weights with the training record, and the result samples', async () => {
    const run = await runCli([...common, '--steps', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { status: string; steps: number };
    expect(summary).toMatchObject({ status: 'finished', steps: 2 });
    const manifest = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { dtype: string; training: Record<string, unknown> };
    expect(manifest.dtype).toBe('F32');
    expect(manifest.training).toMatchObject({
      scheme: 'schedule-aware',
      schedule: { kind: 'power', c: 2 },
      fill: 'zero',
      steps: 2,
      images: 4,
      batchSize: 2,
      lr: 2e-4,
      seed: 3,
      engine: 'wasm',
      noiseSchedule: { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainTimesteps: 1000 },
    });
    expect(typeof manifest.training['finalLoss']).toBe('number');
    expect(manifest.training['command']).toContain('levelskip train --spec');
    expect(existsSync(join(model, 'checkpoints', 'step-0000002'))).toBe(true);

    // The trained model samples on the ONNX backend with the schedule it was trained for.
    const sampled = await runCli(['sample', '--checkpoint', model, '--steps', '2', '--batch', '1', '--json', '--no-progress']);
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(JSON.parse(sampled.stdout)).toMatchObject({ schedule: 'power(c=2)', scheduleOrigin: 'model', fill: 'zero', fillOrigin: 'model' });
    const info = await runCli(['info', '--checkpoint', model, '--json']);
    expect((JSON.parse(info.stdout) as { training: { steps: number } }).training.steps).toBe(2);
  });

  it('stops on Ctrl-C after a step with a checkpoint and the model (exit 130), then resumes', async () => {
    rmSync(model, { recursive: true, force: true });
    const child = spawn(process.execPath, [binPath, ...common, '--steps', '60', '--dtype', 'f16'], { cwd: packageRoot });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first progress line (10 % = step 6) means training is under way.
        if (/^training 6\/60/m.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`exited before the first progress line: ${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('SIGINT: stopping training after the current step');
    const stopped = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { dtype: string; training: { steps: number; stopped: string } };
    expect(stopped.dtype).toBe('F16');
    expect(stopped.training.stopped).toBe('interrupted');
    expect(stopped.training.steps).toBeGreaterThanOrEqual(6);
    expect(stopped.training.steps).toBeLessThan(60);
    expect(readdirSync(join(model, 'checkpoints'))).toContain(`step-${String(stopped.training.steps).padStart(7, '0')}`);

    const resumed = await runCli([...common, '--steps', '60', '--dtype', 'f16', '--resume', '--json', '--no-progress']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'finished', steps: 60 });
    const finished = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { training: Record<string, unknown> };
    expect(finished.training['steps']).toBe(60);
    expect(finished.training['images']).toBe(120);
    expect(finished.training['stopped']).toBeUndefined();
  });
});

describe('the shipped mnist-zero-c2 model', () => {
  it('samples 2 images in 4 steps with its recommended settings (its trained schedule) and writes a PNG', async () => {
    const out = join(directory, 'zero-c2.png');
    const run = await runCli(['sample', '--model', 'mnist-zero-c2', '--steps', '4', '--batch', '2', '--out', out, '--row-labels', 'c=2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('schedule   power(c=2) (recommended in model.json)');
    expect(run.stdout).toContain('sampler    ddim(steps=4, eta=1, spacing=leading, clipSample=1) (sampler, η, clip recommended in model.json; steps from flags)');
    // Label "c=2" at scale ⌊32/16⌋ = 2 is (3·6 − 1)·2 = 34 px wide: 2 + 34 + 2 + 2·(32 + 2) = 106.
    expect(pngSize(out)).toEqual([106, 36]);
  });
});
