import { constantSchedule, powerSchedule, stageSchedule } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, sample } from '../../src/index.js';
import { recordingDenoiser } from '../helpers/recording-denoiser.js';

/*
 * Eq. (1) of Giladi et al., k(t) = min(N - 1, ⌊N - N(1 - t)^c⌋), by hand for N = 4, c = 2,
 * t = timestep / 1000:
 *
 * DDIM-10, leading (900, 800, …, 0):
 *   t = 0.9: 4 - 4·0.01 = 3.96 → 3     t = 0.4: 4 - 4·0.36 = 2.56 → 2
 *   t = 0.8: 4 - 4·0.04 = 3.84 → 3     t = 0.3: 4 - 4·0.49 = 2.04 → 2
 *   t = 0.7: 4 - 4·0.09 = 3.64 → 3     t = 0.2: 4 - 4·0.64 = 1.44 → 1
 *   t = 0.6: 4 - 4·0.16 = 3.36 → 3     t = 0.1: 4 - 4·0.81 = 0.76 → 0
 *   t = 0.5: 4 - 4·0.25 = 3    → 3     t = 0:   4 - 4      = 0    → 0
 *
 * DDIM-10, trailing (999, 899, …, 99): the same except
 *   t = 0.499: 4 - 4·0.501² = 4 - 1.004004 = 2.995996 → 2 (not 3)
 *   t = 0.199: 4 - 4·0.801² = 4 - 2.566404 = 1.433596 → 1
 *   t = 0.099: 4 - 4·0.901² = 4 - 3.247204 = 0.752796 → 0
 * and t = 0.299: 4 - 4·0.701² = 2.034404 → 2, t = 0.399: 4 - 4·0.601² = 2.555196 → 2.
 */
describe('the skip schedule drives k at every step', () => {
  it('DDIM-10 (leading) with power c = 2 on a 4-level model asks for eq. (1)', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const result = await sample({ denoiser, sampler: ddim({ steps: 10 }), skip: powerSchedule({ c: 2 }), seed: 1 });
    const expected = [3, 3, 3, 3, 3, 2, 2, 1, 0, 0];
    expect(denoiser.calls.map((call) => call.options?.k)).toEqual(expected);
    expect(denoiser.calls.map((call) => call.timesteps)).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(result.ks).toEqual(expected);
    expect(result.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  });

  it('DDIM-10 (trailing) with power c = 2 evaluates k at the trailing timesteps', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const result = await sample({ denoiser, sampler: ddim({ steps: 10, timestepSpacing: 'trailing' }), skip: powerSchedule({ c: 2 }), seed: 1 });
    expect(denoiser.calls.map((call) => call.options?.k)).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 1, 0]);
    expect(result.ks).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 1, 0]);
  });

  it('annealed Langevin asks each level once per Langevin step, at its level timestep', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    // Levels 999, 500, 0 (linspace); stage table: t < 0.5 → 0, else 2.
    const skip = stageSchedule([
      { tStart: 0, tEnd: 0.5, k: 0 },
      { tStart: 0.5, tEnd: 1, k: 2 },
    ]);
    const result = await sample({ denoiser, sampler: annealedLangevin({ noiseLevels: 3, stepsPerLevel: 2 }), skip, seed: 1 });
    expect(result.timesteps).toEqual([999, 999, 500, 500, 0, 0]);
    expect(result.ks).toEqual([2, 2, 2, 2, 0, 0]);
    expect(denoiser.calls.map((call) => call.options?.k)).toEqual([2, 2, 2, 2, 0, 0]);
  });

  it('without a schedule every step runs the full network (k = 0)', async () => {
    const denoiser = recordingDenoiser(referenceOps);
    const result = await sample({ denoiser, sampler: ddim({ steps: 5 }), seed: 1 });
    expect(result.ks).toEqual([0, 0, 0, 0, 0]);
    const constant = await sample({ denoiser, sampler: ddim({ steps: 5 }), skip: constantSchedule(1), seed: 1 });
    expect(constant.ks).toEqual([1, 1, 1, 1, 1]);
  });
});
