/**
 * What `levelskip demo` (`pnpm start`) says while it works (issue 22, item 3): a line per start-up
 * phase instead of a silent first minute; every denoiser prepared with its row's real depths,
 * fill and batch before the first step; progress lines in a log that name every row (they used to
 * read `cache:3 k=3` on every line); the grid's path, and that it replaced a file.
 *
 * In-process on the shipped models with a stand-in backend (ε̂ = 0.1·x on the host) and a stand-in
 * FD-LeNet: this checks the output, not the numbers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBackendCalls } from './helpers/fake-backend.js';
import { runInProcess } from './helpers/run-in-process.js';

vi.mock('../src/backends/backend-choice.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/backends/backend-choice.js')>();
  const { createFakeBackend } = await import('./helpers/fake-backend.js');
  return { ...original, createBackend: async () => createFakeBackend() as never };
});
vi.mock('@levelskip/metrics', async (importOriginal) => {
  const original = await importOriginal<typeof import('@levelskip/metrics')>();
  return { ...original, loadMnistReference: async () => ({ lenet: {} }), fdLenet: () => ({ fd: 1, floor: null }) };
});

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-demo-progress-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
beforeEach(() => {
  fakeBackendCalls.length = 0;
});

// 4 images per row in 2 batches of 2, DDIM-4: 3 rows × 2 batches × 4 steps = 24 progress units.
const small = ['--samples', '4', '--batch', '2', '--steps', '4', '--columns', '2'];

describe('levelskip demo in a log (stderr not a terminal)', () => {
  it('prints each start-up phase, in order, before sampling starts', async () => {
    const run = await runInProcess(['demo', ...small, '--out', join(directory, 'phases.png')]);
    expect(run.code, run.stderr).toBe(0);
    const phases = run.stderr.split('\n').filter((line) => line.startsWith('[demo +'));
    expect(phases.map((line) => line.replace(/^\[demo \+[^\]]+\] /, '').split(/[:(;]/)[0]!.trim())).toEqual([
      'loaded mnist-full and mnist-c2-distill',
      'loading the MNIST reference digits and their LeNet features',
      'starting the onnx backend',
      'preparing the graphs',
      'sampling 4 images per row',
    ]);
    expect(phases[0]).toContain(`the PNG grid will be written to ${join(directory, 'phases.png')}`);
    expect(phases[3]).toMatch(/preparing the graphs: 6 variants \(depth × fill\) of 3 rows, batch 2$/);
    // The phase lines come before any sampling progress.
    expect(run.stderr.indexOf('sampling 4 images per row')).toBeLessThan(run.stderr.indexOf('\nsampling '));
  });

  it("prepares each row's denoiser with the depths, fill and batch it samples with, before any step", async () => {
    const run = await runInProcess(['demo', ...small, '--out', join(directory, 'prepare.png'), '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    const prepares = fakeBackendCalls.filter((call) => call.kind === 'prepare');
    // DDIM-4 visits t = 750, 500, 250, 0: c = 0 → k 0; c = 2 → k 3, 3, 1, 0; cache:3 at k = 3 → 0, 3, 3, 0.
    expect(prepares).toEqual([
      { kind: 'prepare', denoiser: 0, ks: [0], fills: ['zero'], batch: 2 },
      { kind: 'prepare', denoiser: 1, ks: [0, 1, 3], fills: ['zero'], batch: 2 },
      { kind: 'prepare', denoiser: 2, ks: [0, 3], fills: ['cache:3'], batch: 2 },
    ]);
    expect(fakeBackendCalls.slice(0, 3).every((call) => call.kind === 'prepare')).toBe(true);
    // No one-image warm-up runs any more: every prediction is a timed batch of 2.
    expect(fakeBackendCalls.filter((call) => call.kind === 'predict').every((call) => call.batch === 2)).toBe(true);
  });

  it('reports preparation progress, and sampling lines that name every row', async () => {
    const run = await runInProcess(['demo', ...small, '--out', join(directory, 'rows.png')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^preparing 6\/6 \(100%\) /m);
    const lines = run.stderr.split('\n').filter((line) => /^sampling \d+\/24 /.test(line));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(line).toMatch(/ rows c=0 \d+%, c=2 \d+%, cache:3 \d+% \(now (c=0|c=2|cache:3), batch [12]\/2\)/);
    // The lines differ in what they report, instead of all reading `cache:3 k=3`.
    expect(new Set(lines.map((line) => /rows ([^(]*)/.exec(line)![1])).size).toBeGreaterThan(2);
    expect(lines.at(-1)).toContain('rows c=0 100%, c=2 100%, cache:3 100%');
  });

  it('prints the path of the grid, and says when it replaced a file there', async () => {
    const out = join(directory, 'twice.png');
    const first = await runInProcess(['demo', ...small, '--out', out, '--no-progress']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`images: ${out} (`);
    expect(first.stdout).not.toContain('replaced');
    const second = await runInProcess(['demo', ...small, '--out', out]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`images: ${out} (replaced the file that was there) (`);
    expect(second.stderr).toContain(`the PNG grid will be written to ${out} (replacing the file there)`);
  });

  it('a usage error stays one line: phases start once the models are loaded', async () => {
    const run = await runInProcess(['demo', ...small, '--baseline', 'mnist-nope', '--out', join(directory, 'nope.png')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('--no-progress keeps stderr empty', async () => {
    const run = await runInProcess(['demo', ...small, '--out', join(directory, 'quiet.png'), '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
  });
});
