import { referenceOps, referenceTensor, type ReferenceTensor } from '@levelskip/core/testing';
import { describe, expect, it } from 'vitest';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, type Sampler } from '../../src/index.js';

/*
 * Golden single steps from an independent reference: scripts/dev/sampler-reference.py
 * (`golden_steps()`), float64 numpy written from the papers (DDIM eq. 12/16, DDPM eq. 11 with the
 * jump α's, DPM-Solver++ Algorithm 2 in its r_i form, Song & Ermon Algorithm 1 in x̃ = x/√ᾱ),
 * with the linear schedule β = linspace(1e-4, 0.02, 1000) in float64. Regenerate with
 *   /usr/bin/python3 scripts/dev/sampler-reference.py   (the "steps" entries)
 * Fixed inputs: x = [0.3, -1.2, 0.75, 2.0], ε = [0.1, -0.5, 0.9, -1.3], ε₂ = [-0.4, 0.25, 0.6, 1.1],
 * z = [0.5, -1.0, 1.5, 0.2] (the noise every noisy step draws).
 */
const golden = {
  ddimEta0: [0.44714803402037034, -1.7124318260094564, 0.6228280695827643, 4.478806324885625],
  ddimEta1: [0.8032240577112237, -2.2971599369951354, 1.4362082678632693, 5.190396983597556],
  ddimFinal: [0.2990149511213435, -1.195059754481624, 0.7410370527789822, 2.0131006575493786],
  ddimClipped: [0.3749519422864889, -0.7590776178948713, 0.6228280695827643, -0.9694879223428493],
  ddpmSmall: [0.8032240577112236, -2.2971599369951354, 1.4362082678632693, 5.190396983597555],
  ddpmLarge: [0.814354629943173, -2.3194210814590344, 1.4695999845591172, 5.194849212490334],
  ddpmSmallFirst: [0.3717360665047347, -1.3435026221656692, 0.9515632426811191, 2.074853844862282],
  ddpmSmallClipped: [0.7534831079928548, -1.640327377354397, 1.4362082678632693, 1.436685062442569],
  dpmFirstOrder: [0.622258352324176, -2.327891495525966, 0.5082234413006458, 7.317513319652346],
  dpmSecondOrder: [2.316394511802273, -6.288905792590918, 0.5657337808693002, 14.309170232610676],
  dpmSigmaMinFirst: [0.28384465960422994, -1.1021543798568962, 0.49365396837042186, 2.5457081490419964],
  dpmSigmaMinSecond: [0.8570136762553333, -1.961481628954983, 0.6183580375032075, 0.7173515843225661],
  langevin: [1.0354061281273574, -2.5675335717802663, 2.7496610154331753, 2.7554739085701465],
};

const shape = [1, 1, 2, 2];
// Built from float64 arrays directly, so the inputs are exactly the reference's.
const tensor = (values: number[]): ReferenceTensor => referenceTensor(shape, values);
const x = tensor([0.3, -1.2, 0.75, 2.0]);
const eps = tensor([0.1, -0.5, 0.9, -1.3]);
const eps2 = tensor([-0.4, 0.25, 0.6, 1.1]);
const z = [0.5, -1.0, 1.5, 0.2];

interface Drawn {
  draws: number;
}

/** Runs steps `from..from+inputs.length-1` of a fresh run: each with its (x, ε), x chained from the previous step. */
async function runSteps(sampler: Sampler, from: number, epsList: ReferenceTensor[], drawn: Drawn = { draws: 0 }): Promise<number[]> {
  const run = sampler.createRun(referenceOps);
  const noise = (): ReferenceTensor => {
    drawn.draws++;
    return tensor(z);
  };
  let current = x;
  for (const [i, e] of epsList.entries()) current = await run.step(current, e, from + i, noise);
  run.dispose();
  return Array.from(current.data);
}

function expectClose(actual: number[], expected: number[], tolerance = 1e-12): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - (expected[i] as number))).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected[i] as number))));
}

describe('DDIM step (Song et al. 2021, eq. 12)', () => {
  it('η = 0, t = 600 → 500 (index 3 of 10 leading steps)', async () => {
    const sampler = ddim({ steps: 10, eta: 0 });
    expect(sampler.timesteps.slice(3, 5)).toEqual([600, 500]);
    const drawn = { draws: 0 };
    expectClose(await runSteps(sampler, 3, [eps], drawn), golden.ddimEta0);
    expect(drawn.draws).toBe(0);
  });

  it('η = 1 adds σ_t z with σ_t of eq. 16', async () => {
    const drawn = { draws: 0 };
    expectClose(await runSteps(ddim({ steps: 10, eta: 1 }), 3, [eps], drawn), golden.ddimEta1);
    expect(drawn.draws).toBe(1);
  });

  it('the last step lands on ᾱ = 1 and returns x̂₀, drawing no noise even for η = 1', async () => {
    const drawn = { draws: 0 };
    expectClose(await runSteps(ddim({ steps: 10, eta: 1 }), 9, [eps], drawn), golden.ddimFinal);
    expect(drawn.draws).toBe(0);
  });

  it('clipSample clamps x̂₀ to [-1, 1] and keeps the model ε', async () => {
    expectClose(await runSteps(ddim({ steps: 10, clipSample: true }), 3, [eps]), golden.ddimClipped);
  });
});

describe('DDPM step (Ho et al. 2020, eq. 11 with diffusers jumps)', () => {
  it("fixed_small over the jump 600 → 500 equals DDIM η = 1's step", async () => {
    expectClose(await runSteps(ddpm({ steps: 10, varianceType: 'fixed_small' }), 3, [eps]), golden.ddpmSmall);
  });

  it('fixed_large uses σ² = β̂ = 1 - ᾱ_600/ᾱ_500', async () => {
    expectClose(await runSteps(ddpm({ steps: 10, varianceType: 'fixed_large' }), 3, [eps]), golden.ddpmLarge);
  });

  it('the full chain starts with 999 → 998', async () => {
    const sampler = ddpm();
    expect(sampler.timesteps).toHaveLength(1000);
    expect(sampler.timesteps.slice(0, 2)).toEqual([999, 998]);
    expectClose(await runSteps(sampler, 0, [eps]), golden.ddpmSmallFirst);
  });

  it('adds no noise at t = 0', async () => {
    const drawn = { draws: 0 };
    await runSteps(ddpm(), 999, [eps], drawn);
    expect(drawn.draws).toBe(0);
  });

  it('clipSample clamps x̂₀ before the posterior mean (eq. 7)', async () => {
    expectClose(await runSteps(ddpm({ steps: 10, clipSample: true }), 3, [eps]), golden.ddpmSmallClipped);
  });
});

describe('DPM-Solver++ step (Lu et al. 2022, Algorithm 2)', () => {
  it('first order 999 → 899, then second order 899 → 799 (10 steps, linspace)', async () => {
    const sampler = dpmSolverPlusPlus({ steps: 10 });
    expect(sampler.timesteps.slice(0, 3)).toEqual([999, 899, 799]);
    expectClose(await runSteps(sampler, 0, [eps]), golden.dpmFirstOrder);
    expectClose(await runSteps(sampler, 0, [eps, eps2]), golden.dpmSecondOrder);
  });

  it("finalSigmasType 'sigma_min': first-order last step 100 → 0 with lowerOrderFinal, second order without", async () => {
    const first = dpmSolverPlusPlus({ steps: 10, finalSigmasType: 'sigma_min' });
    expectClose(await runSteps(first, 9, [eps]), golden.dpmSigmaMinFirst);
    const second = dpmSolverPlusPlus({ steps: 10, finalSigmasType: 'sigma_min', lowerOrderFinal: false });
    expectClose(await runSteps(second, 8, [eps, eps2]), golden.dpmSigmaMinSecond);
  });

  it('order 1 ignores the history: its step 1 is a fresh first-order step from x₁', async () => {
    const chained = await runSteps(dpmSolverPlusPlus({ steps: 10, order: 1 }), 0, [eps, eps2]);
    const run = dpmSolverPlusPlus({ steps: 10, order: 1 }).createRun(referenceOps);
    const fresh = await run.step(tensor(golden.dpmFirstOrder), eps2, 1, () => tensor(z));
    expectClose(chained, Array.from(fresh.data));
    expect(Math.abs((chained[3] as number) - (golden.dpmSecondOrder[3] as number))).toBeGreaterThan(0.1);
  });
});

describe('annealed Langevin step (Song & Ermon 2019, Algorithm 1)', () => {
  it('x̃ + (α_i/2)(-ε̂/σ_i) + √α_i z at level t = 500 of [500, 0], ε = 2e-5', async () => {
    const sampler = annealedLangevin({ noiseLevels: 2, stepsPerLevel: 1, stepSize: 2e-5, timestepSpacing: 'leading' });
    expect(sampler.timesteps).toEqual([500, 0]);
    expectClose(await runSteps(sampler, 0, [eps]), golden.langevin);
  });
});
