import { describe, expect, it } from 'vitest';
import {
  cosineBetaSchedule,
  linearBetaSchedule,
  noiseScheduleFromConfig,
  type NoiseSchedule,
  type NoiseScheduleConfig,
} from '../../src/noise/noise-schedule.js';
import { errorOf } from '../support/level-skip-errors.js';


function expectRelative(actual: number | undefined, expected: number, tolerance = 1e-12): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected) / Math.abs(expected)).toBeLessThanOrEqual(tolerance);
}

/*
 * Reference values from PyTorch 1.13 in float64, computed independently of this code:
 *
 *   b = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64); ac = torch.cumprod(1 - b, 0)
 *   ac[499] = 0.07858724288177824, ac[999] = 4.035829765375676e-05
 *
 *   f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2   # diffusers betas_for_alpha_bar
 *   cb = torch.tensor([min(1 - f((i+1)/1000) / f(i/1000), 0.999) for i in range(1000)], dtype=torch.float64)
 *   cac = torch.cumprod(1 - cb, 0)
 *   cb[998] = 0.7499993929011166, cac[499] = 0.4938435904406382,
 *   cac[998] = 2.4287669070348544e-06, cac[999] = 2.4287669070348567e-09
 */
describe('linearBetaSchedule (Ho et al. 2020)', () => {
  const schedule = linearBetaSchedule();

  it('is linspace(1e-4, 0.02, 1000)', () => {
    expect(schedule.kind).toBe('linear');
    expect(schedule.trainTimesteps).toBe(1000);
    expect(schedule.betas).toHaveLength(1000);
    expect(schedule.betas[0]).toBe(1e-4);
    expect(schedule.betas[999]).toBe(0.02);
    // β_1 = β_0 + (β_end - β_0)/(T - 1)
    expect(schedule.betas[1]).toBe(1e-4 + (0.02 - 1e-4) / 999);
    // β_500 by the same formula, to a few ulps
    expectRelative(schedule.betas[500], 1e-4 + (500 * (0.02 - 1e-4)) / 999, 1e-15);
  });

  it('derives α, ᾱ and the square roots', () => {
    const [b0, b1, b2] = [1e-4, 1e-4 + (0.02 - 1e-4) / 999, 1e-4 + (2 * (0.02 - 1e-4)) / 999];
    expect(schedule.alphas[0]).toBe(1 - b0);
    expect(schedule.alphasCumprod[0]).toBe(1 - b0); // 0.9999
    expect(schedule.alphasCumprod[1]).toBe((1 - b0) * (1 - b1));
    expectRelative(schedule.alphasCumprod[2], (1 - b0) * (1 - b1) * (1 - b2), 1e-15);
    expect(schedule.sqrtAlphasCumprod[1]).toBe(Math.sqrt((1 - b0) * (1 - b1)));
    expect(schedule.sqrtOneMinusAlphasCumprod[1]).toBe(Math.sqrt(1 - (1 - b0) * (1 - b1)));
  });

  it('matches PyTorch float64 cumprod (see the comment above)', () => {
    expectRelative(schedule.alphasCumprod[499], 0.07858724288177824, 1e-12);
    expectRelative(schedule.alphasCumprod[999], 4.035829765375676e-5, 1e-12);
  });

  it('accepts other options; T = 1 gives [betaStart]', () => {
    const short = linearBetaSchedule({ betaStart: 0.001, betaEnd: 0.01, trainTimesteps: 10 });
    expect(short.betas[0]).toBe(0.001);
    expect(short.betas[9]).toBe(0.01);
    expect(short.config).toEqual({ kind: 'linear', betaStart: 0.001, betaEnd: 0.01, trainTimesteps: 10 });
    expect(Array.from(linearBetaSchedule({ trainTimesteps: 1 }).betas)).toEqual([1e-4]);
  });
});

describe('cosineBetaSchedule (Nichol & Dhariwal 2021, eq. 17)', () => {
  const schedule = cosineBetaSchedule();
  // f(t) = cos²(((t/T + s)/(1 + s)) · π/2), written out here independently of the code.
  const f = (t: number, T = 1000, s = 0.008): number => Math.cos(((t / T + s) / (1 + s)) * (Math.PI / 2)) ** 2;

  it('β_t = 1 - ᾱ_{t+1}/ᾱ_t with ᾱ(t) = f(t)/f(0)', () => {
    expect(schedule.kind).toBe('cosine');
    // ᾱ(0) = 1, so β_0 = 1 - f(1)/f(0)
    expectRelative(schedule.betas[0], 1 - f(1) / f(0), 1e-12);
    expectRelative(schedule.betas[500], 1 - f(501) / f(500), 1e-12);
    expectRelative(schedule.betas[998], 0.7499993929011166, 1e-12);
    // ᾱ_t = ∏(1 - β) telescopes to f(t + 1)/f(0) while nothing is clipped
    expectRelative(schedule.alphasCumprod[0], f(1) / f(0), 1e-12);
    expectRelative(schedule.alphasCumprod[499], f(500) / f(0), 1e-10);
    expectRelative(schedule.alphasCumprod[499], 0.4938435904406382, 1e-12);
    expectRelative(schedule.alphasCumprod[998], 2.4287669070348544e-6, 1e-10);
  });

  it('clips β at maxBeta = 0.999 (only the last step, whose f(T) ≈ 0)', () => {
    expect(schedule.betas[999]).toBe(0.999);
    expect(schedule.betas.filter((b) => b === 0.999)).toHaveLength(1);
    expect(Math.max(...schedule.betas)).toBe(0.999);
    expectRelative(schedule.alphasCumprod[999], 2.4287669070348567e-9, 1e-9);
    // Unclipped, the last β would be 1 - f(1000)/f(999) with f(1000) = cos²(π/2) ≈ 0: above 0.999.
    expect(1 - f(1000) / f(999)).toBeGreaterThan(0.999);
    const clipped = cosineBetaSchedule({ maxBeta: 0.5 });
    expect(Math.max(...clipped.betas)).toBe(0.5);
    expect(clipped.betas[998]).toBe(0.5); // 0.7499… clipped
  });

  it('honours s and trainTimesteps', () => {
    const small = cosineBetaSchedule({ trainTimesteps: 10, s: 0.1 });
    expect(small.betas).toHaveLength(10);
    expectRelative(small.betas[3], 1 - f(4, 10, 0.1) / f(3, 10, 0.1), 1e-12);
    expect(small.config).toEqual({ kind: 'cosine', trainTimesteps: 10, s: 0.1, maxBeta: 0.999 });
  });
});

describe.each<[string, NoiseSchedule]>([
  ['linear', linearBetaSchedule()],
  ['cosine', cosineBetaSchedule()],
  ['short linear', linearBetaSchedule({ trainTimesteps: 50, betaStart: 0.001, betaEnd: 0.2 })],
  ['short cosine', cosineBetaSchedule({ trainTimesteps: 20 })],
])('%s schedule invariants', (_name, schedule) => {
  it('ᾱ is strictly decreasing in (0, 1), β in (0, 1), arrays consistent', () => {
    const T = schedule.trainTimesteps;
    for (const array of [schedule.betas, schedule.alphas, schedule.alphasCumprod, schedule.sqrtAlphasCumprod, schedule.sqrtOneMinusAlphasCumprod]) {
      expect(array).toHaveLength(T);
    }
    for (let t = 0; t < T; t++) {
      const beta = schedule.betas[t] as number;
      const cumprod = schedule.alphasCumprod[t] as number;
      expect(beta > 0 && beta < 1).toBe(true);
      expect(schedule.alphas[t]).toBe(1 - beta);
      expect(cumprod > 0 && cumprod < 1).toBe(true);
      if (t > 0) expect(cumprod).toBeLessThan(schedule.alphasCumprod[t - 1] as number);
      // √ᾱ² + √(1-ᾱ)² = 1
      expect((schedule.sqrtAlphasCumprod[t] as number) ** 2 + (schedule.sqrtOneMinusAlphasCumprod[t] as number) ** 2).toBeCloseTo(1, 12);
    }
  });

  it('rebuilds from its config', () => {
    const rebuilt = noiseScheduleFromConfig(JSON.parse(JSON.stringify(schedule.config)) as NoiseScheduleConfig);
    expect(rebuilt.betas).toEqual(schedule.betas);
    expect(rebuilt.alphasCumprod).toEqual(schedule.alphasCumprod);
  });
});

describe('noiseScheduleFromConfig', () => {
  it('builds each kind with defaults', () => {
    expect(noiseScheduleFromConfig({ kind: 'linear' }).betas).toEqual(linearBetaSchedule().betas);
    expect(noiseScheduleFromConfig({ kind: 'cosine', trainTimesteps: 100 }).betas).toEqual(cosineBetaSchedule({ trainTimesteps: 100 }).betas);
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'expected an object'],
    ['unknown kind', { kind: 'sigmoid' }, 'kind must be "linear", "cosine", "scaled-linear" or "betas", got "sigmoid"'],
    ['unknown field', { kind: 'linear', beta_start: 0.001 }, 'unknown field "beta_start"'],
    ['cosine field on linear', { kind: 'linear', s: 0.1 }, 'unknown field "s"'],
  ])('rejects %s with INVALID_OPTION', (_name, config, fragment) => {
    const error = errorOf(() => noiseScheduleFromConfig(config as NoiseScheduleConfig));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain(fragment);
  });
});

describe('option validation names the field', () => {
  it.each<[string, () => unknown, string]>([
    ['trainTimesteps 0', () => linearBetaSchedule({ trainTimesteps: 0 }), 'trainTimesteps'],
    ['trainTimesteps 1.5', () => cosineBetaSchedule({ trainTimesteps: 1.5 }), 'trainTimesteps'],
    ['betaStart 0', () => linearBetaSchedule({ betaStart: 0 }), 'betaStart'],
    ['betaStart NaN', () => linearBetaSchedule({ betaStart: Number.NaN }), 'betaStart'],
    ['betaEnd 1', () => linearBetaSchedule({ betaEnd: 1 }), 'betaEnd'],
    ['betaEnd < betaStart', () => linearBetaSchedule({ betaStart: 0.02, betaEnd: 0.01 }), 'betaEnd'],
    ['s negative', () => cosineBetaSchedule({ s: -0.1 }), 's must be'],
    ['s infinite', () => cosineBetaSchedule({ s: Number.POSITIVE_INFINITY }), 's must be'],
    ['maxBeta 1', () => cosineBetaSchedule({ maxBeta: 1 }), 'maxBeta'],
    ['maxBeta 0', () => cosineBetaSchedule({ maxBeta: 0 }), 'maxBeta'],
  ])('%s', (_name, build, field) => {
    const error = errorOf(build);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain(field);
  });
});
