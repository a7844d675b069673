/**
 * The (k, t) draws of the three training schemes. Expected timestep sets of the power schedule are
 * worked out by hand from k(t) = min(N − 1, ⌊N − N(1 − t/T)^c⌋) (Giladi et al., eq. 1).
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError, SeededRng, constantSchedule, customSchedule, powerSchedule } from '@levelskip/core';
import { createTimestepSampler, timestepsByDepth } from '../../src/schemes/timestep-sampler.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('schedule-aware scheme', () => {
  // c = 2, N = 4, T = 1000, u = t/T: k(t) = min(3, ⌊4 − 4(1 − u)²⌋).
  //   k ≥ 1 ⇔ 4(1 − u)² ≤ 3 ⇔ u ≥ 1 − √3/2 = 0.1339746 ⇔ t ≥ 134  (t = 133: 4 · 0.867² = 3.0068 > 3)
  //   k ≥ 2 ⇔ 4(1 − u)² ≤ 2 ⇔ u ≥ 1 − √2/2 = 0.2928932 ⇔ t ≥ 293  (t = 292: 4 · 0.708² = 2.0050 > 2)
  //   k = 3 ⇔ 4(1 − u)² ≤ 1 ⇔ u ≥ 1/2              ⇔ t ≥ 500  (t = 500: exactly 1, ⌊3⌋ = 3)
  const expected = [range(0, 133), range(134, 292), range(293, 499), range(500, 999)];
  const schedule = powerSchedule({ c: 2 });

  it('groups the integer timesteps by depth as computed by hand', () => {
    expect(timestepsByDepth(schedule, 4, 1000)).toEqual(expected);
    const sampler = createTimestepSampler('schedule-aware', { levels: 4, trainTimesteps: 1000, schedule });
    expect(sampler.timestepsByDepth).toEqual(expected);
  });

  it('draws every t of a batch from the timesteps of the batch’s k, and k in proportion to their number', () => {
    const sampler = createTimestepSampler('schedule-aware', { levels: 4, trainTimesteps: 1000, schedule });
    const rng = new SeededRng(11);
    const batches = 4000;
    const counts = [0, 0, 0, 0];
    const seen = new Set<number>();
    for (let i = 0; i < batches; i++) {
      const { k, timesteps } = sampler.draw(rng, 8);
      expect(timesteps).toHaveLength(8);
      const allowed = new Set(expected[k]);
      for (const t of timesteps) {
        expect(allowed.has(t), `t = ${t} drawn for k = ${k}`).toBe(true);
        seen.add(t);
      }
      counts[k]! += 1;
    }
    // P(k) = |S_k| / T = 0.134, 0.159, 0.207, 0.5; allow 5 binomial standard deviations.
    expected.forEach((list, k) => {
      const p = list.length / 1000;
      expect(Math.abs(counts[k]! - batches * p)).toBeLessThan(5 * Math.sqrt(batches * p * (1 - p)));
    });
    // 32 000 draws cover (nearly) every timestep: t is not confined to a few values.
    expect(seen.size).toBeGreaterThan(990);
  });

  it('never picks a depth the schedule does not use', () => {
    const sampler = createTimestepSampler('schedule-aware', { levels: 4, trainTimesteps: 100, schedule: constantSchedule(2) });
    expect(sampler.timestepsByDepth!.map((l) => l.length)).toEqual([0, 0, 100, 0]);
    const rng = new SeededRng(3);
    for (let i = 0; i < 50; i++) expect(sampler.draw(rng, 4).k).toBe(2);
  });

  it('requires a schedule and rejects one that returns an impossible k', () => {
    expect(() => createTimestepSampler('schedule-aware', { levels: 4, trainTimesteps: 10 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', issues: [expect.objectContaining({ path: ['schedule'] })] }),
    );
    const bad = customSchedule(() => 7, 'seven');
    const error = (() => {
      try {
        createTimestepSampler('schedule-aware', { levels: 4, trainTimesteps: 10, schedule: bad });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_SCHEDULE');
  });
});

describe('uniform and full schemes', () => {
  it('uniform draws every k and independent uniform timesteps', () => {
    const sampler = createTimestepSampler('uniform', { levels: 3, trainTimesteps: 50 });
    const rng = new SeededRng(5);
    const ks = new Set<number>();
    const ts = new Set<number>();
    let mixed = 0;
    for (let i = 0; i < 300; i++) {
      const { k, timesteps } = sampler.draw(rng, 4);
      ks.add(k);
      timesteps.forEach((t) => {
        expect(Number.isInteger(t) && t >= 0 && t < 50).toBe(true);
        ts.add(t);
      });
      if (new Set(timesteps).size > 1) mixed += 1;
    }
    expect([...ks].sort()).toEqual([0, 1, 2]);
    expect(ts.size).toBe(50);
    expect(mixed).toBeGreaterThan(250);
  });

  it('full always trains the whole network (k = 0)', () => {
    const sampler = createTimestepSampler('full', { levels: 4, trainTimesteps: 1000, schedule: powerSchedule({ c: 2 }) });
    const rng = new SeededRng(9);
    const ts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { k, timesteps } = sampler.draw(rng, 4);
      expect(k).toBe(0);
      timesteps.forEach((t) => ts.add(t));
    }
    expect(Math.max(...ts)).toBeGreaterThan(900);
    expect(Math.min(...ts)).toBeLessThan(100);
  });

  it('same rng state, same draws', () => {
    const sampler = createTimestepSampler('uniform', { levels: 4, trainTimesteps: 1000 });
    const a = new SeededRng(1);
    const b = new SeededRng(1);
    for (let i = 0; i < 10; i++) expect(sampler.draw(a, 3)).toEqual(sampler.draw(b, 3));
  });
});
