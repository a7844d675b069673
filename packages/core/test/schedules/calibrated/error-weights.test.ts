import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../../src/errors/levelskip-error.js';
import { linearBetaSchedule } from '../../../src/noise/noise-schedule.js';
import { calibratedSamplerKind, errorWeights } from '../../../src/schedules/calibrated/error-weights.js';

/** ᾱ_t of DDPM's linear schedule, computed here from its definition (β linear from 1e-4 to 0.02), not by core. */
function alphaBars(T: number, betaStart = 1e-4, betaEnd = 0.02): number[] {
  const out: number[] = [];
  let product = 1;
  for (let t = 0; t < T; t++) {
    product *= 1 - (betaStart + (t * (betaEnd - betaStart)) / (T - 1));
    out.push(product);
  }
  return out;
}

const T = 1000;
const leading50 = Array.from({ length: 50 }, (_, i) => 20 * (49 - i));
const schedule = linearBetaSchedule({ trainTimesteps: T });
const ab = alphaBars(T);
const abAt = (t: number): number => (t < 0 ? 1 : ab[t]!);

function expectClose(actual: readonly number[], expected: readonly number[], relative = 1e-9): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(relative * Math.abs(expected[i]!) + 1e-15));
}

describe('errorWeights: how far an ε error at step i moves the final sample', () => {
  it('hand calculation on a 2-step schedule (β = 0.1, 0.5; ᾱ = 0.9, 0.45), DDIM η = 0', () => {
    const tiny = linearBetaSchedule({ trainTimesteps: 2, betaStart: 0.1, betaEnd: 0.5 });
    // Step 0, t = 1 → s = 0: σ̄ = √((1 − ᾱ)/ᾱ): σ̄_1 = √(0.55/0.45) = 1.1055416, σ̄_0 = √(0.1/0.9) = 0.3333333;
    // w_0 = (1.1055416 − 0.3333333)² = 0.5963057. Step 1, t = 0 → the end (σ̄ = 0): w_1 = 0.3333333² = 0.1111111.
    const weights = errorWeights({ sampler: 'ddim', noiseSchedule: tiny, timesteps: [1, 0], dataVariance: Infinity });
    expect(weights[0]).toBeCloseTo(0.5963057, 6);
    expect(weights[1]).toBeCloseTo(0.1111111, 6);
  });

  it('hand calculation, same schedule, Gaussian data of variance 1 (the later step contracts the error)', () => {
    const tiny = linearBetaSchedule({ trainTimesteps: 2, betaStart: 0.1, betaEnd: 0.5 });
    // Step 1 (t = 0 → end): b_1 = 0 − √0.1/√0.9 = −0.3333333, nothing after it: w_1 = 0.1111111.
    // Step 0 (t = 1 → 0): b_0 = √0.1 − √0.9·√0.55/√0.45 = 0.3162278 − 1.0488088 = −0.7325810;
    // g_1 = a_1 + b_1·√0.1/v_0 with v_0 = 0.9·1 + 0.1 = 1: 1.0540926 − 0.1054093 = 0.9486833 (= √0.9);
    // w_0 = 0.7325810² · 0.9486833² = 0.5366749 · 0.9 = 0.4830074.
    const weights = errorWeights({ sampler: 'ddim', noiseSchedule: tiny, timesteps: [1, 0], dataVariance: 1 });
    expect(weights[0]).toBeCloseTo(0.4830074, 6);
    expect(weights[1]).toBeCloseTo(0.1111111, 6);
  });

  it('DDIM η = 0, data variance 1: w_i = b_i² Π_{j>i} cos²(θ_t − θ_s), ᾱ = cos²θ (closed form)', () => {
    const theta = (t: number): number => Math.acos(Math.sqrt(abAt(t)));
    const b = (t: number, s: number): number => Math.sqrt(1 - abAt(s)) - (Math.sqrt(abAt(s)) * Math.sqrt(1 - abAt(t))) / Math.sqrt(abAt(t));
    const expected = leading50.map((t, i) => {
      let product = b(t, leading50[i + 1] ?? -1) ** 2;
      for (let j = i + 1; j < leading50.length; j++) product *= Math.cos(theta(leading50[j]!) - theta(leading50[j + 1] ?? -1)) ** 2;
      return product;
    });
    expectClose(errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: leading50 }), expected);
  });

  it('a smaller data variance contracts early errors more: the weights of the noisiest steps fall', () => {
    const wide = errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: leading50, dataVariance: 1 });
    const narrow = errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: leading50, dataVariance: 0.3 });
    expect(narrow[0]!).toBeLessThan(wide[0]!);
    // The last step is carried by nothing: the same for both.
    expect(narrow[49]).toBeCloseTo(wide[49]!, 12);
  });

  it('prediction held fixed (data variance ∞), DDIM η = 0: w_i = (σ̄_t − σ̄_s)², the step length of the probability-flow ODE in x/√ᾱ (closed form)', () => {
    const sigmaBar = (t: number): number => Math.sqrt((1 - abAt(t)) / abAt(t));
    const expected = leading50.map((t, i) => (sigmaBar(t) - sigmaBar(leading50[i + 1] ?? -1)) ** 2);
    expectClose(errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: leading50, dataVariance: Infinity }), expected);
  });

  it('prediction held fixed, DDPM: w_i = β̂²/(ᾱ_t (1 − ᾱ_t)) with β̂ = 1 − ᾱ_t/ᾱ_s (closed form)', () => {
    const expected = leading50.map((t, i) => {
      const betaHat = 1 - abAt(t) / abAt(leading50[i + 1] ?? -1);
      return betaHat ** 2 / (abAt(t) * (1 - abAt(t)));
    });
    expectClose(errorWeights({ sampler: 'ddpm', noiseSchedule: schedule, timesteps: leading50, dataVariance: Infinity }), expected);
  });

  it('DDIM η = 1 has DDPM’s deterministic part (Song et al.: η = 1 is the ancestral sampler with σ² = β̃)', () => {
    for (const dataVariance of [0.4, 1, Infinity]) {
      expectClose(errorWeights({ sampler: 'ddim', eta: 1, noiseSchedule: schedule, timesteps: leading50, dataVariance }), errorWeights({ sampler: 'ddpm', noiseSchedule: schedule, timesteps: leading50, dataVariance }), 1e-7);
    }
  });

  it('prediction held fixed: |b_i| grows with η, so DDIM 0 < η < 1 lies between η = 0 and η = 1 at every step', () => {
    const [w0, wHalf, w1] = [0, 0.5, 1].map((eta) => errorWeights({ sampler: 'ddim', eta, noiseSchedule: schedule, timesteps: leading50, dataVariance: Infinity }));
    wHalf!.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(Math.min(w0![i]!, w1![i]!) * (1 - 1e-12));
      expect(w).toBeLessThanOrEqual(Math.max(w0![i]!, w1![i]!) * (1 + 1e-12));
    });
  });

  it('DPM-Solver++ uses DDIM η = 0 weights (its first-order step is DDIM)', () => {
    const timesteps = [999, 800, 500, 200, 50];
    expect(errorWeights({ sampler: 'dpm-solver', noiseSchedule: schedule, timesteps })).toEqual(errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps }));
  });

  it('with a measured propagation P(s): w_i = b_i² P(s_i), and P = 1 after the last step', () => {
    const tiny = linearBetaSchedule({ trainTimesteps: 2, betaStart: 0.1, betaEnd: 0.5 });
    // b_0 = −0.7325810 (t = 1 → 0), b_1 = −0.3333333 (t = 0 → end), as in the hand calculation above; P(0) = 5.
    const weights = errorWeights({ sampler: 'ddim', noiseSchedule: tiny, timesteps: [1, 0], propagation: (s) => (s === 0 ? 5 : Number.NaN) });
    expect(weights[0]).toBeCloseTo(0.5366749 * 5, 5);
    expect(weights[1]).toBeCloseTo(0.1111111, 6);
  });

  it('rejects unknown samplers, bad η and timesteps that are not decreasing', () => {
    expect(() => calibratedSamplerKind('langevin')).toThrow(/ddim, ddpm or dpm-solver/);
    expect(calibratedSamplerKind('dpmSolverPlusPlus')).toBe('dpm-solver');
    const bad = [
      () => errorWeights({ sampler: 'ddim', eta: 2, noiseSchedule: schedule, timesteps: leading50 }),
      () => errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: [0, 20] }),
      () => errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: [1000] }),
      () => errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: [] }),
      () => errorWeights({ sampler: 'ddim', noiseSchedule: schedule, timesteps: leading50, dataVariance: 0 }),
    ];
    for (const call of bad) {
      try {
        call();
        throw new Error('expected an error');
      } catch (error) {
        expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
      }
    }
  });
});
