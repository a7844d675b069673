/**
 * `levelskip calibrate`, `info`'s calibration table and `sample --schedule auto:f`, in-process, on a
 * tiny 32×32 U-Net with random weights (the held-out data are MNIST digits): the table written to a
 * file and atomically into model.json (every other field kept), read back by `info` and planned
 * with by `sample`, the quick calibration of a model without a table, and the flag errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCalibrationTable, parseUNetSpec, randomWeights, saveCheckpoint, type CalibrationTable } from '@levelskip/core';
import { main } from '../src/program/create-program.js';
import type { CalibrateSummary } from '../src/commands/calibrate.js';
import type { InfoReport } from '../src/commands/info.js';
import type { SampleSummary } from '../src/commands/sample.js';
import { parseScheduleFlag } from '../src/sampling/auto-schedule.js';
import { capturedIo } from './helpers/captured-io.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-calibrate-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** 32×32×1 (MNIST-sized), N = 3, a few thousand parameters. */
const tinySpec = { imageSize: 32, inChannels: 1, baseChannels: 8, channelMults: [1, 2, 2], groups: 4, resBlocks: 1, attentionLevels: [], midAttention: false };
const specFile = join(directory, 'tiny.json');
const checkpoint = join(directory, 'checkpoint');
const bare = join(directory, 'bare');
const quick = ['--samples', '4', '--timesteps', '3', '--ages', '1,2', '--cost', 'flops', '--no-progress'];

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capturedIo();
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  writeFileSync(specFile, JSON.stringify(tinySpec));
  const spec = parseUNetSpec(tinySpec);
  for (const dir of [checkpoint, bare]) {
    await saveCheckpoint(dir, { spec, weights: randomWeights(spec, { seed: 3 }), training: { note: 'kept as is' }, sampling: { sampler: 'ddim', steps: 20, eta: 1 } });
  }
});

describe('levelskip calibrate', () => {
  it('writes the table to --out and prints it with the time it took', async () => {
    const out = join(directory, 'table.json');
    const { code, out: stdout } = await run(['calibrate', '--spec', specFile, '--random-weights', ...quick, '--out', out, '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as CalibrateSummary;
    expect(summary.written).toEqual([out]);
    expect(summary.calibrationMs).toBeGreaterThan(0);
    const table = parseCalibrationTable(JSON.parse(readFileSync(out, 'utf8')));
    expect(table).toEqual(summary.table);
    expect(table.ks).toEqual([1, 2]);
    expect(table.fills.map((f) => f.fill)).toEqual(['zero', 'cache']);
    // --steps defaults to 50 without a recommendation: cache ages count steps of 20 timesteps.
    expect(table.fills[1]).toMatchObject({ stepSpacing: 20, ages: [1, 2] });
    const text = await run(['calibrate', '--spec', specFile, '--random-weights', ...quick]);
    expect(text.out).toContain('ε error: mean ‖ε_k − ε_0‖² per image over 1024 values');
    expect(text.out).toMatch(/time {7}calibration \S+/);
  });

  it('--write stores the table in model.json atomically, keeping every other field; info prints it', async () => {
    const before = JSON.parse(readFileSync(join(checkpoint, 'model.json'), 'utf8')) as Record<string, unknown>;
    const { code } = await run(['calibrate', '--checkpoint', checkpoint, ...quick, '--write']);
    expect(code).toBe(0);
    const after = JSON.parse(readFileSync(join(checkpoint, 'model.json'), 'utf8')) as Record<string, unknown>;
    const { calibration, ...rest } = after;
    expect(rest).toEqual(before);
    const table = parseCalibrationTable(calibration);
    // The model recommends 20 steps: the cache ages count steps of ⌊1000/20⌋ = 50 timesteps.
    expect(table.fills[1]).toMatchObject({ stepSpacing: 50 });

    const io = capturedIo();
    expect(await main(['info', '--checkpoint', checkpoint, '--json'], io)).toBe(0);
    expect((JSON.parse(io.out()) as InfoReport).calibration).toEqual(table);
    const text = capturedIo();
    await main(['info', '--checkpoint', checkpoint], text);
    expect(text.out()).toContain('Calibration (model.json "calibration"): 4 held-out images');
    const none = capturedIo();
    await main(['info', '--checkpoint', bare], none);
    expect(none.out()).toContain('Calibration: none in model.json');
  });

  it('sample --schedule auto:0.3 plans with the stored table: the FLOP-predicted saving meets the budget within one step', async () => {
    const io = capturedIo();
    const code = await main(['sample', '--checkpoint', checkpoint, '--schedule', 'auto:0.3', '--batch', '2', '--json'], io);
    expect(code).toBe(0);
    const summary = JSON.parse(io.out()) as SampleSummary;
    expect(summary.schedule).toMatch(/^auto\(fill=(zero|cache), saves \d+\.\d%, ddim 20 steps\)$/);
    // The table holds FLOP costs, so its saving is the FLOP prediction sample prints.
    expect(summary.predictedFractionSaved).toBeGreaterThanOrEqual(0.3);
    expect(summary.predictedFractionSaved).toBeLessThan(0.3 + 1 / 20);
    expect(io.err()).toContain('auto schedule (model.json calibration)');
    // With the cache fill the first step fills the cache at full depth.
    if (summary.fill === 'cache') expect(summary.ks[0]).toBe(0);
  });

  it('sample --schedule auto:f on a model without a table calibrates quickly first and says so', async () => {
    const io = capturedIo();
    const code = await main(['sample', '--checkpoint', bare, '--schedule', 'auto:0.2', '--fill', 'zero', '--steps', '10', '--batch', '1', '--json'], io);
    expect(code).toBe(0);
    expect(io.err()).toContain('has no calibration table in model.json, so it is calibrated quickly first');
    expect(io.err()).toMatch(/auto schedule: calibrated in /);
    const summary = JSON.parse(io.out()) as SampleSummary;
    expect(summary.fill).toBe('zero');
    expect(summary.predictedFractionSaved).toBeGreaterThanOrEqual(0.2);
    // Nothing was written into the model.
    expect((JSON.parse(readFileSync(join(bare, 'model.json'), 'utf8')) as { calibration?: CalibrationTable }).calibration).toBeUndefined();
  });

  it('rejects bad --schedule values and combinations, naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--schedule', 'auto:1.2'], /--schedule auto:<fraction> needs a fraction of the time to save in \[0, 1\)/],
      [['--schedule', 'power:2'], /--schedule takes auto:<fraction/],
      [['--schedule', 'auto:0.4', '--c', '2'], /--schedule and --c both set the skip schedule/],
      [['--schedule', 'auto:0.4', '--fill', 'cache:3'], /--fill cache:3 refreshes the cache every 3 steps, but --schedule auto places the full-depth refreshes itself: use --fill cache/],
      [['--schedule', 'auto:0.4', '--sampler', 'langevin'], /--schedule auto plans with error weights derived for ddim, ddpm and dpm-solver/],
      [['--schedule', 'auto:0.99', '--fill', 'zero'], /--schedule: optimalSchedule: budget asks to save 99\.0% of the time/],
    ];
    for (const [flags, message] of cases) {
      const { code, err } = await run(['sample', '--checkpoint', checkpoint, '--batch', '1', '--no-progress', ...flags]);
      expect(code, flags.join(' ')).not.toBe(0);
      expect(err, flags.join(' ')).toMatch(message);
    }
    expect(parseScheduleFlag('auto:0.4')).toEqual({ fractionSaved: 0.4 });
    expect(parseScheduleFlag('auto:900ms')).toEqual({ ms: 900 });
    expect(parseScheduleFlag(' auto:.25 ')).toEqual({ fractionSaved: 0.25 });
  });

  it('rejects calibrate flags that cannot work, before loading anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--spec', specFile, '--random-weights', '--write'], /--write stores the table in a model directory's model\.json/],
      [['--checkpoint', checkpoint, '--ks', '0,1'], /--ks lists depths to skip \(k ≥ 1\)/],
      [['--checkpoint', checkpoint, '--fills', 'zero,blur'], /--fills takes a comma-separated list of zero, duplicate, interpolate, cache/],
      [['--checkpoint', checkpoint, '--out', 'table.txt'], /--out must be a \.json file path/],
      [['--checkpoint', checkpoint, '--cost', 'seconds'], /--cost must be one of measured, flops/],
    ];
    for (const [flags, message] of cases) {
      const { code, err } = await run(['calibrate', ...flags, '--no-progress']);
      expect(code, flags.join(' ')).not.toBe(0);
      expect(err, flags.join(' ')).toMatch(message);
    }
  });
});
