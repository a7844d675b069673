/**
 * Every numeric flag has a documented bound (issue 21, item 8): a value outside fails at once
 * with one line naming the flag and the fix; a request that would need more memory than
 * `--max-memory` is refused before anything is allocated, saying how to override; a spec with an
 * absurd trainTimesteps makes `info` exit cleanly instead of aborting V8.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUNetSpec, presets } from '@levelskip/core';
import { checkSampleSize, planSample } from '../src/commands/sample.js';
import { defaultMaxMemoryBytes, flagBounds, maxMemoryBounds } from '../src/options/flag-bounds.js';
import { formatBounds, parseByteSize, parseIntegerIn } from '../src/options/option-values.js';
import { checkSamplingMemory, estimateSamplingBytes } from '../src/sampling/memory-budget.js';
import { errorOf } from './helpers/error-of.js';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';
import { bundleCliScript, packageRoot } from './helpers/source-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-bounds-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** 8×8, N = 2: loads and builds in milliseconds. */
const tinySpecPath = join(directory, 'tiny.json');
writeFileSync(tinySpecPath, JSON.stringify({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }));
const tiny = ['--spec', tinySpecPath, '--random-weights', '--no-progress'];

describe('numeric flags out of bounds fail at once, naming the flag and the bound', () => {
  const cases: [string, string[], RegExp][] = [
    ['sample --batch 100000', ['sample', ...tiny, '--batch', '100000'], /--batch must be a positive integer, at most 4,096, got "100000"; for more images, run several times with different --seed/],
    ['sample --columns 1e15', ['sample', ...tiny, '--out', join(directory, 'x.png'), '--columns', '1e15'], /--columns must be a positive integer, at most 1,024, got "1e15"/],
    ['sample --scale 17', ['sample', ...tiny, '--out', join(directory, 'x.png'), '--scale', '17'], /--scale must be a positive integer, at most 16/],
    ['sample --steps 1e6', ['sample', ...tiny, '--steps', '1e6'], /--steps must be a positive integer, at most 100,000/],
    ['sample --steps 1e400', ['sample', ...tiny, '--steps', '1e400'], /--steps must be a positive integer/],
    ['sample --seed 1e300', ['sample', ...tiny, '--seed', '1e300'], /--seed must be an integer ≥ 0, at most 2\^53 − 1/],
    ['sample --weights-seed -1', ['sample', ...tiny, '--weights-seed', '-1'], /--weights-seed must be an integer ≥ 0/],
    ['sample --c 1e9', ['sample', ...tiny, '--c', '1e9'], /--c must be a number ≥ 0 and at most 100/],
    ['sample --noise-levels 99999', ['sample', ...tiny, '--sampler', 'langevin', '--noise-levels', '99999'], /--noise-levels must be a positive integer, at most 10,000/],
    ['sample --max-memory 1e30', ['sample', ...tiny, '--max-memory', '1e30'], /--max-memory must be between 16\.0 MiB and 1\.0 TiB/],
    ['sample --max-memory lots', ['sample', ...tiny, '--max-memory', 'lots'], /--max-memory must be a size such as 512MiB/],
    ['eval --batch 5000', ['eval', ...tiny, '--batch', '5000'], /--batch must be a positive integer, at most 4,096/],
    ['eval --samples 1e9', ['eval', ...tiny, '--samples', '1e9'], /--samples must be in \[2, 5000\]/],
    ['eval --seed near 2^53', ['eval', ...tiny, '--seed', String(Number.MAX_SAFE_INTEGER), '--samples', '10', '--batch', '2'], /--seed must be at most 9007199254740987 here/],
    ['demo --columns 2000', ['demo', '--columns', '2000'], /--columns must be a positive integer, at most 1,024/],
    ['demo --c 1e9', ['demo', '--c', '1e9'], /--c must be a number > 0 and at most 100/],
    ['demo --cache-interval 1e6', ['demo', '--cache-interval', '1e6'], /--cache-interval must be an integer ≥ 0, at most 10,000/],
    ['demo --steps 0', ['demo', '--steps', '0'], /--steps must be a positive integer/],
    ['export --weights-seed 1e20', ['export', ...tiny.slice(0, 3), '--out', join(directory, 'onnx'), '--weights-seed', '1e20'], /--weights-seed must be an integer ≥ 0, at most 2\^53 − 1/],
    ['export --k 1e400', ['export', ...tiny.slice(0, 3), '--out', join(directory, 'onnx'), '--k', '1e400'], /--k must be a comma-separated list of integers/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: exit 2, one line`, async () => {
      expectCleanFailure(await runInProcess(args), message, 2);
    });
  }
});

describe('--help states every bound', () => {
  const expected: Record<string, string[]> = {
    sample: ['--batch <n>', formatBounds(flagBounds.batch), formatBounds(flagBounds.columns), formatBounds(flagBounds.scale), formatBounds(flagBounds.steps), formatBounds(flagBounds.noiseLevels), 'c in [0, 100]', '--max-memory <size>', '0–2^53 − 1'],
    eval: [formatBounds(flagBounds.batch), '2–5,000', '--max-memory <size>', formatBounds(flagBounds.steps)],
    demo: [formatBounds(flagBounds.batch), formatBounds(flagBounds.columns), formatBounds(flagBounds.cacheInterval), '2–5,000', '(0, 100]', '--max-memory <size>'],
    export: ['0..N-1', '0–2^53 − 1'],
  };
  for (const [command, texts] of Object.entries(expected)) {
    it(`${command} --help`, async () => {
      const run = await runInProcess([command, '--help']);
      expect(run.code).toBe(0);
      const help = run.stdout.replace(/\s+/g, ' ');
      for (const text of texts) expect(help, text).toContain(text);
    });
  }
});

describe('the memory estimate', () => {
  const mnist = parseUNetSpec(presets.mnistSmall);

  it('grows with the batch, and refuses a request above the limit saying which batch fits and how to raise the limit', () => {
    expect(estimateSamplingBytes({ spec: mnist, batch: 32 })).toBeGreaterThan(1.9 * estimateSamplingBytes({ spec: mnist, batch: 16 }));
    const error = errorOf(() => checkSamplingMemory({ spec: mnist, batch: 4000, maxBytes: 4 * 1024 ** 3 }));
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    const message = (error as Error).message;
    expect(message).toMatch(/^--batch 4,000 needs about [\d.]+ GiB for this 32×32 model .* more than the limit of 4\.0 GiB; use --batch \d[\d,]* or less, or raise the limit with --max-memory \d+GiB/);
    const fits = Number(/use --batch ([\d,]+) or less/.exec(message)![1]!.replace(/,/g, ''));
    expect(() => checkSamplingMemory({ spec: mnist, batch: fits, maxBytes: 4 * 1024 ** 3 })).not.toThrow();
    expect(() => checkSamplingMemory({ spec: mnist, batch: fits + 1, maxBytes: 4 * 1024 ** 3 })).toThrow();
    const raised = Number(/--max-memory (\d+)GiB/.exec(message)![1]) * 1024 ** 3;
    expect(() => checkSamplingMemory({ spec: mnist, batch: 4000, maxBytes: raised })).not.toThrow();
  });

  it('sample refuses before any backend starts; --max-memory overrides', async () => {
    const refused = await runInProcess(['sample', '--preset', 'mnistSmall', '--random-weights', '--no-progress', '--batch', '4096', '--max-memory', '1GiB']);
    expectCleanFailure(refused, /--batch 4,096 needs about .* more than the limit of 1\.0 GiB; use --batch \d+ or less, or raise the limit with --max-memory \d+GiB/, 2);
    const plan = planSample({ preset: 'mnistSmall', randomWeights: true, batch: '4096', maxMemory: '64GiB' });
    expect(plan.maxMemory).toBe(64 * 1024 ** 3);
    expect(() => checkSampleSize(plan, mnist)).not.toThrow();
  });

  it('counts the PNG grid and refuses a grid wider than 32,768 pixels before sampling', async () => {
    const run = await runInProcess(['sample', ...tiny, '--batch', '4096', '--columns', '1024', '--scale', '16', '--out', join(directory, 'huge.png'), '--max-memory', '1TiB']);
    // 1024 columns of 8·16 = 128-pixel cells with 2-pixel gutters: 2 + 1024 · 130 wide, 2 + 4 · 130 tall.
    expectCleanFailure(run, /--columns 1024, --batch 4096 and --scale 16 make a 133122×522-pixel grid of 8×8 images; the most is 32768 pixels per side/, 2);
  });

  it('defaults to 4 GiB or half the RAM; parses sizes in binary and decimal units', () => {
    expect(defaultMaxMemoryBytes()).toBeLessThanOrEqual(4 * 1024 ** 3);
    expect(defaultMaxMemoryBytes()).toBeGreaterThan(0);
    expect(parseByteSize('--max-memory', '512MiB', maxMemoryBounds)).toBe(512 * 1024 ** 2);
    expect(parseByteSize('--max-memory', '8G', maxMemoryBounds)).toBe(8 * 1024 ** 3);
    expect(parseByteSize('--max-memory', '1.5GB', maxMemoryBounds)).toBe(1.5e9);
    expect(parseByteSize('--max-memory', '100000000', maxMemoryBounds)).toBe(1e8);
    for (const bad of ['', 'GiB', '-1GiB', '4 XB', '1e400', '0x10', 'Infinity', '15MiB']) {
      expect(errorOf(() => parseByteSize('--max-memory', bad, maxMemoryBounds)), bad).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^--max-memory must be/) });
    }
    expect(parseIntegerIn('--batch', ' 7 ', flagBounds.batch)).toBe(7);
  });
});

describe('info on a spec with an absurd trainTimesteps (child process)', () => {
  let script: string;
  beforeAll(async () => {
    script = await bundleCliScript(fileURLToPath(new URL('./helpers/cli-entry.ts', import.meta.url)));
  }, 120_000);
  afterAll(() => rmSync(script, { force: true }));

  const spec = { imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4, trainTimesteps: 2 ** 31 - 1 };

  for (const form of ['--spec', '--checkpoint'] as const) {
    it(`info ${form} exits 2 with one line naming trainTimesteps, not SIGTRAP`, () => {
      const dir = join(directory, `huge-t-${form.slice(2)}`);
      mkdirSync(dir, { recursive: true });
      const manifest = { format: 'levelskip-checkpoint', formatVersion: 1, spec, weightsFile: 'model.safetensors', dtype: 'F32', createdAt: new Date(0).toISOString() };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(form === '--spec' ? spec : manifest));
      writeFileSync(join(dir, 'model.safetensors'), Buffer.alloc(8));
      const run = spawnSync(process.execPath, [script, 'info', form, form === '--spec' ? join(dir, 'model.json') : dir], { cwd: packageRoot, encoding: 'utf8', timeout: 60_000 });
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).not.toBe(0);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^levelskip: .*trainTimesteps/);
      expect(lines[0]).toMatch(/at most 100,000/);
    });
  }
});
