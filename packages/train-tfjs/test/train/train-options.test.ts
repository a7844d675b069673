/**
 * Every option of train() is checked before anything runs, with a LevelskipError naming the field.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError, cacheFill, interpolateFill, parseUNetSpec, powerSchedule, randomWeights } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { planTraining, type TrainOptions } from '../../src/train/train-options.js';
import { train } from '../../src/train/train.js';
import { levelskipErrorOf as thrown } from '@levelskip/core/testing';

const spec = parseUNetSpec(tinySpecs.resnet);
const count = 3;
const data = { images: new Float32Array(count * 2 * 8 * 8), count, shape: [count, 2, 8, 8] };
const valid: TrainOptions = { spec, data, steps: 2 };

describe('planTraining', () => {
  it('accepts a minimal call and fills in the documented defaults', () => {
    const plan = planTraining(valid);
    expect(plan).toMatchObject({ batchSize: 16, lr: 2e-4, warmup: 0, ema: 0.999, gradClip: 1, scheme: 'uniform', seed: 0, checkpointEvery: 1000, keepLast: 3, resume: false, engine: 'auto' });
    expect(plan.adam).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(plan.fill.kind).toBe('zero');
    expect(plan.noiseSchedule.kind).toBe('linear');
    expect(planTraining({ ...valid, gradClip: false }).gradClip).toBeUndefined();
    expect(planTraining({ ...valid, noiseSchedule: { kind: 'cosine' } }).noiseSchedule.kind).toBe('cosine');
  });

  const cases: [string, Partial<Record<keyof TrainOptions, unknown>>, string, string?][] = [
    ['batchSize 0', { batchSize: 0 }, 'batchSize'],
    ['fractional batchSize', { batchSize: 1.5 }, 'batchSize'],
    ['lr 0', { lr: 0 }, 'lr'],
    ['negative lr', { lr: -1e-3 }, 'lr'],
    ['ema 1', { ema: 1 }, 'ema'],
    ['negative ema', { ema: -0.1 }, 'ema'],
    ['steps and epochs', { epochs: 1 }, 'steps'],
    ['neither steps nor epochs', { steps: undefined }, 'steps'],
    ['epochs 0', { steps: undefined, epochs: 0 }, 'epochs'],
    ['negative warmup', { warmup: -1 }, 'warmup'],
    ['gradClip 0', { gradClip: 0 }, 'gradClip'],
    ['adam beta1 1', { adam: { beta1: 1 } }, 'adam'],
    ['unknown scheme', { scheme: 'random' }, 'scheme'],
    ['schedule-aware without schedule', { scheme: 'schedule-aware' }, 'schedule'],
    ['schedule that is not one', { schedule: { c: 2 } }, 'schedule'],
    ['interpolate without side paths', { fill: interpolateFill }, 'fill'],
    ['cache fill', { fill: cacheFill }, 'fill'],
    ['unknown fill', { fill: { kind: 'no-such-fill' } }, 'fill'],
    ['noise schedule of another T', { noiseSchedule: { kind: 'linear', trainTimesteps: 10 } }, 'noiseSchedule'],
    ['negative seed', { seed: -1 }, 'seed'],
    ['resume without checkpointDir', { resume: true }, 'resume'],
    ['empty checkpointDir', { checkpointDir: '' }, 'checkpointDir'],
    ['keepLast 0', { keepLast: 0 }, 'keepLast'],
    ['checkpointEvery 0', { checkpointEvery: 0 }, 'checkpointEvery'],
    ['unknown engine', { engine: 'webgpu' }, 'engine'],
    ['onProgress not a function', { onProgress: 3 }, 'onProgress'],
    ['misspelt option', { learningRate: 1e-3 } as never, 'learningRate'],
    ['data of another image size', { data: { images: new Float32Array(3 * 2 * 4 * 4), count: 3, shape: [3, 2, 4, 4] } }, 'data', 'INVALID_SHAPE'],
    ['data of wrong length', { data: { images: new Float32Array(5), count: 3, shape: [3, 2, 8, 8] } }, 'data', 'INVALID_SHAPE'],
    ['data with a NaN', { data: { ...data, images: new Float32Array(count * 128).fill(Number.NaN) } }, 'data'],
    ['data that is neither', { data: 42 }, 'data'],
    ['a bare Float32Array as data', { data: new Float32Array(128) }, 'data'],
  ];
  for (const [name, patch, field, code = 'INVALID_OPTION'] of cases) {
    it(`rejects ${name}, naming ${field}`, () => {
      const error = thrown(() => planTraining({ ...valid, ...patch } as TrainOptions));
      expect(error.code).toBe(code);
      expect(error.message).toContain(field);
      expect(error.issues[0]?.path[0]).toBe(field);
    });
  }

  it('checks initial weights against the spec', () => {
    const other = randomWeights(parseUNetSpec(tinySpecs.ddpmStyle));
    expect(thrown(() => planTraining({ ...valid, initialWeights: other })).code).toBe('WEIGHTS_MISMATCH');
  });

  it('accepts the schedule-aware scheme with a schedule and side-path fills on side-path specs', () => {
    expect(planTraining({ ...valid, scheme: 'schedule-aware', schedule: powerSchedule({ c: 2 }) }).scheme).toBe('schedule-aware');
    const sidePaths = parseUNetSpec(tinySpecs.sidePaths);
    expect(planTraining({ ...valid, spec: sidePaths, fill: interpolateFill }).fill.kind).toBe('interpolate');
  });

  it('train() rejects bad options before starting an engine', async () => {
    const error = await train({ ...valid, lr: Number.NaN }).catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
  });
});
