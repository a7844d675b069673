/**
 * How much an error in the ε prediction at step i moves the final sample: the weights w_i of the
 * calibrated schedule's objective Σ_i w_i · err_i(k_i).
 *
 * Derivation. Every sampler here updates linearly in the sample and the prediction,
 *
 *   x_{i+1} = a_i x_i + b_i ε̂_i (+ σ_i z_i),
 *
 * where step i goes from timestep t = t_i to s = t_{i+1} (s = −1 and ᾱ_s = 1 after the last step,
 * as the samplers do), and z_i is noise that does not depend on ε̂.
 *
 * - DDIM (Song, Meng & Ermon 2021, eq. 12 with σ_t of eq. 16; η ≥ 0):
 *     x_s = √ᾱ_s x̂₀ + √(1 − ᾱ_s − σ²) ε̂ + σ z,   x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t
 *   so a_i = √ᾱ_s/√ᾱ_t and b_i = √(1 − ᾱ_s − σ²) − √ᾱ_s √(1 − ᾱ_t)/√ᾱ_t: an error δε at step i moves
 *   x_s by δx_s = b_i δε. For η > 0 this is the deterministic part; the noise σz does not depend on ε̂.
 * - DDPM (Ho et al. 2020, eq. 11, written as diffusers does for fewer steps than T, with
 *   α̂ = ᾱ_t/ᾱ_s and β̂ = 1 − α̂): x_s = (x_t − β̂/√(1 − ᾱ_t) ε̂)/√α̂ + σ z, so a_i = 1/√α̂ = √ᾱ_s/√ᾱ_t
 *   (as for DDIM) and b_i = −β̂/(√α̂ √(1 − ᾱ_t)).
 * - DPM-Solver++: its first-order update is DDIM with η = 0 (Lu et al. 2022, eq. 9); the weights of
 *   DDIM η = 0 on its timesteps are used for the second-order multistep method as well.
 *
 * To first order, δx_s is carried to the end by the linear map of the later steps, their Jacobian
 *
 *   ∂x_{j+1}/∂x_j = a_j + b_j ∂ε̂/∂x,
 *
 * which needs the model's Jacobian ∂ε̂/∂x. The documented simplification: it is that of the ideal
 * denoiser for Gaussian data x₀ ~ N(μ, s² I), whose ε̂(x_t) = E[ε | x_t] = √(1 − ᾱ_t)(x_t − √ᾱ_t μ)/v_t
 * with v_t = ᾱ_t s² + 1 − ᾱ_t, so ∂ε̂/∂x = √(1 − ᾱ_t)/v_t · I and
 *
 *   g_j = a_j + b_j √(1 − ᾱ_{t_j})/v_{t_j},    δx_final = (Π_{j>i} g_j) · b_i · δε,    w_i = (b_i Π_{j>i} g_j)².
 *
 * s² is the data's per-pixel variance (`calibrate` measures it on the held-out images; default 1).
 * The later steps then contract an early error as a real sampler does (a perturbation of a noisy
 * sample is mostly re-denoised), instead of carrying it unchanged. With s² = 1 and DDIM η = 0,
 * g_j = cos(θ_s − θ_t) for ᾱ = cos²θ. The limit s² → ∞ holds the prediction fixed (∂ε̂/∂x = 0):
 * then Π g_j telescopes to 1/√ᾱ_s and DDIM η = 0 gives w_i = (σ̄_t − σ̄_s)² with σ̄ = √((1 − ᾱ)/ᾱ),
 * the step length of the probability-flow ODE in x/√ᾱ, which weighs the noisiest steps by ~1/ᾱ and
 * would forbid skipping exactly where it is harmless. Errors of different steps are summed as if
 * uncorrelated (squared norms add).
 *
 * Measured instead: a real sampler on a real model often does not contract an early error; it can
 * amplify it (a perturbation at high noise changes the trajectory, hence the sample). Given the
 * measured P(s) = E‖δx_final‖²/‖δx_s‖² (`propagation`, from `measurePropagation` in
 * @levelskip/samplers, stored in the calibration table), w_i = b_i² P(s_i): the same first-order
 * chain, with the later steps' map measured rather than modelled.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import type { NoiseSchedule } from '../../noise/noise-schedule.js';

/** The samplers whose weights are derived (the CLI's `--sampler` names, and the samplers package's kinds). */
export type CalibratedSamplerKind = 'ddim' | 'ddpm' | 'dpm-solver';

/** Sampler names accepted for each kind. */
const samplerAliases: Readonly<Record<string, CalibratedSamplerKind>> = {
  ddim: 'ddim',
  ddpm: 'ddpm',
  'dpm-solver': 'dpm-solver',
  'dpm-solver++': 'dpm-solver',
  dpmSolverPlusPlus: 'dpm-solver',
};

/** Reads a sampler name (`ddim`, `ddpm`, `dpm-solver`, or the samplers package's `dpmSolverPlusPlus`). */
export function calibratedSamplerKind(name: unknown): CalibratedSamplerKind {
  const kind = typeof name === 'string' ? samplerAliases[name] : undefined;
  if (kind === undefined) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `calibrated schedule: sampler ${JSON.stringify(name) ?? String(name)} has no derived error weights; use ddim, ddpm or dpm-solver (annealed Langevin is not supported)`,
      { issues: [{ path: ['sampler'], message: 'must be ddim, ddpm or dpm-solver' }] },
    );
  }
  return kind;
}

export interface ErrorWeightOptions {
  readonly sampler: CalibratedSamplerKind;
  /** DDIM's η in [0, 1] (default 0). */
  readonly eta?: number;
  readonly noiseSchedule: NoiseSchedule;
  /** The diffusion timestep of each step, in step order (decreasing), e.g. a sampler's `timesteps`. */
  readonly timesteps: readonly number[];
  /** s², the per-pixel variance of the data (> 0; `Infinity` holds the prediction fixed). Default 1. */
  readonly dataVariance?: number;
  /**
   * Measured propagation instead of the Gaussian-data model: P(s) = E‖δx_final‖²/‖δx_s‖² for a
   * perturbation of the sample at timestep s (s = −1: the final sample, P = 1); then w_i = b_i² P(s_i).
   */
  readonly propagation?: (timestep: number) => number;
}

/** ᾱ at timestep t; 1 after the last step (t = −1). */
function alphaBar(schedule: NoiseSchedule, t: number): number {
  return t < 0 ? 1 : (schedule.alphasCumprod[t] as number);
}

/** a_i and b_i of one step t → s (see the file comment). */
export function stepCoefficients(sampler: CalibratedSamplerKind, schedule: NoiseSchedule, t: number, s: number, eta = 0): { readonly a: number; readonly b: number } {
  const abT = alphaBar(schedule, t);
  const abS = alphaBar(schedule, s);
  const a = Math.sqrt(abS) / Math.sqrt(abT);
  if (sampler === 'ddpm') {
    const alphaHat = abT / abS;
    return { a, b: -(1 - alphaHat) / (Math.sqrt(alphaHat) * Math.sqrt(1 - abT)) };
  }
  const etaUsed = sampler === 'ddim' ? eta : 0;
  const sigma = etaUsed * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(1 - abT / abS);
  return { a, b: Math.sqrt(Math.max(0, 1 - abS - sigma * sigma)) - (Math.sqrt(abS) * Math.sqrt(1 - abT)) / Math.sqrt(abT) };
}

/**
 * The weight w_i of each step: the squared factor by which an ε error at step i reaches the final
 * sample, to first order (see the file comment for the derivation and its simplification).
 *
 * @throws LevelskipError `INVALID_OPTION` for timesteps that are not decreasing integers in
 *   [0, T − 1] or an η outside [0, 1].
 */
export function errorWeights(options: ErrorWeightOptions): number[] {
  const { sampler, noiseSchedule, timesteps } = options;
  const eta = options.eta ?? 0;
  const T = noiseSchedule.trainTimesteps;
  if (!(typeof eta === 'number' && eta >= 0 && eta <= 1)) {
    throw new LevelskipError('INVALID_OPTION', `calibrated schedule: eta must be a number in [0, 1] (DDIM's η), got ${String(eta)}`, { issues: [{ path: ['eta'], message: 'must be in [0, 1]' }] });
  }
  const valid = timesteps.length > 0 && timesteps.every((t, i) => Number.isInteger(t) && t >= 0 && t < T && (i === 0 || t < timesteps[i - 1]!));
  if (!valid) {
    throw new LevelskipError('INVALID_OPTION', `calibrated schedule: steps must be a non-empty list of decreasing integer timesteps in [0, ${T - 1}] (a sampler's timesteps, in step order)`, {
      issues: [{ path: ['steps'], message: 'must be decreasing timesteps' }],
    });
  }
  const variance = options.dataVariance ?? 1;
  if (!(typeof variance === 'number' && variance > 0)) {
    throw new LevelskipError('INVALID_OPTION', `calibrated schedule: dataVariance must be a number > 0 (the data's per-pixel variance, or Infinity), got ${String(variance)}`, {
      issues: [{ path: ['dataVariance'], message: 'must be > 0' }],
    });
  }
  const n = timesteps.length;
  const weights = new Array<number>(n);
  if (options.propagation !== undefined) {
    for (let i = 0; i < n; i++) {
      const s = timesteps[i + 1] ?? -1;
      const { b } = stepCoefficients(sampler, noiseSchedule, timesteps[i]!, s, eta);
      weights[i] = b * b * (s < 0 ? 1 : options.propagation(s));
    }
    return weights;
  }
  // Π_{j>i} g_j, accumulated from the last step backwards.
  let carried = 1;
  for (let i = n - 1; i >= 0; i--) {
    const t = timesteps[i]!;
    const { a, b } = stepCoefficients(sampler, noiseSchedule, t, timesteps[i + 1] ?? -1, eta);
    weights[i] = (b * carried) ** 2;
    const abT = alphaBar(noiseSchedule, t);
    // ∂ε̂/∂x of the ideal Gaussian-data denoiser; 0 when s² = ∞.
    const jacobian = variance === Number.POSITIVE_INFINITY ? 0 : Math.sqrt(1 - abT) / (abT * variance + 1 - abT);
    carried *= a + b * jacobian;
  }
  return weights;
}
