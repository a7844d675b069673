import { describe, expect, it } from 'vitest';
import { parseCheckpointManifest } from '../../../src/checkpoint/checkpoint-format.js';
import { LevelskipError } from '../../../src/errors/levelskip-error.js';
import { parseCalibrationTable, type CalibrationTable } from '../../../src/schedules/calibrated/calibration-table.js';

const valid = (): Record<string, unknown> => ({
  format: 'levelskip-calibration',
  version: 1,
  levels: 3,
  noiseSchedule: { kind: 'linear', betaStart: 0.0001, betaEnd: 0.02, trainTimesteps: 1000 },
  stageEnds: [],
  dimensions: 4,
  samples: 2,
  seed: 0,
  dataVariance: 0.4,
  timesteps: [0, 500],
  ks: [1, 2],
  costUnit: 'ms',
  costBatch: 2,
  fills: [
    { fill: 'zero', cost: [10, 7, 4], epsilonError: [[1, 2], [0.5, 1]], x0Error: [[1e-4, 2e-4], [0.5, 1]] },
    { fill: 'cache', stepSpacing: 20, ages: [1, 2], cost: [10, 7, 4], epsilonError: [[[1, 2], [2, 3]], [[null, null], [null, null]]], x0Error: [[[1, 2], [2, 3]], [[null, null], [null, null]]] },
  ],
});

function issuesOf(json: unknown): string[] {
  try {
    parseCalibrationTable(json);
  } catch (error) {
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_SCHEDULE');
    return (error as LevelskipError).issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }
  throw new Error('expected the table to be rejected');
}

describe('calibration table schema', () => {
  it('accepts a consistent table', () => {
    const table: CalibrationTable = parseCalibrationTable(valid());
    expect(table.fills).toHaveLength(2);
  });

  it('describes every stateless fill of the fill registry (mean included), and no unknown one', () => {
    const withMean = valid();
    (withMean['fills'] as Record<string, unknown>[]).push({ fill: 'mean', cost: [10, 7.1, 4.1], epsilonError: [[1, 2], [0.5, 1]], x0Error: [[1e-4, 2e-4], [0.5, 1]] });
    expect(parseCalibrationTable(withMean).fills.map((f) => f.fill)).toEqual(['zero', 'cache', 'mean']);
    const blur = valid();
    (blur['fills'] as Record<string, unknown>[])[0]!['fill'] = 'blur';
    expect(issuesOf(blur).some((line) => line.startsWith('fills.0'))).toBe(true);
  });

  it('names the field of every inconsistency', () => {
    const rows = valid();
    (rows['fills'] as Record<string, unknown>[])[0]!['epsilonError'] = [[1, 2]];
    expect(issuesOf(rows)).toContainEqual('fills.0.epsilonError: must hold one row per calibrated timestep (2), got 1');

    const ks = valid();
    ks['ks'] = [1, 3];
    expect(issuesOf(ks).join('\n')).toMatch(/^ks: every k must be an integer in \[1, 2\]/m);

    const batch = valid();
    delete batch['costBatch'];
    expect(issuesOf(batch)).toContainEqual('costBatch: is needed with costUnit "ms": the batch size the predictions were timed at');

    const ages = valid();
    (ages['fills'] as Record<string, unknown>[])[1]!['ages'] = [2, 1];
    expect(issuesOf(ages)).toContainEqual('fills.1.ages: must be increasing, without repeats');

    const costs = valid();
    (costs['fills'] as Record<string, unknown>[])[0]!['cost'] = [10, 7];
    expect(issuesOf(costs)).toContainEqual('fills.0.cost: must hold 3 costs: full depth, then one per k in ks');

    const negative = valid();
    (negative['fills'] as Record<string, unknown>[])[0]!['epsilonError'] = [[1, -2], [0.5, 1]];
    expect(issuesOf(negative).some((line) => line.startsWith('fills.0.epsilonError.0.1:'))).toBe(true);

    const schedule = valid();
    schedule['noiseSchedule'] = { kind: 'linear', betaStart: 0.5, betaEnd: 0.1, trainTimesteps: 1000 };
    expect(issuesOf(schedule).some((line) => line.startsWith('noiseSchedule: is not a valid noise schedule'))).toBe(true);

    const propagation = valid();
    propagation['propagation'] = { sampler: 'ddim', eta: 1, steps: 50, samples: 8, timesteps: [20, 10], factors: [1] };
    const lines = issuesOf(propagation);
    expect(lines).toContainEqual('propagation.factors: must hold one factor per timestep (2)');
    expect(lines).toContainEqual('propagation.timesteps: must be increasing timesteps in [0, 999]');

    const unknown = valid();
    unknown['extra'] = 1;
    expect(issuesOf(unknown).join('\n')).toMatch(/extra/);
  });

  it('model.json may carry a table under "calibration", checked with the manifest', () => {
    const manifest = { format: 'levelskip-checkpoint', formatVersion: 1, spec: {}, weightsFile: 'model.safetensors', dtype: 'F32', createdAt: '2026-01-01T00:00:00Z' };
    const read = parseCheckpointManifest(JSON.stringify({ ...manifest, calibration: valid() }), 'model.json');
    expect(read.calibration?.ks).toEqual([1, 2]);
    const broken = valid();
    broken['timesteps'] = [500, 0];
    expect(() => parseCheckpointManifest(JSON.stringify({ ...manifest, calibration: broken }), 'model.json')).toThrow(/calibration\.timesteps: must be increasing/);
  });
});
