import { cosineBetaSchedule, linearBetaSchedule } from '@levelskip/core';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, langevinLevels } from '../../src/index.js';
import { errorOf } from '../helpers/errors.js';

describe('sampler factories reject bad options at once, naming the option', () => {
  const cases: [string, () => unknown, string][] = [
    ['ddpm steps 0', () => ddpm({ steps: 0 }), 'steps'],
    ['ddpm steps > T', () => ddpm({ steps: 1001 }), 'steps'],
    ['ddpm varianceType', () => ddpm({ varianceType: 'learned' as never }), 'varianceType'],
    ['ddpm clipSample', () => ddpm({ clipSample: 1 as never }), 'clipSample'],
    ['ddpm clipSampleRange', () => ddpm({ clipSample: true, clipSampleRange: 0 }), 'clipSampleRange'],
    ['ddpm noiseSchedule', () => ddpm({ noiseSchedule: { kind: 'linear' } as never }), 'noiseSchedule'],
    ['ddpm misspelt option', () => ddpm({ variance_type: 'fixed_large' } as never), 'variance_type'],
    ['ddim eta < 0', () => ddim({ eta: -0.1 }), 'eta'],
    ['ddim eta > 1', () => ddim({ eta: 1.5 }), 'eta'],
    ['ddim eta NaN', () => ddim({ eta: Number.NaN }), 'eta'],
    ['ddim steps fractional', () => ddim({ steps: 12.5 }), 'steps'],
    ['ddim timestepSpacing', () => ddim({ timestepSpacing: 'even' as never }), 'timestepSpacing'],
    ['ddim stepsOffset negative', () => ddim({ stepsOffset: -1 }), 'stepsOffset'],
    ['ddim stepsOffset past T - 1', () => ddim({ steps: 10, stepsOffset: 100 }), 'stepsOffset'],
    ['ddim options not an object', () => ddim(5 as never), 'options'],
    ['dpm order 3', () => dpmSolverPlusPlus({ order: 3 as never }), 'order'],
    ['dpm steps = T', () => dpmSolverPlusPlus({ steps: 1000 }), 'steps'],
    ['dpm lowerOrderFinal', () => dpmSolverPlusPlus({ lowerOrderFinal: 'yes' as never }), 'lowerOrderFinal'],
    ['dpm finalSigmasType', () => dpmSolverPlusPlus({ finalSigmasType: 'min' as never }), 'finalSigmasType'],
    ['langevin stepSize 0', () => annealedLangevin({ stepSize: 0 }), 'stepSize'],
    ['langevin stepSize Infinity', () => annealedLangevin({ stepSize: Infinity }), 'stepSize'],
    ['langevin noiseLevels 0', () => annealedLangevin({ noiseLevels: 0 }), 'noiseLevels'],
    ['langevin stepsPerLevel 0', () => annealedLangevin({ stepsPerLevel: 0 }), 'stepsPerLevel'],
  ];
  for (const [name, make, field] of cases) {
    it(name, () => {
      const error = errorOf(make);
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain(field);
    });
  }
});

describe('sampler configuration', () => {
  it('uses diffusers-like defaults', () => {
    expect(ddpm().timesteps).toHaveLength(1000);
    expect(ddim().timesteps).toHaveLength(50);
    expect(ddim().timesteps[0]).toBe(980); // leading
    expect(dpmSolverPlusPlus().timesteps).toHaveLength(20);
    expect(dpmSolverPlusPlus().timesteps[0]).toBe(999); // linspace
    expect(annealedLangevin().timesteps).toHaveLength(10 * 100);
    expect(ddim().noiseSchedule.config).toEqual(linearBetaSchedule().config);
  });

  it('takes the noise schedule and T from noiseSchedule', () => {
    const cosine = cosineBetaSchedule({ trainTimesteps: 200 });
    const sampler = ddim({ steps: 10, timestepSpacing: 'trailing', noiseSchedule: cosine });
    expect(sampler.noiseSchedule).toBe(cosine);
    expect(sampler.timesteps).toEqual([199, 179, 159, 139, 119, 99, 79, 59, 39, 19]);
    expect(ddpm({ noiseSchedule: cosine }).timesteps).toHaveLength(200);
  });

  it('describes itself for logs', () => {
    expect(ddim({ steps: 10, eta: 0.5, timestepSpacing: 'trailing' }).description).toBe('ddim(steps=10, eta=0.5, spacing=trailing)');
    expect(dpmSolverPlusPlus({ steps: 15 }).description).toBe('dpm-solver++(2M)(steps=15, spacing=linspace, finalSigmas=zero)');
  });

  it('annealed Langevin: σ_t = √((1-ᾱ)/ᾱ) per level and α_i = ε σ_i²/σ_L² (Algorithm 1)', () => {
    const schedule = linearBetaSchedule();
    // ᾱ_999 = 4.035829765375676e-05 and ᾱ_0 = 1 - 1e-4 (PyTorch float64, see core's noise-schedule tests).
    const levels = langevinLevels(schedule, [999, 0], 2e-5);
    const first = levels[0]!;
    const last = levels[1]!;
    const sigma999 = Math.sqrt((1 - 4.035829765375676e-5) / 4.035829765375676e-5);
    const sigma0 = Math.sqrt(1e-4 / (1 - 1e-4));
    expect(first.sigma).toBeCloseTo(sigma999, 9);
    expect(last.sigma).toBeCloseTo(sigma0, 12);
    expect(last.stepSize).toBeCloseTo(2e-5, 15);
    expect(first.stepSize / 2e-5).toBeCloseTo((sigma999 / sigma0) ** 2, 3);
    expect(first.inputScale).toBeCloseTo(Math.sqrt(4.035829765375676e-5), 12);
  });
});
