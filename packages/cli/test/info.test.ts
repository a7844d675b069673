/**
 * `levelskip info`, run in-process: the numbers it reports against hand calculations and an
 * independent implementation of the paper's schedule, and specs with ode2 blocks and multiple
 * decoder stages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/program/create-program.js';
import type { InfoReport } from '../src/commands/info.js';
import { capturedIo } from './helpers/captured-io.js';
import { ode2MultiStageSpec } from './helpers/spec-fixtures.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-info-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function info(args: string[]): Promise<{ code: number; report: InfoReport; text: string }> {
  const io = capturedIo();
  const code = await main(['info', ...args, '--json'], io);
  const textIo = capturedIo();
  await main(['info', ...args], textIo);
  return { code, report: JSON.parse(io.out()) as InfoReport, text: textIo.out() };
}

/** Eq. (1) of Giladi et al., written out again here: k(t) = min(N − 1, ⌊N − N(1 − t)^c⌋). */
function paperK(t: number, N: number, c: number): number {
  return Math.min(N - 1, Math.floor(N - N * (1 - t) ** c + 1e-9));
}

describe('info --preset mnistSmall', () => {
  it('reports the hand-verified parameter count and hand-computed FLOPs', async () => {
    const { code, report, text } = await info(['--preset', 'mnistSmall']);
    expect(code).toBe(0);
    expect(report.parameters).toBe(2_997_793);
    expect(report.levels).toBe(4);
    expect(report.sizes).toEqual([32, 16, 8, 4]);
    expect(report.channels).toEqual([32, 64, 64, 128]);
    // conv_in: 2 · C_in · C_out · 3 · 3 · 32 · 32 = 2 · 1 · 32 · 9 · 1024.
    expect(report.flops.table.input).toBe(589_824);
    // Time MLP: 2 · (32 · 128 + 128 · 128).
    expect(report.flops.table.time).toBe(40_960);
    // At k = N − 1 only level 0 runs: its encoder and decoder parameters plus time, conv_in and output.
    expect(report.flops.perDepth.map((d) => d.k)).toEqual([0, 1, 2, 3]);
    expect(report.flops.perDepth[0]!.parameters).toBe(2_997_793);
    expect(text).toContain('2,997,793');
    expect(text).toContain('Predicted time saved');
  });

  it('predicts time saved from the per-k FLOPs with the paper\'s k(t) over DDIM-50 and DDPM-1000 timesteps', async () => {
    const { report } = await info(['--preset', 'mnistSmall']);
    const flops = report.flops.perDepth.map((d) => d.flops);
    const saved = (c: number, timesteps: number[]): number => {
      const scheduled = timesteps.reduce((sum, t) => sum + flops[paperK(t / 1000, 4, c)]!, 0);
      return 1 - scheduled / (timesteps.length * flops[0]!);
    };
    const ddim = Array.from({ length: 50 }, (_, i) => (49 - i) * 20); // leading spacing: 980, 960, …, 0
    const ddpm = Array.from({ length: 1000 }, (_, i) => 999 - i);
    expect(report.predictedTimeSaved.map((r) => r.c)).toEqual([1, 2, 3, 5]);
    for (const row of report.predictedTimeSaved) {
      expect(row.fill).toBe('zero');
      expect(row.ddimSteps).toBe(50);
      expect(row.ddpmSteps).toBe(1000);
      expect(row.ddimKs).toEqual(ddim.map((t) => paperK(t / 1000, 4, row.c)));
      expect(row.ddimFractionSaved).toBeCloseTo(saved(row.c, ddim), 12);
      expect(row.ddpmFractionSaved).toBeCloseTo(saved(row.c, ddpm), 12);
    }
  });

  it('predicts feature caching (k = 3, cache:m) by counting full-depth steps: ⌈n / m⌉ of n', async () => {
    const { report, text } = await info(['--preset', 'mnistSmall']);
    const flops = report.flops.perDepth.map((d) => d.flops);
    const saved = (m: number, n: number): number => ((n - Math.ceil(n / m)) * (flops[0]! - flops[3]!)) / (n * flops[0]!);
    expect(report.predictedCacheTimeSaved.map((r) => r.interval)).toEqual([2, 3, 4, 5]);
    for (const row of report.predictedCacheTimeSaved) {
      expect(row.k).toBe(3);
      expect(row.ddimKs).toEqual(Array.from({ length: 50 }, (_, i) => (i % row.interval === 0 ? 0 : 3)));
      expect(row.ddimFractionSaved).toBeCloseTo(saved(row.interval, 50), 12);
      expect(row.ddpmFractionSaved).toBeCloseTo(saved(row.interval, 1000), 12);
    }
    // m = 3, DDIM-50: 17 full-depth steps, 33 at k = 3 (181.6 of 557.0 MFLOPs): 44.5 %.
    expect(text).toMatch(/^3 +44\.5 % +44\.9 % +0330330/m);
  });
});

describe('info on ode2 and multi-decoder specs', () => {
  it('accounts ode2 blocks and every decoder stage, and shows the stages', async () => {
    const path = join(directory, 'ode2-multistage.json');
    writeFileSync(
      path,
      JSON.stringify(ode2MultiStageSpec),
    );
    const { code, report, text } = await info(['--spec', path]);
    expect(code).toBe(0);
    expect(report.decoderStages).toEqual([
      { stage: 0, tStart: 0, tEnd: 0.5, baseChannels: 8 },
      { stage: 1, tStart: 0.5, tEnd: 1, baseChannels: 4 },
    ]);
    expect(report.flops.perDepth.map((d) => [d.stage, d.k])).toEqual([
      [0, 0], [0, 1], [0, 2],
      [1, 0], [1, 1], [1, 2],
    ]);
    // The narrower stage-1 decoder costs less at every depth.
    for (let k = 0; k < 3; k++) expect(report.flops.perDepth[3 + k]!.flops).toBeLessThan(report.flops.perDepth[k]!.flops);
    // Side paths: interpolate rows and FLOPs are reported too.
    expect(report.predictedTimeSaved.map((r) => r.fill)).toEqual(['zero', 'zero', 'zero', 'zero', 'interpolate', 'interpolate', 'interpolate', 'interpolate']);
    expect(report.flops.perDepth[2]!.flopsInterpolate).toBeGreaterThan(report.flops.perDepth[2]!.flops);
    expect(text).toContain('ode2 (second-order neural ODE, euler, 2 steps)');
    expect(text).toContain('Decoder stages');
    expect(text).toContain('decoder stage 1');
  });

  it('reports an invalid spec file as one usage error naming the file', async () => {
    const path = join(directory, 'bad.json');
    writeFileSync(path, JSON.stringify({ imageSize: 30, baseChannels: 8, channelMults: [1, 2, 2], groups: 3 }));
    const io = capturedIo();
    expect(await main(['info', '--spec', path], io)).toBe(2);
    expect(io.err()).toMatch(/^levelskip: .*bad\.json: Invalid U-Net spec: .*imageSize.*\n$/);
    expect(io.err().split('\n')).toHaveLength(2);
  });
});
