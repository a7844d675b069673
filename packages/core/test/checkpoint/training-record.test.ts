/**
 * The training record's schema: every record the project has written parses (the shipped
 * models', the recipes' and the quality results' copies, each writer's shape), unknown keys are
 * kept, and a known field of the wrong type is refused naming it, at load (CHECKPOINT_CORRUPT)
 * and at save (INVALID_OPTION).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTrainingRecord, readCheckpointManifest, serializeCheckpoint, type TrainingRecord } from '../../src/index.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';
import { levelskipErrorOf as thrown } from '../../src/testing/errors.js';

const repository = new URL('../../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, repository), 'utf8');

/** packages/model-* with a model.json: the shipped models. */
const shippedModels = readdirSync(new URL('packages/', repository)).filter((name) => name.startsWith('model-') && readdirSync(new URL(`packages/${name}/`, repository)).includes('model.json'));

/** Every `training` object under `json` (results files copy records into their cells). */
function trainingRecordsIn(json: unknown, path = ''): [string, unknown][] {
  if (typeof json !== 'object' || json === null) return [];
  return Object.entries(json).flatMap(([key, value]) => (key === 'training' ? [[`${path}.training`, value] as [string, unknown]] : trainingRecordsIn(value, `${path}.${key}`)));
}

describe('shipped and recorded training records', () => {
  /** Steps each shipped model was trained for (its recipe in packages/pretrained/scripts/recipes.mjs). */
  const recipeSteps: Record<string, number> = {
    'model-mnist-c2-distill': 3000,
    'model-mnist-full': 6000,
    'model-mnist-interpolate': 6000,
    'model-mnist-multistage': 6000,
    'model-mnist-ode2': 6000,
    'model-mnist-zero-c2': 6000,
  };

  it('finds the six shipped models', () => {
    expect(shippedModels.sort()).toEqual(Object.keys(recipeSteps).sort());
  });

  for (const name of shippedModels) {
    it(`packages/${name}/model.json loads, and its record reads typed`, () => {
      const text = read(`packages/${name}/model.json`);
      const { manifest } = readCheckpointManifest(text, `packages/${name}/model.json`);
      const record: TrainingRecord = manifest.training!;
      // Every key is kept, values untouched.
      expect(record).toEqual((JSON.parse(text) as { training: unknown }).training);
      expect(record.steps).toBe(recipeSteps[name]);
      expect(record.images).toBe(recipeSteps[name]! * 32);
      expect(typeof record.noiseSchedule).toBe('string');
      expect(['full', 'uniform', 'schedule-aware']).toContain(record.scheme);
    });
  }

  it("the recipes file's records and the quality results' copies parse", () => {
    const recipes = JSON.parse(read('bench/results/recipes/recipes-2026-12-06.json')) as { training: Record<string, unknown> };
    const entries = Object.entries(recipes.training);
    expect(entries.length).toBeGreaterThanOrEqual(4);
    for (const [label, record] of entries) expect(parseTrainingRecord(record, label)).toEqual(record);
    const cells = trainingRecordsIn(JSON.parse(read('bench/results/quality-amd-epyc-2c.json')));
    expect(cells.length).toBeGreaterThan(0);
    for (const [path, record] of cells) expect(parseTrainingRecord(record, path)).toEqual(record);
  });

  it("accepts each writer's shape: train(), levelskip train, a diffusers directory, a bare user record", () => {
    const records: TrainingRecord[] = [
      // backend-tfjs train(), into its training checkpoints.
      {
        weights: 'ema', scheme: 'uniform', schedule: null, fill: 'cache:3', steps: 4, targetSteps: null, batchSize: null, images: 16, seed: 0,
        lr: 2e-4, warmup: 0, ema: 0.999, emaWarmup: true, gradClip: null, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
        noiseSchedule: { kind: 'cosine', trainTimesteps: 1000, s: 0.008, maxBeta: 0.999 }, engine: 'wasm', workers: 2, durationMs: 1234, finalLoss: null,
        teacher: { fingerprint: 'abc', mix: 0.5 }, finalDistillationLoss: 0.1, finalEpsLoss: null,
      },
      // levelskip train.
      {
        trainer: 'levelskip train (@levelskip/cli 0.1.0)', scheme: 'schedule-aware', schedule: { kind: 'stages', table: [[0, 1, 2]] }, plannedSteps: 10, epochs: null,
        workers: 'auto', imagesPerSecond: null, stopped: 'time-limit', initialWeights: 'mnist-full', command: 'levelskip train --steps 10',
      },
      // A schedule without a JSON form is recorded by its description.
      { schedule: 'my schedule (custom)' },
      // The diffusers loader's record.
      { origin: 'diffusers UNet2DModel (diffusers 0.31.0)', pipeline: 'DDPMPipeline', config: 'unet/config.json', weights: 'unet/diffusion_pytorch_model.safetensors', scheduler: 'DDPMScheduler (scheduler/scheduler_config.json)', noiseSchedule: { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainTimesteps: 1000 } },
      // What core's own tests save, and an empty record.
      { step: 7 },
      {},
    ];
    for (const record of records) expect(parseTrainingRecord(record)).toEqual(record);
  });

  it('keeps keys it does not know, nested values included', () => {
    const record = { steps: 3, myLab: { run: 'x', tags: ['a', 'b'] }, futureField: [1, 2, 3] };
    const parsed = parseTrainingRecord(record);
    expect(parsed).toEqual(record);
    expect(parsed['myLab']).toEqual({ run: 'x', tags: ['a', 'b'] });
  });
});

describe('malformed records', () => {
  const bad: readonly [string, Record<string, unknown>][] = [
    ['steps', { steps: '6000' }],
    ['steps', { steps: -1 }],
    ['images', { images: 1.5 }],
    ['batchSize', { batchSize: 0 }],
    ['schedule', { schedule: 2 }],
    ['schedule', { schedule: { c: 2 } }], // an object needs its kind
    ['noiseSchedule', { noiseSchedule: { betaStart: 1e-4 } }],
    ['noiseSchedule', { noiseSchedule: null }],
    ['fill', { fill: ['zero'] }],
    ['ema', { ema: 1.5 }],
    ['emaWarmup', { emaWarmup: 'yes' }],
    ['workers', { workers: 0 }],
    ['workers', { workers: 'many' }],
    ['teacher', { teacher: 3 }],
    ['mix', { mix: -0.5 }],
    ['finalLoss', { finalLoss: 'low' }],
    ['durationMs', { durationMs: -5 }],
  ];

  for (const [field, record] of bad) {
    it(`refuses ${JSON.stringify(record)} naming training.${field}`, () => {
      const error = thrown(() => parseTrainingRecord({ steps: 10, ...record }, 'runs/x/model.json'));
      expect(error.code).toBe('CHECKPOINT_CORRUPT');
      expect(error.message).toMatch(new RegExp(`^runs/x/model\\.json: the training record is not valid:\\n  training\\.${field}: `));
      expect(error.issues[0]!.path.slice(0, 2)).toEqual(['training', field]);
    });
  }

  it('names a nested field by its path', () => {
    const error = thrown(() => parseTrainingRecord({ adam: { beta1: 2 } }));
    expect(error.message).toContain('training.adam.beta1: ');
    expect(error.issues[0]!.path).toEqual(['training', 'adam', 'beta1']);
  });

  it('refuses a record that is not an object', () => {
    for (const json of [null, 3, 'steps', [1, 2]]) expect(thrown(() => parseTrainingRecord(json)).code).toBe('CHECKPOINT_CORRUPT');
  });
});

describe('in model.json', () => {
  const spec = tinySpec();
  const weights = deterministicWeights(spec);

  it('a saved record loads back unchanged, unknown keys included', () => {
    const training: TrainingRecord = { steps: 5, scheme: 'uniform', schedule: { kind: 'power', c: 2 }, workers: 'auto', myNote: 'kept' };
    const { manifest } = readCheckpointManifest(serializeCheckpoint({ spec, weights, training }).manifest);
    expect(manifest.training).toEqual(training);
  });

  it('loading refuses a malformed record with CHECKPOINT_CORRUPT naming the file and the field', () => {
    const text = serializeCheckpoint({ spec, weights, training: { steps: 5 } }).manifest.replace('"steps": 5', '"steps": "five"');
    const error = thrown(() => readCheckpointManifest(text, 'models/m/model.json'));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/^models\/m\/model\.json is not a valid checkpoint manifest:\n {2}training\.steps: /);
  });

  it('saving refuses a malformed record with INVALID_OPTION naming the field, before anything is written', () => {
    const error = thrown(() => serializeCheckpoint({ spec, weights, training: { workers: -1 } as unknown as TrainingRecord }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/^The training record is not valid: training\.workers: /);
  });
});
