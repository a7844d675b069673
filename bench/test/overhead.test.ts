import { describe, expect, it } from 'vitest';
import { mnistSmall, parseUNetSpec } from '@levelskip/core';
import { bestFigures, breakdown, deriveFigures, deriveFiguresOverRounds, medianBreakdown, parseOverheadArgs, schedulesOf } from '../overhead.mjs';

describe('pnpm bench overhead: flags', () => {
  it('defaults to the two shipped models at batches 1, 16, 50 on onnx, c = 2 and cache:3', () => {
    const o = parseOverheadArgs([], 'm');
    expect(o.models).toEqual(['mnist-full', 'mnist-zero-c2']);
    expect(o.batches).toEqual([1, 16, 50]);
    expect(o.backends).toEqual(['onnx']);
    expect([o.c, o.cacheInterval, o.rounds, o.threads]).toEqual([2, 3, 7, 2]);
    expect(o.out).toMatch(/bench\/results\/overhead-m\.json$/);
    expect(parseOverheadArgs(['--quick'], 'm').out).toMatch(/bench\/results\/quick\/overhead-m\.json$/);
    expect(parseOverheadArgs(['--backends', 'onnx,tfjs', '--batches', '1,16'], 'm')).toMatchObject({ backends: ['onnx', 'tfjs-wasm'], batches: [1, 16] });
  });

  it('refuses malformed flags with the fix', () => {
    expect(() => parseOverheadArgs(['--batches', '1,x'], 'm')).toThrow(/--batches: "x" is not an integer ≥ 1/);
    expect(() => parseOverheadArgs(['--backends', 'torch'], 'm')).toThrow(/unknown backend "torch"; use onnx, tfjs-wasm/);
    expect(() => parseOverheadArgs(['--c', '0'], 'm')).toThrow(/--c: "0" is not a positive number/);
    expect(() => parseOverheadArgs(['--nope'], 'm')).toThrow();
  });

  it('compares c = 0, the power schedule with the zero fill and cache:m', () => {
    expect(schedulesOf({ c: 3, cacheInterval: 4 }).map((s) => s.label)).toEqual(['c=0', 'c=3', 'cache:4']);
  });
});

describe('pnpm bench overhead: breakdown of a run', () => {
  it('sums predict() per k, what lies outside it, and the phases of the profile, by hand', () => {
    const b = breakdown({
      wallMs: 110,
      predicts: [
        { k: 0, ms: 50 },
        { k: 3, ms: 20 },
        { k: 3, ms: 30 },
      ],
      spans: [
        { phase: 'predict', ms: 50, step: 0, k: 0 },
        { phase: 'run', ms: 44, k: 0, graph: 'A', switched: false },
        { phase: 'cacheStore', ms: 2, k: 0 },
        { phase: 'sampler', ms: 3, step: 0 },
        { phase: 'noise', ms: 1, step: 0 },
        { phase: 'predict', ms: 20, step: 1, k: 3 },
        { phase: 'run', ms: 18, k: 3, graph: 'B', switched: true },
        { phase: 'predict', ms: 30, step: 2, k: 3 },
        { phase: 'run', ms: 12, k: 3, graph: 'B', switched: false },
        { phase: 'check', ms: 0.5, step: 2 },
      ],
    });
    // Σ predict = 100, outside 10 (10 %); k = 3: 2 calls, 50 ms.
    expect(b.predictMs).toBe(100);
    expect(b.outsidePredictMs).toBe(10);
    expect(b.outsideFraction).toBeCloseTo(0.1, 12);
    expect(b.predictByK).toEqual([
      { k: 0, calls: 1, ms: 50 },
      { k: 3, calls: 2, ms: 50 },
    ]);
    // One switched call of graph B at 18 ms against B's unswitched 12 ms: a 6 ms penalty.
    expect(b.switchedRuns).toBe(1);
    expect(b.switchPenaltyMs).toBe(6);
    // predict() less the runtime's calls and the cache: 100 − (44 + 18 + 12) − 2 = 24 ms of host work.
    expect(b.predictOtherMs).toBe(24);
    // Wall time outside the loop's spans: 110 − (100 + 3 + 1 + 0.5).
    expect(b.setupMs).toBeCloseTo(5.5, 12);
    expect(b.phases).toMatchObject({ sampler: 3, noise: 1, check: 0.5, cacheStore: 2, run: 74 });
  });

  it('leaves the inside-predict figures unknown for a backend without spans of its own', () => {
    const b = breakdown({ wallMs: 12, predicts: [{ k: 0, ms: 10 }], spans: [{ phase: 'predict', ms: 10, step: 0, k: 0 }, { phase: 'sampler', ms: 1, step: 0 }] });
    expect([b.switchedRuns, b.switchPenaltyMs, b.predictOtherMs]).toEqual([undefined, undefined, undefined]);
    expect(b.setupMs).toBeCloseTo(1, 12);
  });

  it('without a profile, still has wall time against Σ predict', () => {
    const b = breakdown({ wallMs: 103, predicts: [{ k: 0, ms: 100 }] });
    expect(b.outsideFraction).toBeCloseTo(0.03, 12);
    expect(b.phases).toBeUndefined();
  });

  it('takes each figure\'s median over runs', () => {
    const runs = [100, 120, 110].map((wallMs) => breakdown({ wallMs, predicts: [{ k: 1, ms: 100 }] }));
    const m = medianBreakdown(runs);
    expect(m.wallMs).toBe(110);
    expect(m.outsideFraction).toBeCloseTo(0.1, 12);
    expect(m.wallTimesMs).toEqual([100, 120, 110]);
  });
});

describe('pnpm bench overhead: time saved against the two predictions', () => {
  it('divides the measured saving by the FLOP and the measured-cost predictions', async () => {
    const core = await import('@levelskip/core');
    const spec = parseUNetSpec(mnistSmall);
    const schedules = schedulesOf({ c: 2, cacheInterval: 3 });
    const run = (schedule: string, wallMs: number, predictMs: number) => ({ variant: 'current', schedule, wallMs, predictMs, outsideFraction: wallMs / predictMs - 1 });
    const derived = deriveFigures({
      core,
      spec,
      levels: 4,
      schedules,
      timesteps: core.sampledTimesteps(50, 1000),
      runs: [run('c=0', 100, 95), run('c=2', 60, 57)],
      costs: { current: { zero: [5, 3, 2, 1.5], cache: [6, 4, 3, 2] } },
    });
    const c2 = derived.find((d) => d.schedule === 'c=2')!;
    // DDIM-50 at c = 2: 7, 8, 10, 25 steps at k = 0..3 → 116.5 of 250 ms predicted (53.4 % saved); measured 1 − 60/100.
    expect(c2.savedMeasured).toBe(0.4);
    expect(c2.savedPredictOnly).toBe(0.4);
    expect(c2.savedCostPredicted).toBe(0.534);
    expect(c2.ratioToCost).toBeCloseTo(0.4 / 0.534, 3);
    expect(c2.savedFlopPredicted).toBeCloseTo(core.predictedTimeSaved(spec, core.powerSchedule({ c: 2 }), 50).fractionSaved, 4);
    expect(derived.find((d) => d.schedule === 'c=0')).toEqual({ variant: 'current', schedule: 'c=0', outsideFraction: 100 / 95 - 1 });
    // With first-call costs: the run's depths go 3 → 2 → 1 → 0, three switches, each 1 ms dearer here:
    // 116.5 + 3 = 119.5 ms → 52.2 % predicted.
    const withSwitches = deriveFigures({
      core,
      spec,
      levels: 4,
      schedules,
      timesteps: core.sampledTimesteps(50, 1000),
      runs: [run('c=0', 100, 95), run('c=2', 60, 57)],
      costs: { current: { zero: [5, 3, 2, 1.5], zeroFirst: [6, 4, 3, 2.5], cache: [6, 4, 3, 2], cacheFirst: [6, 4, 3, 2] } },
    });
    expect(withSwitches.find((d) => d.schedule === 'c=2')!.savedCostPredicted).toBe(0.522);
  });

  it('pairs each run with its own round, then takes medians over rounds', async () => {
    const core = await import('@levelskip/core');
    const spec = parseUNetSpec(mnistSmall);
    const round = (full: number, c2: number) => [
      { variant: 'current', schedule: 'c=0', wallMs: full, predictMs: full, outsideFraction: 0 },
      { variant: 'current', schedule: 'c=2', wallMs: c2, predictMs: c2, outsideFraction: 0 },
    ];
    const costs = { current: { zero: [5, 3, 2, 1.5], cache: [6, 4, 3, 2] } };
    // Saved per round: 1 − 60/100 = 0.4, 1 − 90/200 = 0.55 (a slow round: both runs slow), 1 − 50/100 = 0.5 → median 0.5.
    // Medians of the walls instead (100 and 60) would give 0.4: pairing keeps the slow round's runs together.
    const derived = deriveFiguresOverRounds({ core, spec, levels: 4, schedules: schedulesOf({ c: 2, cacheInterval: 3 }), timesteps: core.sampledTimesteps(50, 1000), rounds: [round(100, 60), round(200, 90), round(100, 50)], costs });
    const c2 = derived.find((d) => d.schedule === 'c=2')!;
    expect(c2.savedMeasured).toBe(0.5);
    expect(c2.savedCostPredicted).toBe(0.534);
    expect(c2.ratioToCost).toBeCloseTo(0.5 / 0.534, 3);
  });

  it('best figures: each candidate\'s fastest run and each cost\'s fastest round', async () => {
    const core = await import('@levelskip/core');
    const spec = parseUNetSpec(mnistSmall);
    const round = (full: number, c2: number) => [
      { variant: 'current', schedule: 'c=0', wallMs: full, predictMs: full - 2, outsideFraction: 0 },
      { variant: 'current', schedule: 'c=2', wallMs: c2, predictMs: c2 - 2, outsideFraction: 0 },
    ];
    const costRound = (k0: number) => ({ zero: [k0, 3, 2, 1.5], cache: [6, 4, 3, 2], zeroFirst: [k0, 3, 2, 1.5], cacheFirst: [6, 4, 3, 2] });
    const { costs, derived } = bestFigures({
      core,
      spec,
      levels: 4,
      schedules: schedulesOf({ c: 2, cacheInterval: 3 }),
      timesteps: core.sampledTimesteps(50, 1000),
      rounds: [round(120, 60), round(100, 70)],
      costRounds: { current: [costRound(6), costRound(5)] },
    });
    // Fastest: c = 0 100 ms, c = 2 60 ms → 40 % saved; fastest k = 0 cost 5 ms → 53.4 % predicted (as above).
    expect(costs.current.zero).toEqual([5, 3, 2, 1.5]);
    const c2 = derived.find((d) => d.schedule === 'c=2')!;
    expect(c2.savedMeasured).toBe(0.4);
    expect(c2.savedPredictOnly).toBeCloseTo(1 - 58 / 98, 4);
    expect(c2.savedCostPredicted).toBe(0.534);
  });
});
