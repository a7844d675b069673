/**
 * A diffusers scheduler's sampler details (model.json `sampling`: timestep spacing, steps offset,
 * clip range, DDPM variance, as core's schedulerFromDiffusersConfig writes them) reach the sampler
 * the pipeline builds, when it is the recommended one.
 */
import { parseUNetSpec, type RecommendedSampling } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { modelSampling, resolveSampling } from '../src/pipeline/sampling-settings.js';

const spec = parseUNetSpec(tinySpecs.resnet);
const model = (recommended: RecommendedSampling) => modelSampling(spec, recommended, undefined, 'model.json', 'CHECKPOINT_CORRUPT');

describe('diffusers scheduler details in the pipeline', () => {
  it("DDIM with trailing spacing runs diffusers' trailing timesteps (999, 899, …, 99)", () => {
    const resolved = resolveSampling(model({ sampler: 'ddim', steps: 10, eta: 0, clip: false, timestepSpacing: 'trailing' }), {});
    expect(resolved.sampler.timesteps).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });

  it('leading spacing with steps offset 1 (901, 801, …, 1); another sampler keeps its defaults', () => {
    const recommended: RecommendedSampling = { sampler: 'ddim', steps: 10, stepsOffset: 1 };
    expect(resolveSampling(model(recommended), {}).sampler.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(resolveSampling(model(recommended), { sampler: 'ddpm', steps: 10 }).sampler.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  });

  it("a DDPM recommendation's variance is the sampler's: σ_t² = β_t with fixed_large", () => {
    const small = resolveSampling(model({ sampler: 'ddpm', steps: 1000 }), {}).sampler.description;
    const large = resolveSampling(model({ sampler: 'ddpm', steps: 1000, varianceType: 'fixed_large' }), {}).sampler.description;
    expect(small).not.toBe(large);
    expect(large).toContain('fixed_large');
  });
});
