/**
 * clusterTimesteps: exact recovery of piecewise-constant structure, hand-computed small cases,
 * equivalence with brute force over every contiguous segmentation, and input validation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterTimesteps, stagesFromBoundaries } from '../src/stages/cluster-timesteps.js';
import { SeededRng } from '../src/random/seeded-rng.js';
import { parseUNetSpec } from '../src/spec/unet-spec.js';
import { mnistSmall } from '../src/spec/presets.js';
import { errorOf } from './support/level-skip-errors.js';

/** Independent objective: Σ_segments Σ ‖u − mean‖², with u unit-normalised when `unit`. */
function directCost(features: number[][], starts: number[], unit: boolean): number {
  const vectors = features.map((v) => {
    if (!unit) return v;
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const ends = [...starts.slice(1), vectors.length];
  let total = 0;
  starts.forEach((start, s) => {
    const members = vectors.slice(start, ends[s]);
    const mean = members[0]!.map((_, d) => members.reduce((sum, v) => sum + v[d]!, 0) / members.length);
    for (const v of members) total += v.reduce((sum, x, d) => sum + (x - mean[d]!) ** 2, 0);
  });
  return total;
}

/** Every choice of S − 1 cut indices from 1..M−1, as segment start lists [0, c1, …]. */
function allSegmentations(M: number, S: number): number[][] {
  const out: number[][] = [];
  const walk = (starts: number[]): void => {
    if (starts.length === S) {
      out.push(starts);
      return;
    }
    for (let c = starts[starts.length - 1]! + 1; c <= M - (S - starts.length); c++) walk([...starts, c]);
  };
  walk([0]);
  return out;
}

describe('clusterTimesteps', () => {
  it('solves a hand-computed case (M = 4, D = 1, S = 2, raw features)', () => {
    // Features 0, 2, 7, 9 at t = 0.1, 0.2, 0.6, 0.8. The three splits:
    //   {0} | {2, 7, 9}: mean 6 → 0 + (16 + 1 + 9) = 26
    //   {0, 2} | {7, 9}: means 1 and 8 → (1 + 1) + (1 + 1) = 4   ← optimum
    //   {0, 2, 7} | {9}: mean 3 → (9 + 1 + 16) + 0 = 26
    // The cut falls between t = 0.2 and 0.6, at their midpoint 0.4.
    const result = clusterTimesteps({ timesteps: [0.1, 0.2, 0.6, 0.8], features: [[0], [2], [7], [9]], stages: 2, normalize: 'none' });
    expect(result.boundaries).toEqual([0.4]);
    expect(result.stages).toEqual([
      { tStart: 0, tEnd: 0.4 },
      { tStart: 0.4, tEnd: 1 },
    ]);
    expect(result.segments).toEqual([
      { first: 0, last: 1 },
      { first: 2, last: 3 },
    ]);
    expect(result.perStageCost[0]).toBeCloseTo(2, 12);
    expect(result.perStageCost[1]).toBeCloseTo(2, 12);
    expect(result.cost).toBeCloseTo(4, 12);
  });

  it('clusters directions under unit normalisation (hand-computed, D = 2)', () => {
    // (1,0), (3,0), (0,2), (1,1) normalise to (1,0), (1,0), (0,1), (1,1)/√2. For unit vectors a
    // segment of n costs n − ‖Σu‖²/n:
    //   {u0} | {u1,u2,u3}: Σ = (1 + 1/√2, 1 + 1/√2), 3 − 2(1 + 1/√2)²/3 ≈ 1.0572
    //   {u0,u1} | {u2,u3}: 0 + 2 − ((1/√2)² + (1 + 1/√2)²)/2 = 1 − 1/√2 ≈ 0.2929   ← optimum
    //   {u0,u1,u2} | {u3}: 3 − ‖(2, 1)‖²/3 = 4/3
    const result = clusterTimesteps({ timesteps: [0, 0.25, 0.5, 0.75], features: [[1, 0], [3, 0], [0, 2], [1, 1]], stages: 2 });
    expect(result.boundaries).toEqual([0.375]);
    expect(result.cost).toBeCloseTo(1 - Math.SQRT1_2, 12);
    expect(result.perStageCost[0]).toBeCloseTo(0, 12);
  });

  it('recovers the true cut points of piecewise-constant features exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 24 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, requestedStages, dimension, seed) => {
          const S = Math.min(requestedStages, M);
          const rng = new SeededRng(seed);
          // True segment starts: 0 and S − 1 distinct cuts in 1..M−1.
          const cuts = new Set<number>();
          while (cuts.size < S - 1) cuts.add(1 + rng.integer(M - 1));
          const starts = [0, ...[...cuts].sort((a, b) => a - b)];
          // One random direction per segment (adjacent ones differ almost surely; D = 1 uses ±1 alternately),
          // each sample a random positive multiple of it: zero cost only at the true segmentation.
          const directions = starts.map((_, s) => (dimension === 1 ? [s % 2 === 0 ? 1 : -1] : Array.from(rng.normal64(dimension))));
          const features = Array.from({ length: M }, (_, m) => {
            const s = starts.filter((start) => start <= m).length - 1;
            const scale = 0.1 + 10 * rng.uniform64(1)[0]!;
            return Float64Array.from(directions[s]!, (x) => x * scale);
          });
          // Integer training steps, strictly increasing.
          const steps: number[] = [];
          for (let m = 0, n = rng.integer(10); m < M; m++, n += 1 + rng.integer(40)) steps.push(n);
          const result = clusterTimesteps({ timesteps: steps, trainTimesteps: 1000, features, stages: S });
          const expectedBoundaries = starts.slice(1).map((c) => (steps[c - 1]! + steps[c]!) / 2 / 1000);
          expect(result.segments.map((segment) => segment.first)).toEqual(starts);
          expect(result.boundaries).toEqual(expectedBoundaries);
          expect(result.cost).toBeLessThan(1e-12);
          expect(result.stages[0]!.tStart).toBe(0);
          expect(result.stages[S - 1]!.tEnd).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds the minimum of brute force over every segmentation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.constantFrom(0, 0.1, 0.2, 0.3),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, requestedStages, dimension, unit, minStageWidth, seed) => {
          const S = Math.min(requestedStages, M);
          const rng = new SeededRng(seed);
          const features = Array.from({ length: M }, () => Array.from(rng.normal64(dimension)));
          const times = Array.from(rng.uniform64(M)).sort((a, b) => a - b);
          fc.pre(times.every((t, m) => m === 0 || t > times[m - 1]!));
          const cut = (m: number): number => (m === 0 ? 0 : m === M ? 1 : (times[m - 1]! + times[m]!) / 2);
          const feasible = allSegmentations(M, S).filter((starts) =>
            starts.every((start, s) => cut(s + 1 < S ? starts[s + 1]! : M) - cut(start) >= minStageWidth - 1e-12),
          );
          const options = { timesteps: times, features, stages: S, normalize: unit ? ('unit' as const) : ('none' as const), minStageWidth };
          if (feasible.length === 0) {
            expect(errorOf(() => clusterTimesteps(options)).issues[0]!.path).toEqual(['minStageWidth']);
            return;
          }
          const best = Math.min(...feasible.map((starts) => directCost(features, starts, unit)));
          const result = clusterTimesteps(options);
          const chosen = result.segments.map((segment) => segment.first);
          expect(result.cost).toBeCloseTo(best, 9);
          expect(directCost(features, chosen, unit)).toBeCloseTo(best, 9);
          expect(result.perStageCost.reduce((a, b) => a + b, 0)).toBeCloseTo(result.cost, 12);
          result.stages.forEach((stage) => expect(stage.tEnd - stage.tStart).toBeGreaterThanOrEqual(minStageWidth - 1e-12));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives one stage covering [0, 1] for S = 1 and one stage per timestep for S = M', () => {
    const features = [[1, 2], [2, 1], [0, 1]];
    const one = clusterTimesteps({ timesteps: [0.2, 0.5, 0.9], features, stages: 1 });
    expect(one.boundaries).toEqual([]);
    expect(one.stages).toEqual([{ tStart: 0, tEnd: 1 }]);
    const each = clusterTimesteps({ timesteps: [0.2, 0.5, 0.9], features, stages: 3 });
    expect(each.boundaries).toEqual([0.35, 0.7]);
    expect(each.cost).toBe(0);
  });

  it('respects minStageWidth', () => {
    // Unconstrained, the odd feature at t = 0.95 would get a stage [0.9, 1) of width 0.1.
    const timesteps = [0.05, 0.25, 0.45, 0.65, 0.85, 0.95];
    const features = [[1], [1], [1], [1], [1], [9]];
    const free = clusterTimesteps({ timesteps, features, stages: 2, normalize: 'none' });
    expect(free.boundaries[0]).toBeCloseTo(0.9, 12);
    const wide = clusterTimesteps({ timesteps, features, stages: 2, normalize: 'none', minStageWidth: 0.2 });
    expect(wide.boundaries[0]).toBeCloseTo(0.75, 12);
  });

  it('returns stages that parse as decoderStages once widths are added', () => {
    const result = clusterTimesteps({ timesteps: [100, 300, 500, 700, 900], trainTimesteps: 1000, features: [[1], [1], [2], [3], [3]], stages: 3, normalize: 'none' });
    expect(result.boundaries).toEqual([0.4, 0.6]);
    const stages = stagesFromBoundaries(result.boundaries, [48, 32, 16]);
    expect(stages).toEqual([
      { tStart: 0, tEnd: 0.4, baseChannels: 48 },
      { tStart: 0.4, tEnd: 0.6, baseChannels: 32 },
      { tStart: 0.6, tEnd: 1, baseChannels: 16 },
    ]);
    expect(parseUNetSpec({ ...mnistSmall, decoderStages: stages }).decoderStages).toEqual(stages);
  });
});

describe('clusterTimesteps validation', () => {
  const timesteps = [0.1, 0.4, 0.7];
  const features = [[1, 0], [0, 1], [1, 1]];
  const cases: [string, Record<string, unknown>, (string | number)[]][] = [
    ['stages < 1', { stages: 0 }, ['stages']],
    ['stages > M', { stages: 4 }, ['stages']],
    ['fractional stages', { stages: 1.5 }, ['stages']],
    ['ragged features', { features: [[1, 0], [0, 1, 2], [1, 1]] }, ['features', 1]],
    ['NaN in features', { features: [[1, 0], [0, Number.NaN], [1, 1]] }, ['features', 1, 1]],
    ['empty feature vectors', { features: [[], [], []] }, ['features', 0]],
    ['too few feature vectors', { features: [[1, 0], [0, 1]] }, ['features']],
    ['zero vector with unit normalisation', { features: [[1, 0], [0, 0], [1, 1]] }, ['features', 1]],
    ['unsorted timesteps', { timesteps: [0.1, 0.7, 0.4] }, ['timesteps', 2]],
    ['duplicate timesteps', { timesteps: [0.1, 0.4, 0.4] }, ['timesteps', 2]],
    ['empty timesteps', { timesteps: [], features: [] }, ['timesteps']],
    ['t outside [0, 1]', { timesteps: [0.1, 0.4, 1.5] }, ['timesteps', 2]],
    ['NaN timestep', { timesteps: [0.1, Number.NaN, 0.7] }, ['timesteps', 1]],
    ['integer step ≥ T', { timesteps: [0, 500, 1000], trainTimesteps: 1000 }, ['timesteps', 2]],
    ['fractional step', { timesteps: [0, 0.5, 2], trainTimesteps: 1000 }, ['timesteps', 1]],
    ['bad trainTimesteps', { trainTimesteps: 0 }, ['trainTimesteps']],
    ['minStageWidth > 1', { minStageWidth: 2 }, ['minStageWidth']],
    ['infeasible minStageWidth', { minStageWidth: 0.5, stages: 2 }, ['minStageWidth']],
    ['unknown normalize', { normalize: 'l1' }, ['normalize']],
  ];
  it.each(cases)('rejects %s with INVALID_OPTION naming the field', (_, override, path) => {
    const error = errorOf(() => clusterTimesteps({ timesteps, features, stages: 2, ...override } as never));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.issues[0]!.path).toEqual(path);
    expect(error.message).toMatch(/^clusterTimesteps: /);
  });
});

describe('stagesFromBoundaries', () => {
  it('builds contiguous stages covering [0, 1]', () => {
    expect(stagesFromBoundaries([], [32])).toEqual([{ tStart: 0, tEnd: 1, baseChannels: 32 }]);
    expect(stagesFromBoundaries([0.442, 0.6308], [48, 32, 16]).map((s) => [s.tStart, s.tEnd])).toEqual([
      [0, 0.442],
      [0.442, 0.6308],
      [0.6308, 1],
    ]);
  });

  it.each([
    ['a boundary at 0', [0, 0.5], [8, 8, 8], ['boundaries', 0]],
    ['a boundary at 1', [0.5, 1], [8, 8, 8], ['boundaries', 1]],
    ['decreasing boundaries', [0.6, 0.5], [8, 8, 8], ['boundaries', 1]],
    ['too few widths', [0.5], [8], ['widths']],
    ['a non-integer width', [0.5], [8, 2.5], ['widths', 1]],
    ['a zero width', [0.5], [0, 8], ['widths', 0]],
  ] as const)('rejects %s', (_, boundaries, widths, path) => {
    const error = errorOf(() => stagesFromBoundaries(boundaries, widths));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.issues[0]!.path).toEqual(path);
  });
});
