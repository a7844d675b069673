import { describe, expect, it } from 'vitest';
import { LevelskipError, constantSchedule, mnistSmall, parseFill, parseUNetSpec, powerSchedule, predictedTimeSaved, type SkipSchedule } from '../../src/index.js';

// Every expected number below is worked out by hand in the comment beside it.
const small = parseUNetSpec(mnistSmall); // N = 4 levels, T = 1000

function schedule(kAt: (t: number) => number): SkipSchedule {
  return { kind: 'custom', description: 'test', kAt, toJSON: () => undefined };
}

describe("predictedTimeSaved with cost: 'measured'", () => {
  it('weights each step by the measured ms of its depth (DDIM-50 at c = 2)', () => {
    // Leading spacing: t = i/50 for i = 49..0. k = min(3, ⌊4 − 4(1 − t)²⌋):
    // k = 3 ⇔ (1−t)² ≤ 1/4 ⇔ t ≥ 0.5 (i = 25..49: 25 steps); k = 2 ⇔ t ≥ 1 − √0.5 ≈ 0.2929
    // (i = 15..24: 10 steps); k = 1 ⇔ t ≥ 1 − √0.75 ≈ 0.1340 (i = 7..14: 8 steps); k = 0: i = 0..6 (7 steps).
    // Costs 5, 3, 2, 1.5 ms: scheduled = 7·5 + 8·3 + 10·2 + 25·1.5 = 116.5 ms; full = 50·5 = 250 ms.
    const p = predictedTimeSaved(small, powerSchedule({ c: 2 }), 50, { cost: 'measured', costs: { ks: [5, 3, 2, 1.5] } });
    expect(p.cost).toBe('measured');
    expect([0, 1, 2, 3].map((k) => p.ks.filter((d) => d === k).length)).toEqual([7, 8, 10, 25]);
    expect(p.fullMs).toBeCloseTo(250, 12);
    expect(p.scheduledMs).toBeCloseTo(116.5, 12);
    expect(p.fractionSaved).toBeCloseTo(1 - 116.5 / 250, 12); // 0.534
    // The FLOP model is still reported beside it, and is what the default gives.
    const flops = predictedTimeSaved(small, powerSchedule({ c: 2 }), 50);
    expect(flops.cost).toBe('flops');
    expect(flops.fullMs).toBeUndefined();
    expect(p.fullFlops).toBe(flops.fullFlops);
    expect(p.scheduledFlops).toBe(flops.scheduledFlops);
  });

  it('charges the full-depth refreshes of cache:m at the cache fill k = 0 cost, against the plain baseline', () => {
    // Constant k = 3 with cache:3 over 6 steps: depths 0, 3, 3, 0, 3, 3 (a refresh every 3 steps).
    // The refresh costs 6 ms (it also stores the features), a skipped step 2 ms, the baseline 5 ms:
    // scheduled = 2·6 + 4·2 = 20 ms, full = 6·5 = 30 ms, saved = 1/3.
    const p = predictedTimeSaved(small, constantSchedule(3), [999, 800, 600, 400, 200, 0], {
      fill: 'cache:3',
      cost: 'measured',
      costs: { ks: [6, 4, 3, 2], full: 5 },
    });
    expect(p.ks).toEqual([0, 3, 3, 0, 3, 3]);
    expect(p.scheduledMs).toBeCloseTo(20, 12);
    expect(p.fullMs).toBeCloseTo(30, 12);
    expect(p.fractionSaved).toBeCloseTo(1 / 3, 12);
    // The same with the fill as a strategy.
    const q = predictedTimeSaved(small, constantSchedule(3), [999, 800, 600, 400, 200, 0], {
      fill: parseFill('cache:3'),
      cost: 'measured',
      costs: { ks: [6, 4, 3, 2], full: 5 },
    });
    expect(q.fractionSaved).toBeCloseTo(1 / 3, 12);
  });

  it('prices a step at another depth than the step before at its after-a-switch cost', () => {
    // Depths 0, 3, 3, 0, 3, 3 (constant k = 3, cache:3). Switches at steps 1, 3 and 4; step 0 has no step before.
    // Steady 6, 4, 3, 2; after a switch 7, 5, 4, 2.5; baseline 5:
    // scheduled = 6 + 2.5 + 2 + 7 + 2.5 + 2 = 22 ms, full = 30 ms, saved = 8/30.
    const p = predictedTimeSaved(small, constantSchedule(3), [999, 800, 600, 400, 200, 0], {
      fill: 'cache:3',
      cost: 'measured',
      costs: { ks: [6, 4, 3, 2], afterSwitch: [7, 5, 4, 2.5], full: 5 },
    });
    expect(p.scheduledMs).toBeCloseTo(22, 12);
    expect(p.fractionSaved).toBeCloseTo(8 / 30, 12);
    // A run that never switches is priced at the steady costs alone.
    const steady = predictedTimeSaved(small, constantSchedule(3), [999, 800, 600], { cost: 'measured', costs: { ks: [6, 4, 3, 2], afterSwitch: [70, 50, 40, 25] } });
    expect(steady.scheduledMs).toBeCloseTo(6, 12); // constant k = 3 with the zero fill: 3 steps × 2 ms
  });

  it('uses the stage row of each step for a multi-decoder U-Net', () => {
    // Two levels, decoder stages t ∈ [0, 0.5) and [0.5, 1]. Timesteps 900, 600, 300, 100 → stages 1, 1, 0, 0;
    // k = 1 for t ≥ 0.5: depths 1, 1, 0, 0. Stage 0 costs [4, 2], stage 1 [3, 1]; baselines 4 and 3 (ks[·][0]).
    // scheduled = 1 + 1 + 4 + 4 = 10 ms; full = 3 + 3 + 4 + 4 = 14 ms; saved = 4/14 = 2/7.
    const staged = parseUNetSpec({
      imageSize: 8,
      inChannels: 1,
      baseChannels: 4,
      channelMults: [1, 2],
      resBlocks: 1,
      midAttention: false,
      groups: 2,
      timeEmbedDim: 16,
      decoderStages: [
        { tStart: 0, tEnd: 0.5, baseChannels: 4 },
        { tStart: 0.5, tEnd: 1, baseChannels: 2 },
      ],
    });
    const p = predictedTimeSaved(staged, schedule((t) => (t >= 0.5 ? 1 : 0)), [900, 600, 300, 100], {
      cost: 'measured',
      costs: {
        ks: [
          [4, 2],
          [3, 1],
        ],
      },
    });
    expect(p.ks).toEqual([1, 1, 0, 0]);
    expect(p.scheduledMs).toBeCloseTo(10, 12);
    expect(p.fullMs).toBeCloseTo(14, 12);
    expect(p.fractionSaved).toBeCloseTo(2 / 7, 12);
  });

  it('gives no saving when every depth costs the same (per-call overhead dominates)', () => {
    const p = predictedTimeSaved(small, powerSchedule({ c: 2 }), 50, { cost: 'measured', costs: { ks: [2, 2, 2, 2] } });
    expect(p.fractionSaved).toBe(0);
  });

  it.each([
    [{ cost: 'measured' }, /costs is needed/],
    [{ cost: 'measured', costs: { ks: [5, 3, 2] } }, /costs\.ks holds 3 costs; give one per depth k = 0\.\.3/],
    [{ cost: 'measured', costs: { ks: [5, 3, 0, 1] } }, /costs\.ks\[2\] is 0/],
    [{ cost: 'measured', costs: { ks: [5, 3, Number.NaN, 1] } }, /costs\.ks\[2\] is NaN/],
    [{ cost: 'measured', costs: { ks: [[5, 3, 2, 1], [5, 3, 2, 1]] } }, /holds 2 lists, one per decoder stage, but the model has 1 stage/],
    [{ cost: 'measured', costs: { ks: [5, 3, 2, 1], full: -1 } }, /costs\.full is -1/],
    [{ cost: 'measured', costs: { ks: [5, 3, 2, 1], afterSwitch: [5, 3] } }, /costs\.afterSwitch holds 2 costs/],
    [{ cost: 'seconds' }, /cost must be 'flops' or 'measured'/],
  ])('rejects %j with INVALID_OPTION naming the field', (options, message) => {
    const call = (): unknown => predictedTimeSaved(small, powerSchedule({ c: 2 }), 50, options as never);
    expect(call).toThrow(LevelskipError);
    expect(call).toThrow(message);
    try {
      call();
    } catch (error) {
      expect((error as LevelskipError).code).toBe('INVALID_OPTION');
    }
  });
});
