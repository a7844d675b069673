import { afterAll, describe, it } from 'vitest';
import { annealedLangevin, ddim, dpmSolverPlusPlus } from '../../src/index.js';
import { checkGaussian, report, type GaussianMeasurement } from './gaussian-check.js';

/*
 * Exact output laws for data N(μ, 0.8²) from scripts/dev/sampler-reference.py (`gaussian`
 * entries). The std tolerances against the data are each sampler's known discretisation error
 * at these step counts (the exact law), plus sampling error: few-step DDIM/DPM-Solver++ shrink
 * the variance (the last step returns the posterior mean E[x₀|x_t], whose spread is smaller),
 * and annealed Langevin inflates it (its last well-mixed level still carries σ_i² of noise).
 */
const rows: GaussianMeasurement[] = [];
afterAll(() => report(rows));

describe('DDIM, DPM-Solver++ and annealed Langevin reproduce Gaussian data (4096 samples, exact ε-predictor)', () => {
  it('DDIM η = 0, 50 steps', async () => {
    const exact = { meanPerUnitMu: 0.9941007570283326, std: 0.7677719723538654 };
    rows.push(await checkGaussian('ddim η=0', ddim({ steps: 50, eta: 0 }), exact, 0.06));
  });

  it('DDIM η = 1, 50 steps', async () => {
    const exact = { meanPerUnitMu: 0.9999622151881671, std: 0.7331680995270615 };
    rows.push(await checkGaussian('ddim η=1', ddim({ steps: 50, eta: 1 }), exact, 0.1));
  });

  it('DPM-Solver++(2M), 10 steps', async () => {
    const exact = { meanPerUnitMu: 0.9953586799234965, std: 0.7305923154929962 };
    rows.push(await checkGaussian('dpm-solver++ 2M', dpmSolverPlusPlus({ steps: 10 }), exact, 0.1));
  });

  it('DPM-Solver++(2M), 20 steps', async () => {
    const exact = { meanPerUnitMu: 0.994954062056318, std: 0.7942833989777605 };
    rows.push(await checkGaussian('dpm-solver++ 2M', dpmSolverPlusPlus({ steps: 20 }), exact, 0.02));
  });

  it('annealed Langevin, 30 levels × 20 steps, ε = 1e-4', async () => {
    const exact = { meanPerUnitMu: 1.0, std: 0.837860006721544 };
    rows.push(await checkGaussian('annealed Langevin', annealedLangevin({ noiseLevels: 30, stepsPerLevel: 20, stepSize: 1e-4 }), exact, 0.06));
  });
});
