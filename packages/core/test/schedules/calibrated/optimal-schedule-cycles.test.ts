/**
 * The cache fill's `cycle` error model (issue 25): errors correlated within a refresh cycle, planned
 * by the segment DP (`segment-search.ts`). Golden plans are computed by hand in the comments; the
 * brute force enumerates every asked sequence (through core's `cacheDepths`, what a run executes)
 * whose cycles each run one depth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../../src/errors/levelskip-error.js';
import { cacheDepths, cacheFill } from '../../../src/fills/fill-registry.js';
import { linearBetaSchedule } from '../../../src/noise/noise-schedule.js';
import { parseCalibrationTable, type CalibrationTable } from '../../../src/schedules/calibrated/calibration-table.js';
import { errorWeights } from '../../../src/schedules/calibrated/error-weights.js';
import { autoSchedule, optimalSchedule } from '../../../src/schedules/calibrated/optimal-schedule.js';
import { solveSegments } from '../../../src/schedules/calibrated/segment-search.js';

const T = 1000;
const noiseSchedule = linearBetaSchedule({ trainTimesteps: T });
/** DDIM's leading timesteps for n steps, in step order. */
const leading = (n: number): number[] => Array.from({ length: n }, (_, i) => Math.floor(T / n) * (n - 1 - i));

interface CacheInput {
  readonly levels: number;
  readonly n: number;
  /** cacheErrors[row][j][a]: error at the row-th calibrated timestep (increasing t), k = j + 1, age a + 1. */
  readonly cacheErrors: number[][][];
  readonly cost: number[];
  readonly zeroErrors?: number[][];
  /** Decoder stage boundaries (normalised t); default one stage. */
  readonly stageEnds?: number[];
}

/** A hand-made table calibrated exactly at the run's timesteps (no interpolation), costs in ms. */
function table(input: CacheInput): CalibrationTable {
  const ages = input.cacheErrors[0]![0]!.map((_, a) => a + 1);
  return parseCalibrationTable({
    format: 'levelskip-calibration',
    version: 1,
    levels: input.levels,
    noiseSchedule: noiseSchedule.config,
    stageEnds: input.stageEnds ?? [],
    dimensions: 1,
    samples: 1,
    seed: 0,
    timesteps: leading(input.n).reverse(),
    ks: Array.from({ length: input.levels - 1 }, (_, j) => j + 1),
    costUnit: 'ms',
    costBatch: 1,
    fills: [
      ...(input.zeroErrors === undefined ? [] : [{ fill: 'zero' as const, cost: input.cost, epsilonError: input.zeroErrors, x0Error: input.zeroErrors }]),
      { fill: 'cache', stepSpacing: Math.floor(T / input.n), ages, cost: input.cost, epsilonError: input.cacheErrors, x0Error: input.cacheErrors },
    ],
  });
}

function* sequences(n: number, K: number): Generator<number[]> {
  const ks = new Array<number>(n).fill(0);
  for (;;) {
    yield [...ks];
    let i = 0;
    while (i < n && ks[i] === K) ks[i++] = 0;
    if (i === n) return;
    ks[i]! += 1;
  }
}

/** Brute force under the cycle model with correlation ρ: every asked sequence whose cycles run one depth each. */
function bruteForceCycles(input: CacheInput, budget: number, rho: number): { error: number; ks: number[] } | undefined {
  const w = errorWeights({ sampler: 'ddim', noiseSchedule, timesteps: leading(input.n) });
  const maxAge = input.cacheErrors[0]![0]!.length;
  let best: { error: number; ks: number[] } | undefined;
  for (const asked of sequences(input.n, input.levels - 1)) {
    const ran = cacheDepths(asked, cacheFill);
    let valid = true;
    let error = 0;
    let squares = 0;
    let amplitude = 0;
    let refresh = 0;
    const close = (): void => {
      error += (1 - rho) * squares + rho * amplitude * amplitude;
      squares = 0;
      amplitude = 0;
    };
    ran.forEach((k, i) => {
      if (k === 0) {
        close();
        refresh = i;
        return;
      }
      const age = i - refresh;
      if (age > maxAge || (i > refresh + 1 && ran[i - 1] !== k)) {
        valid = false;
        return;
      }
      const e = w[i]! * input.cacheErrors[input.n - 1 - i]![k - 1]![age - 1]!;
      squares += e;
      amplitude += Math.sqrt(e);
    });
    close();
    if (!valid) continue;
    const cost = ran.reduce((sum, k) => sum + input.cost[k]!, 0);
    if (1 - cost / (input.n * input.cost[0]!) < budget - 1e-12) continue;
    if (best === undefined || error < best.error - 1e-15) best = { error, ks: ran };
  }
  return best;
}

/**
 * A hand-made case where the models disagree. n = 6, one depth (k = 1), costs 10 and 4 ms: each
 * cached step saves 6 of the run's 60 ms (10 %), so budget 0.3 takes 3 cached steps. The table's
 * errors are amplitude² / w_i, so the weighted amplitude √(w_i e_i) of step i at cache age a is:
 * steps 1–3: 1, 1.2, 1.4 at ages 1, 2, 3; step 4: 2, 2.4, 2.8; step 5: 10, 12, 14.
 *
 * Plans with 3 cached steps (step 0 always refreshes; ages above 3 are not calibrated; any plan
 * caching step 5 errs by ≥ 100, and 4 cached steps must include step 5):
 *   A = 0,1,1,1,0,0: one cycle 1 + 1.2 + 1.4 = 3.6 → coherent 12.96, cycle (ρ = 1) 12.96, independent 4.4
 *   B = 0,1,1,0,1,0: cycles 2.2 | 2 → coherent 4.2² = 17.64, cycle 4.84 + 4 = 8.84, independent 6.44
 *   C = 0,1,0,1,1,0: cycles 1 | 1 + 2.4 → coherent 19.36, cycle 1 + 11.56 = 12.56, independent 7.76
 *   D = 0,0,1,1,1,0: one cycle 1 + 1.2 + 2.8 = 5 → 25, 25, independent 10.28
 * Coherent and independent pick A; the cycle model B. With ρ = 0.65 a plan's error is
 * 0.35 · independent + 0.65 · cycle(ρ = 1): A 9.964, B 8.0, C 10.88, D 25: B.
 */
const handAmplitudes = [
  [1, 1, 1], // step 0 (never cached)
  [1, 1.2, 1.4],
  [1, 1.2, 1.4],
  [1, 1.2, 1.4],
  [2, 2.4, 2.8],
  [10, 12, 14],
];
const handWeights = errorWeights({ sampler: 'ddim', noiseSchedule, timesteps: leading(6) });
// Rows in increasing t: row 5 − i holds step i.
const handInput: CacheInput = {
  levels: 2,
  n: 6,
  cost: [10, 4],
  cacheErrors: Array.from({ length: 6 }, (_, row) => [handAmplitudes[5 - row]!.map((amplitude) => amplitude ** 2 / handWeights[5 - row]!)]),
};

describe('the cycle error model (cache fill): a known optimum by hand', () => {
  const plan = (errorModel: 'coherent' | 'independent' | 'cycle', cycleCorrelation?: number) =>
    optimalSchedule(table(handInput), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel, ...(cycleCorrelation === undefined ? {} : { cycleCorrelation }) }).plan;

  it('coherent and independent errors keep one long cycle (A)', () => {
    expect(plan('coherent').ks).toEqual([0, 1, 1, 1, 0, 0]);
    expect(plan('coherent').predictedError).toBeCloseTo(12.96, 10);
    expect(plan('independent').ks).toEqual([0, 1, 1, 1, 0, 0]);
    expect(plan('independent').predictedError).toBeCloseTo(4.4, 10);
  });

  it('coherent within a cycle (ρ = 1): two short cycles (B), error 8.84', () => {
    const p = plan('cycle', 1);
    expect(p.ks).toEqual([0, 1, 1, 0, 1, 0]);
    expect(p.predictedError).toBeCloseTo(8.84, 10);
    expect(p.errorModel).toBe('cycle');
    expect(p.cycleCorrelation).toBe(1);
    expect(p.fractionSaved).toBeCloseTo(0.3, 12);
    // What a run executes is what was planned.
    expect(cacheDepths(leading(6).map((t) => optimalSchedule(table(handInput), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel: 'cycle' }).kAt(t / T, 2)), cacheFill)).toEqual([0, 1, 1, 0, 1, 0]);
  });

  it('the default correlation ρ = 0.65: B, error 0.35 · 6.44 + 0.65 · 8.84 = 8.0', () => {
    const p = plan('cycle');
    expect(p.cycleCorrelation).toBe(0.65);
    expect(p.ks).toEqual([0, 1, 1, 0, 1, 0]);
    expect(p.predictedError).toBeCloseTo(8.0, 10);
  });

  it('ρ = 0 is the independent model: A, error 4.4', () => {
    expect(plan('cycle', 0).ks).toEqual([0, 1, 1, 1, 0, 0]);
    expect(plan('cycle', 0).predictedError).toBeCloseTo(4.4, 10);
  });

  it('a budget beyond what the calibrated ages allow names the most it can save', () => {
    // 5 cached steps would need a cycle of 5; the most is 4 cached steps (cycles of ≤ 3): 40 %.
    expect(() => optimalSchedule(table(handInput), { sampler: 'ddim', steps: 6, budget: 0.45, fill: 'cache', errorModel: 'cycle' })).toThrow(/at most about 40\.0%/);
  });
});

describe('the cycle error model with two decoder stages', () => {
  it('a cycle never crosses a stage boundary: the first step of each stage refreshes', () => {
    // n = 4: timesteps 750, 500 (t/T ≥ 0.5: the second stage) and 250, 0 (the first). Steps 0 and 2 must
    // run at full depth, so at most steps 1 and 3 are cached: 2 · 6 ms of 40 ms = 30 %.
    const input: CacheInput = { levels: 2, n: 4, cost: [10, 4], stageEnds: [0.5], cacheErrors: Array.from({ length: 4 }, () => [[1, 2, 3]]) };
    const p = optimalSchedule(table(input), { sampler: 'ddim', steps: 4, budget: 0.3, fill: 'cache', errorModel: 'cycle' }).plan;
    expect(p.ks).toEqual([0, 1, 0, 1]);
    expect(() => optimalSchedule(table(input), { sampler: 'ddim', steps: 4, budget: 0.31, fill: 'cache', errorModel: 'cycle' })).toThrow(/at most about 30\.0%/);
  });
});

describe('the cycle error model: options', () => {
  const withZero: CacheInput = { ...handInput, zeroErrors: Array.from({ length: 6 }, () => [1]) };
  const expectOptionError = (run: () => unknown, field: string): void => {
    try {
      run();
      expect.unreachable('should throw');
    } catch (error) {
      expect(LevelskipError.is(error) && error.code === 'INVALID_OPTION').toBe(true);
      expect((error as LevelskipError).issues[0]?.path[0]).toBe(field);
      expect((error as Error).message).toContain(field);
    }
  };

  it('rejects cycle for a stateless fill, a correlation outside [0, 1] or without the cycle model, and unknown models', () => {
    expectOptionError(() => optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'zero', errorModel: 'cycle' }), 'errorModel');
    expectOptionError(() => optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel: 'cycle', cycleCorrelation: 1.5 }), 'cycleCorrelation');
    expectOptionError(() => optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel: 'cycle', cycleCorrelation: Number.NaN }), 'cycleCorrelation');
    expectOptionError(() => optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', cycleCorrelation: 0.5 }), 'cycleCorrelation');
    expectOptionError(() => optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel: 'quadratic' as 'cycle' }), 'errorModel');
  });

  it('autoSchedule with cycle plans the stateless fills with their default and the cache with cycles', () => {
    const auto = autoSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, errorModel: 'cycle', cycleCorrelation: 1 });
    const zero = optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'zero' });
    const cache = optimalSchedule(table(withZero), { sampler: 'ddim', steps: 6, budget: 0.3, fill: 'cache', errorModel: 'cycle', cycleCorrelation: 1 });
    expect(auto.skip.plan.predictedError).toBe(Math.min(zero.plan.predictedError, cache.plan.predictedError));
  });
});

describe('solveSegments on hand-costed segments', () => {
  it('finds the cheapest split that saves enough, and reports the most it can save otherwise', () => {
    // 3 steps. From 0: [0,1) free; [0,2) saves 2 for 1.0; [0,3) saves 4 for 5.0. From 1: [1,2) free; [1,3) saves 2 for 1.5.
    // From 2: [2,3) free. Saving ≥ 2: {[0,2),[2,3)} 1.0 or {[0,1),[1,3)} 1.5 → 1.0. Saving ≥ 3: only [0,3), 5.0 (the two 2-unit segments overlap).
    const segments = (start: number) =>
      [
        [
          { end: 1, k: 0, saving: 0, error: 0 },
          { end: 2, k: 2, saving: 2, error: 1 },
          { end: 3, k: 2, saving: 4, error: 5 },
        ],
        [
          { end: 2, k: 0, saving: 0, error: 0 },
          { end: 3, k: 1, saving: 2, error: 1.5 },
        ],
        [{ end: 3, k: 0, saving: 0, error: 0 }],
      ][start]!;
    const two = solveSegments({ steps: 3, required: 2, segments }).solution!;
    expect(two.ks).toEqual([0, 2, 0]);
    expect(two.error).toBe(1);
    expect(two.saving).toBe(2);
    expect(two.segments).toEqual([
      { start: 0, end: 2, k: 2 },
      { start: 2, end: 3, k: 0 },
    ]);
    const three = solveSegments({ steps: 3, required: 3, segments }).solution!;
    expect(three.ks).toEqual([0, 2, 2]);
    expect(three.error).toBe(5);
    expect(three.saving).toBe(4);
    const none = solveSegments({ steps: 3, required: 5, segments });
    expect(none.solution).toBeUndefined();
    expect(none.maxSaving).toBe(4);
  });
});

/** Random cache tables: levels 2–4, n steps 2–6, errors > 0 and non-decreasing in the age, costs decreasing in k. */
const randomInput = fc
  .record({
    levels: fc.integer({ min: 2, max: 4 }),
    n: fc.integer({ min: 2, max: 6 }),
    seedErrors: fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 6 * 3 * 3, maxLength: 6 * 3 * 3 }),
    costDrops: fc.array(fc.double({ min: 0.05, max: 0.4, noNaN: true }), { minLength: 3, maxLength: 3 }),
  })
  .map(({ levels, n, seedErrors, costDrops }): CacheInput => {
    const cost = [10];
    for (let k = 1; k < levels; k++) cost.push(Math.max(1, cost[k - 1]! * (1 - costDrops[k - 1]!)));
    const value = (i: number, j: number, a: number): number => seedErrors[(i * 3 + j) * 3 + a]!;
    const cacheErrors = Array.from({ length: n }, (_, i) =>
      Array.from({ length: levels - 1 }, (_, j) => [value(i, j, 0), value(i, j, 0) + value(i, j, 1), value(i, j, 0) + value(i, j, 1) + value(i, j, 2)]),
    );
    return { levels, n, cacheErrors, cost };
  });

function plannedOrUndefined(input: CacheInput, budget: number, rho: number) {
  try {
    return optimalSchedule(table(input), { sampler: 'ddim', steps: input.n, budget, fill: 'cache', errorModel: 'cycle', cycleCorrelation: rho }).plan;
  } catch (error) {
    if (LevelskipError.is(error) && error.issues[0]?.path[0] === 'budget') return undefined;
    throw error;
  }
}

describe('the cycle error model: properties (fast-check)', () => {
  const rho = fc.constantFrom(0, 0.65, 1);

  it('a larger budget never gives a larger error', () => {
    fc.assert(
      fc.property(randomInput, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.double({ min: 0, max: 0.9, noNaN: true }), rho, (input, a, b, r) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const larger = plannedOrUndefined(input, large, r);
        const smaller = plannedOrUndefined(input, small, r);
        if (larger === undefined) return;
        expect(smaller).toBeDefined();
        expect(smaller!.predictedError).toBeLessThanOrEqual(larger.predictedError * (1 + 1e-12) + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('the predicted time saved meets the budget and exceeds it by less than one step’s cost; the brute-force optimum', () => {
    fc.assert(
      fc.property(randomInput, fc.double({ min: 0, max: 0.9, noNaN: true }), rho, (input, budget, r) => {
        const plan = plannedOrUndefined(input, budget, r);
        const expected = input.n <= 5 ? bruteForceCycles(input, budget, r) : undefined;
        if (plan === undefined) {
          if (input.n <= 5) expect(expected).toBeUndefined();
          return;
        }
        expect(plan.fractionSaved).toBeGreaterThanOrEqual(budget - 1e-12);
        expect(plan.fractionSaved - budget).toBeLessThan(1 / input.n);
        expect(plan.ks[0]).toBe(0);
        expect(cacheDepths(plan.ks, cacheFill)).toEqual(plan.ks);
        if (expected !== undefined) expect(plan.predictedError).toBeCloseTo(expected.error, 9);
      }),
      { numRuns: 200 },
    );
  });
});
