/**
 * CLI rough edges of issue 22, item 5: an ONNX `--engine` whose providers cannot start fails with
 * one line in the command line's words (`--engine cuda,cpu`, never the API's `executionProviders`,
 * never onnxruntime's source paths); `--out` naming an existing directory that ends in `.png`
 * fails at once, before any model is read, for `demo` as for `sample`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelskipError } from '@levelskip/core';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxBackendUnavailable } from '../src/backends/backend-choice.js';
import { expectCleanFailure, runInProcess } from './helpers/run-in-process.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-engine-out-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const tinyRun = ['--preset', 'mnistSmall', '--random-weights', '--steps', '1', '--batch', '1', '--no-progress'];

describe('--engine with ONNX providers that cannot start', () => {
  it.each([['cuda'], ['webgpu'], ['cuda,webgpu']])('--engine %s: one line naming each provider and --engine …,cpu', async (engine) => {
    const run = await runInProcess(['sample', ...tinyRun, '--engine', engine]);
    if (run.code === 0) return; // a machine where the provider starts
    expectCleanFailure(run, new RegExp(`^levelskip: --engine ${engine}: no onnxruntime execution provider could start \\(${engine.split(',')[0]}: \\S`), 1);
    expect(run.stderr).toContain(`Add the CPU as a fallback: --engine ${engine},cpu, or leave --engine out (cpu).`);
    expect(run.stderr).not.toMatch(/executionProviders|onnxruntime_src|\.cc:\d+|was false|<lambda/);
    if (engine.includes('cuda')) expect(run.stderr).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
  });

  it('maps only the providers error, worded by what the list already has', () => {
    const failures = [{ provider: 'cuda', reason: 'the CUDA libraries are missing' }];
    const mapped = onnxBackendUnavailable(new LevelskipError('BACKEND_UNAVAILABLE', "no onnxruntime-node execution provider could start: … Add 'cpu' to executionProviders", { cause: failures }), ['cuda']);
    expect(mapped?.code).toBe('BACKEND_UNAVAILABLE');
    expect(mapped?.message).toMatch(/^--engine cuda: no onnxruntime execution provider could start \(cuda: the CUDA libraries are missing\)\. Add the CPU as a fallback: --engine cuda,cpu/);
    // With cpu in the list already, the CPU itself failed: no fallback advice.
    const withCpu = onnxBackendUnavailable(new LevelskipError('BACKEND_UNAVAILABLE', 'x', { cause: [...failures, { provider: 'cpu', reason: 'broken' }] }), ['cuda', 'cpu']);
    expect(withCpu?.message).not.toContain('Add the CPU');
    expect(onnxBackendUnavailable(new LevelskipError('BACKEND_UNAVAILABLE', 'onnxruntime-node could not be loaded'), ['cpu'])).toBeUndefined();
    expect(onnxBackendUnavailable(new Error('other'), ['cpu'])).toBeUndefined();
  });
});

describe('--out naming an existing directory that ends in .png', () => {
  const pngDirectory = join(directory, 'grid.png');
  mkdirSync(pngDirectory);
  const message = /--out .*grid\.png cannot be written \(EISDIR\): it is a directory; give a file path inside it/;

  it('demo fails at once with what is wrong, before loading any model', async () => {
    // A baseline that does not exist: the run would fail on it if the --out check came later.
    const run = await runInProcess(['demo', '--baseline', 'mnist-nope', '--samples', '2', '--columns', '1', '--out', pngDirectory, '--no-progress']);
    expectCleanFailure(run, message);
    expect(run.stderr).not.toMatch(/permission|disk space|mnist-nope/);
  });

  it('so does sample', async () => {
    const run = await runInProcess(['sample', '--checkpoint', join(directory, 'no-such-checkpoint'), '--out', pngDirectory, '--no-progress']);
    expectCleanFailure(run, message);
  });
});
