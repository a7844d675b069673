import { describe, expect, it } from 'vitest';
import { parseCheckpoint, serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';
import { levelskipErrorOf as errorOf } from '../../src/testing/errors.js';

const spec = tinySpec();
const weights = deterministicWeights(spec);
const sampling = { sampler: 'ddim', steps: 50, eta: 1, clip: true, schedule: { kind: 'power', c: 2 }, fill: 'zero', note: 'FD-LeNet 62.4 at 500 images' } as const;

describe('recommended sampling settings in model.json', () => {
  it('round-trips through model.json', () => {
    const files = serializeCheckpoint({ spec, weights, sampling });
    expect(JSON.parse(files.manifest).sampling).toEqual(sampling);
    expect(parseCheckpoint(files.manifest, files.weights).manifest.sampling).toEqual(sampling);
  });

  it('is optional: a checkpoint without it has none', () => {
    const files = serializeCheckpoint({ spec, weights });
    expect(parseCheckpoint(files.manifest, files.weights).manifest.sampling).toBeUndefined();
  });

  it('accepts every built-in fill of the registry, in its written form', () => {
    for (const fill of ['zero', 'duplicate', 'interpolate', 'cache', 'cache:3', 'mean']) {
      const files = serializeCheckpoint({ spec, weights, sampling: { ...sampling, fill } });
      expect(parseCheckpoint(files.manifest, files.weights).manifest.sampling?.fill).toBe(fill);
    }
  });

  it('refuses impossible settings when saving, naming the field', () => {
    const bad = (over: Record<string, unknown>) => errorOf(() => serializeCheckpoint({ spec, weights, sampling: { ...sampling, ...over } as never }));
    expect(bad({ steps: 0 })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sampling.steps') });
    expect(bad({ eta: 2 })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sampling.eta') });
    expect(bad({ sampler: 'euler' })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sampling.sampler') });
    expect(bad({ fill: 'cache:x' })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sampling.fill') });
    expect(bad({ fill: 'blur' })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/sampling\.fill.*must be a built-in fill: zero, duplicate, interpolate, cache, cache:m, mean/) });
    expect(bad({ temperature: 1 })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sampling') });
  });

  it('refuses a model.json with impossible settings as corrupt, naming the field', () => {
    const files = serializeCheckpoint({ spec, weights, sampling });
    const manifest = JSON.parse(files.manifest);
    manifest.sampling.steps = -3;
    expect(errorOf(() => parseCheckpoint(JSON.stringify(manifest), files.weights))).toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining('sampling.steps') });
  });
});
