import { afterAll, describe, it } from 'vitest';
import { ddpm } from '../../src/index.js';
import { checkGaussian, report, type GaussianMeasurement } from './gaussian-check.js';

/*
 * Exact output laws for data N(μ, 0.8²) from scripts/dev/sampler-reference.py (`gaussian`
 * entries; output mean = meanPerUnitMu·μ, std): every update is affine in x and the noises, so
 * the script propagates the output's Gaussian law exactly, discretisation error included.
 */
const rows: GaussianMeasurement[] = [];
afterAll(() => report(rows));

describe('DDPM reproduces Gaussian data (4096 samples of 1×4×4, exact ε-predictor)', () => {
  it("fixed_small (σ² = β̃), the full 1000-step chain of Algorithm 2", async () => {
    const exact = { meanPerUnitMu: 0.9999741703142234, std: 0.7957923272475957 };
    rows.push(await checkGaussian('ddpm fixed_small', ddpm({ varianceType: 'fixed_small' }), exact, 0.02));
  });

  it('fixed_large (σ² = β), 250 steps with the diffusers jumps', async () => {
    const exact = { meanPerUnitMu: 0.9999725580602071, std: 0.8014450421956087 };
    rows.push(await checkGaussian('ddpm fixed_large', ddpm({ steps: 250, varianceType: 'fixed_large' }), exact, 0.02));
  });
});
