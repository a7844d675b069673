/**
 * `levelskip eval` and `levelskip demo` (what `pnpm start` runs) on the shipped models, spawned
 * as a user runs them, with tiny sample counts: the numbers are checked for shape and sense
 * (FD-LeNet finite and positive, the floor at the same n, the predicted saving from eq. 1), not
 * for quality, which the benchmarks measure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, type CliRun } from './helpers/run-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-eval-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
beforeAll(() => assertBuilt());

function expectOneErrorLine(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(message);
}

// DDIM-4 with leading spacing visits t = 750, 500, 250, 0; with c = 2 and N = 4, eq. 1 gives
// k = ⌊4 − 4(1 − t/1000)²⌋ capped at 3: 3, 3, 1, 0.
const ksC2 = [3, 3, 1, 0];

describe('eval', () => {
  it('scores 4 images of mnist-zero-c2 with its schedule and reports the floor at n = 4', async () => {
    const run = await runCli(['eval', '--model', 'mnist-zero-c2', '--samples', '4', '--batch', '2', '--steps', '4', '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      fdLenet: number;
      floor: { count: number; mean: number };
      samples: number;
      ks: number[];
      schedule: string;
      recognisable: number;
      realRecognisable: number;
    };
    expect(result.samples).toBe(4);
    expect(result.schedule).toBe('power(c=2)');
    expect(result.ks).toEqual(ksC2);
    expect(Number.isFinite(result.fdLenet) && result.fdLenet > 0).toBe(true);
    expect(result.floor.count).toBe(4);
    expect(result.floor.mean).toBeGreaterThan(0);
    // Shares of 4 images; 4 held-out real digits are (nearly) all recognisable to LeNet.
    expect([0, 0.25, 0.5, 0.75, 1]).toContain(result.recognisable);
    expect(result.realRecognisable).toBeGreaterThanOrEqual(0.75);
  });

  it.each([
    ['--samples 1', ['--samples', '1'], /--samples must be in \[2, 5000\]/],
    ['--samples 6000', ['--samples', '6000'], /--samples must be in \[2, 5000\]/],
    ['an unknown fill', ['--fill', 'nearest'], /fill/],
  ])('rejects %s with one line and exit 2', async (_name, flags, message) => {
    expectOneErrorLine(await runCli(['eval', '--model', 'mnist-zero-c2', ...flags]), message);
  });
});

describe('demo', () => {
  it('samples mnist-full at c = 0, mnist-c2-distill at c = 2 and mnist-full with cache:3, and writes the labelled grid', async () => {
    const out = join(directory, 'demo', 'samples.png');
    const run = await runCli(['demo', '--samples', '4', '--batch', '2', '--steps', '4', '--columns', '2', '--out', out, '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      rows: { model: string; c: number | null; fill: string; ks: number[]; measuredFractionSaved: number; predictedFractionSaved: number; fdLenet: number }[];
      floor: { count: number };
      image: { width: number; height: number };
      sampler: string;
    };
    expect(summary.rows.map((r) => [r.model, r.c, r.fill])).toEqual([
      ['mnist-full', 0, 'zero'],
      ['mnist-c2-distill', 2, 'zero'],
      ['mnist-full', null, 'cache:3'],
    ]);
    expect(summary.rows[0]!.ks).toEqual([0, 0, 0, 0]);
    expect(summary.rows[1]!.ks).toEqual(ksC2);
    // k = N − 1 = 3 asked at every step; cache:3 runs steps 0 and 3 at full depth.
    expect(summary.rows[2]!.ks).toEqual([0, 3, 3, 0]);
    // FLOPs of mnistSmall (levelskip info): 557.0 M at k = 0, 181.6 M at k = 3: 1 − (2·557.0 + 2·181.6) / (4·557.0).
    expect(summary.rows[2]!.predictedFractionSaved).toBeCloseTo((2 * (557.0 - 181.6)) / (4 * 557.0), 3);
    expect(summary.rows[0]!.measuredFractionSaved).toBe(0);
    expect(summary.rows[0]!.predictedFractionSaved).toBe(0);
    expect(summary.rows[1]!.predictedFractionSaved).toBeGreaterThan(0.3);
    for (const row of summary.rows) expect(Number.isFinite(row.fdLenet)).toBe(true);
    expect(summary.floor.count).toBe(4);
    expect(summary.sampler).toMatch(/^ddim\(steps=4, eta=1,/);
    const png = pngjs.PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([summary.image.width, summary.image.height]);
    // Three rows of two 64-px cells (scale 2): height 2 + 3·(64 + 2) = 200.
    expect(png.height).toBe(200);
  });

  it('leaves the cache row out with --cache-interval 0, and rejects a negative interval', async () => {
    const run = await runCli(['demo', '--samples', '2', '--batch', '2', '--steps', '2', '--columns', '1', '--cache-interval', '0', '--out', join(directory, 'demo', 'two.png'), '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { rows: unknown[] }).rows).toHaveLength(2);
    expectOneErrorLine(await runCli(['demo', '--cache-interval', '-1', '--samples', '2', '--columns', '1']), /--cache-interval/);
  });

  it('samples with DDIM η = 1 unless --eta says otherwise, and rejects η outside [0, 1]', async () => {
    const run = await runCli(['demo', '--samples', '2', '--batch', '2', '--steps', '2', '--columns', '1', '--eta', '0.5', '--out', join(directory, 'demo', 'eta.png'), '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { sampler: string }).sampler).toMatch(/^ddim\(steps=2, eta=0\.5,/);
    expectOneErrorLine(await runCli(['demo', '--eta', '1.5', '--samples', '2', '--columns', '1']), /--eta.*in \[0, 1\]/);
  });

  it('rejects a baseline that is not a shipped model with one line and exit 2', async () => {
    expectOneErrorLine(await runCli(['demo', '--baseline', 'mnist-nope', '--samples', '2', '--columns', '1']), /Unknown pretrained model "mnist-nope"/);
  });
});
