/**
 * Flag validation: every command's plan function turns commander's strings into checked values
 * and rejects bad input with a LevelskipError naming the flag, before any file or engine is touched.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { engineOrder } from '@levelskip/backend-tfjs';
import { executionProviders } from '@levelskip/backend-onnx';
import { parseBackendChoice, onnxProviders, tfjsEngines } from '../src/backends/backend-choice.js';
import { exportFills, planExport } from '../src/commands/export.js';
import { planSample } from '../src/commands/sample.js';
import { planTrain, trainableFills } from '../src/commands/train.js';
import { modelSourceFromOptions } from '../src/model/resolve-model.js';
import { parseChoiceList, parseIntegerList, parseNonNegativeInteger, parseNumberIn, parsePositiveInteger } from '../src/options/option-values.js';
import { errorLine, exitCodeOf } from '../src/program/exit-codes.js';
import { cliVersion } from '../src/version.js';
import { errorOf } from './helpers/error-of.js';
import { LevelskipError, exportableFillKinds, trainableFillKinds } from '@levelskip/core';

describe('option values', () => {
  it('parses positive and non-negative integers, rejecting fractions, signs, hex and junk', () => {
    expect(parsePositiveInteger('--steps', '50')).toBe(50);
    expect(parsePositiveInteger('--steps', ' 7 ')).toBe(7);
    for (const bad of ['0', '-3', '2.5', '0x10', 'ten', '', '1e400', 'Infinity']) {
      expect(errorOf(() => parsePositiveInteger('--steps', bad)), bad).toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/^--steps must be a positive integer/),
      });
    }
    expect(parseNonNegativeInteger('--seed', '0')).toBe(0);
    expect(errorOf(() => parseNonNegativeInteger('--seed', '-1'))).toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('parses ranged numbers and lists', () => {
    expect(parseNumberIn('--eta', '0.5', (v) => v >= 0 && v <= 1, 'in [0, 1]')).toBe(0.5);
    expect(parseNumberIn('--lr', '5e-4', (v) => v > 0, '> 0')).toBe(5e-4);
    expect(errorOf(() => parseNumberIn('--eta', '1.5', (v) => v >= 0 && v <= 1, 'in [0, 1]'))).toMatchObject({ message: '--eta must be a number in [0, 1], got "1.5"' });
    expect(parseIntegerList('--k', '0, 1,3')).toEqual([0, 1, 3]);
    expect(errorOf(() => parseIntegerList('--k', '0,,1'))).toMatchObject({ code: 'INVALID_OPTION' });
    expect(errorOf(() => parseIntegerList('--k', '1,1'))).toMatchObject({ message: expect.stringContaining('twice') });
    expect(parseChoiceList('--fill', 'zero,interpolate', ['zero', 'duplicate', 'interpolate'])).toEqual(['zero', 'interpolate']);
    expect(errorOf(() => parseChoiceList('--fill', 'zero,cache', ['zero', 'duplicate', 'interpolate']))).toMatchObject({ message: expect.stringContaining('"cache"') });
  });
});

describe('model source', () => {
  it('takes exactly one of --model, --checkpoint, --preset, --spec', () => {
    expect(modelSourceFromOptions({ model: 'mnist-zero-c2' })).toEqual({ kind: 'pretrained', name: 'mnist-zero-c2' });
    expect(modelSourceFromOptions({ checkpoint: 'out/m' })).toEqual({ kind: 'checkpoint', directory: 'out/m' });
    expect(modelSourceFromOptions({ preset: 'ddpmCifar10' })).toEqual({ kind: 'preset', name: 'ddpmCifar10' });
    expect(modelSourceFromOptions({ spec: 's.json' })).toEqual({ kind: 'spec-file', path: 's.json' });
    expect(errorOf(() => modelSourceFromOptions({}))).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('no model was given') });
    expect(errorOf(() => modelSourceFromOptions({ model: 'a', preset: 'mnistSmall' }))).toMatchObject({ message: expect.stringContaining('--model and --preset') });
    expect(errorOf(() => modelSourceFromOptions({ preset: 'mnistLarge' }))).toMatchObject({
      message: expect.stringMatching(/^--preset must be one of .*mnistSmall.*, got "mnistLarge"$/),
    });
  });
});

describe('planSample', () => {
  const base = { preset: 'mnistSmall', randomWeights: true };

  it('fills defaults: onnx on cpu, batch 16, seed 0; sampler settings, schedule and fill left to the model', () => {
    const plan = planSample(base);
    expect(plan).toMatchObject({
      backend: { backend: 'onnx', executionProviders: ['cpu'] },
      sampler: undefined,
      eta: undefined,
      clipSample: undefined,
      steps: undefined,
      skip: undefined,
      fill: undefined,
      batch: 16,
      seed: 0,
      scale: 1,
      out: undefined,
      json: false,
      progress: true,
    });
  });

  it('parses a full set of flags', () => {
    const plan = planSample({
      ...base,
      backend: 'tfjs',
      engine: 'wasm',
      sampler: 'ddim',
      steps: '20',
      eta: '0.5',
      c: '2',
      fill: 'duplicate',
      batch: '4',
      seed: '7',
      out: 'x/grid.PNG',
      columns: '2',
      scale: '3',
      rowLabels: 'c=2,c=2',
      clipSample: true,
    });
    expect(plan).toMatchObject({
      backend: { backend: 'tfjs', engine: 'wasm' },
      steps: 20,
      eta: 0.5,
      skip: { kind: 'power', c: 2 },
      fill: 'duplicate',
      batch: 4,
      seed: 7,
      columns: 2,
      scale: 3,
      rowLabels: ['c=2', 'c=2'],
      clipSample: true,
    });
    expect(planSample({ ...base, kTable: '0:0.5=0,0.5:1=3' }).skip).toEqual({
      kind: 'table',
      table: [
        { tStart: 0, tEnd: 0.5, k: 0 },
        { tStart: 0.5, tEnd: 1, k: 3 },
      ],
    });
  });

  it.each([
    [{ fill: 'nearest' }, 'INVALID_FILL', 'Unknown fill "nearest"'],
    [{ c: '-1' }, 'INVALID_OPTION', '--c must be a number ≥ 0'],
    [{ c: 'two' }, 'INVALID_OPTION', '--c must be a number'],
    [{ c: '2', kTable: '0:1=0' }, 'INVALID_OPTION', '--c and --k-table'],
    [{ kTable: '0:0.5=0' }, 'INVALID_SCHEDULE', 'the last row must end at t = 1'],
    [{ steps: '0' }, 'INVALID_OPTION', '--steps must be a positive integer'],
    [{ steps: '2.5' }, 'INVALID_OPTION', '--steps must be a positive integer'],
    [{ batch: '-1' }, 'INVALID_OPTION', '--batch must be a positive integer'],
    [{ sampler: 'euler' }, 'INVALID_OPTION', '--sampler must be one of ddim, ddpm, langevin, dpm-solver'],
    [{ sampler: 'ddpm', eta: '0.5' }, 'INVALID_OPTION', '--eta applies to --sampler ddim only'],
    [{ sampler: 'langevin', steps: '15', noiseLevels: '10' }, 'INVALID_OPTION', 'multiple of the 10 noise levels'],
    [{ sampler: 'dpm-solver', clipSample: true }, 'INVALID_OPTION', '--clip-sample applies to --sampler ddim and ddpm only'],
    [{ backend: 'torch' }, 'INVALID_OPTION', '--backend must be one of onnx, tfjs'],
    [{ backend: 'tfjs', engine: 'cuda' }, 'INVALID_OPTION', '--engine for --backend tfjs'],
    [{ engine: 'cuda,gpu' }, 'INVALID_OPTION', '"gpu" is not one'],
    [{ out: 'grid.jpg' }, 'INVALID_OPTION', '--out must be a .png file'],
    [{ scale: '2' }, 'INVALID_OPTION', '--out is needed'],
    [{ out: 'g.png', batch: '4', columns: '2', rowLabels: 'a' }, 'INVALID_OPTION', 'has 1 labels but the grid has 2 rows'],
  ])('rejects %o', (flags, code, message) => {
    expect(errorOf(() => planSample({ ...base, ...flags }))).toMatchObject({ code, message: expect.stringContaining(message) });
  });

  it('needs weights: --random-weights with --preset/--spec, never with --model/--checkpoint', () => {
    expect(errorOf(() => planSample({ preset: 'mnistSmall' }))).toMatchObject({ message: expect.stringContaining('add --random-weights') });
    expect(errorOf(() => planSample({ model: 'mnist-zero-c2', randomWeights: true }))).toMatchObject({ message: expect.stringContaining('drop --random-weights') });
  });
});

describe('planTrain', () => {
  const base = { preset: 'mnistSmall', steps: '10', out: 'out/m' };

  it('uses train()\'s defaults and the recipes\' flag names', () => {
    expect(planTrain(base)).toMatchObject({
      scheme: 'uniform',
      fill: 'zero',
      steps: 10,
      batchSize: 16,
      lr: 2e-4,
      warmup: 0,
      ema: 0.999,
      gradClip: 1,
      seed: 0,
      workers: 1,
      engine: 'auto',
      checkpointDir: 'out/m/checkpoints',
      dtype: 'F32',
      resume: false,
    });
    const recipe = planTrain({
      ...base,
      scheme: 'schedule-aware',
      c: '2',
      batchSize: '32',
      lr: '5e-4',
      warmup: '200',
      gradClip: 'off',
      workers: 'auto',
      dtype: 'f16',
      checkpointDir: 'ckpt',
    });
    expect(recipe).toMatchObject({ scheme: 'schedule-aware', skip: { kind: 'power', c: 2 }, batchSize: 32, lr: 5e-4, warmup: 200, gradClip: false, workers: 'auto', dtype: 'F16', checkpointDir: 'ckpt' });
  });

  it.each([
    [{ scheme: 'schedule-aware' }, '--scheme schedule-aware needs'],
    [{ scheme: 'full', c: '2' }, 'full trains at k = 0 only'],
    [{ fill: 'cache' }, '--fill cache has nothing to train (deep features cached at an earlier full-depth step of the run'],
    [{ steps: undefined }, '--steps or --epochs is required'],
    [{ epochs: '2' }, '--steps and --epochs are exclusive'],
    [{ out: undefined }, '--out is required'],
    [{ ema: '1' }, '--ema must be a number in [0, 1)'],
    [{ workers: '2', engine: 'node' }, 'already uses every core'],
    [{ batch: '8', batchSize: '8' }, 'same option'],
    [{ data: 'cifar10' }, '--data must be one of mnist'],
    [{ randomWeights: true }, '--random-weights does not apply'],
  ])('rejects %o', (flags, message) => {
    expect(errorOf(() => planTrain({ ...base, ...flags }))).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(message) });
  });
});

describe('planExport', () => {
  it('parses ks, fills and stages', () => {
    expect(planExport({ preset: 'mnistSmall', randomWeights: true, out: 'o', k: '0,3', fill: 'zero', stage: '0' })).toMatchObject({
      ks: [0, 3],
      fills: ['zero'],
      stages: [0],
    });
    expect(errorOf(() => planExport({ model: 'm', out: 'o', fill: 'cache' }))).toMatchObject({ message: expect.stringContaining('"cache" is not one') });
    expect(errorOf(() => planExport({ model: 'm' }))).toMatchObject({ message: expect.stringContaining('--out is required') });
  });
});

describe('--fill choices come from core\'s fill registry', () => {
  it('sample, train and export take the mean fill', () => {
    expect(planSample({ preset: 'mnistSmall', randomWeights: true, c: '2', fill: 'mean' })).toMatchObject({ fill: 'mean' });
    expect(planTrain({ preset: 'mnistSmall', steps: '10', out: 'out/m', fill: 'mean' })).toMatchObject({ fill: 'mean' });
    expect(planExport({ preset: 'mnistSmall', randomWeights: true, out: 'o', fill: 'zero,mean' })).toMatchObject({ fills: ['zero', 'mean'] });
  });

  it('lists the registry\'s fills in the lists and errors', () => {
    expect(trainableFills).toEqual(trainableFillKinds);
    expect(exportFills).toEqual(exportableFillKinds);
    expect(errorOf(() => planExport({ model: 'm', out: 'o', fill: 'blur' }))).toMatchObject({ message: expect.stringContaining('zero, duplicate, interpolate, mean') });
  });
});

describe('backend choice', () => {
  it('mirrors the engines and execution providers the backends accept', () => {
    expect([...tfjsEngines]).toEqual([...engineOrder]);
    expect([...onnxProviders]).toEqual([...executionProviders]);
    expect(parseBackendChoice('onnx', 'cuda, cpu')).toEqual({ backend: 'onnx', executionProviders: ['cuda', 'cpu'] });
    expect(parseBackendChoice('tfjs', undefined)).toEqual({ backend: 'tfjs', engine: 'auto' });
  });
});

describe('exit codes and error lines', () => {
  it('maps usage errors to 2, runtime errors to 1, aborts to 130', () => {
    expect(exitCodeOf(new LevelskipError('INVALID_FILL', 'x'))).toBe(2);
    expect(exitCodeOf(new LevelskipError('CHECKPOINT_MISSING', 'x'))).toBe(2);
    expect(exitCodeOf(new LevelskipError('IO_ERROR', 'x'))).toBe(1);
    expect(exitCodeOf(new LevelskipError('BACKEND_UNAVAILABLE', 'x'))).toBe(1);
    expect(exitCodeOf(new LevelskipError('ABORTED', 'x'))).toBe(130);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
  });

  it('joins multi-line messages into one line', () => {
    expect(errorLine(new Error('Invalid U-Net spec:\n  groups: bad\n  imageSize: odd'))).toBe('Invalid U-Net spec: groups: bad; imageSize: odd');
  });

  it('reports the version of package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(cliVersion).toBe(manifest.version);
  });
});
