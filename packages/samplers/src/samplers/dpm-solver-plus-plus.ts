/**
 * DPM-Solver++(2M): Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided
 * Sampling of Diffusion Probabilistic Models" (2022), Algorithm 2 (multistep second order, data
 * prediction), for sampling in 10–25 steps. Matches 🤗 diffusers' DPMSolverMultistepScheduler
 * with algorithm_type='dpmsolver++', solver_type='midpoint' and its default final_sigmas_type='zero'.
 *
 * The diffusion ODE in the VP notation x_t = α_t x₀ + σ_t ε with α_t = √ᾱ_t, σ_t = √(1 - ᾱ_t)
 * and half-log-SNR λ_t = log(α_t/σ_t), solved for the data prediction
 * x_θ(x_t, t) = (x_t - σ_t ε_θ(x_t, t))/α_t (eq. 8). From t_{i-1} to t_i, h_i = λ_{t_i} - λ_{t_{i-1}}:
 *
 *   first order (DPM-Solver++1, = DDIM with η = 0; eq. 9):
 *     x̃_{t_i} = (σ_{t_i}/σ_{t_{i-1}}) x̃_{t_{i-1}} - α_{t_i} (e^{-h_i} - 1) x_θ(x̃_{t_{i-1}}, t_{i-1})
 *   second order (Algorithm 2), r_i = h_{i-1}/h_i:
 *     D_i = (1 + 1/(2r_i)) x_θ(x̃_{t_{i-1}}, t_{i-1}) - 1/(2r_i) x_θ(x̃_{t_{i-2}}, t_{i-2})
 *     x̃_{t_i} = (σ_{t_i}/σ_{t_{i-1}}) x̃_{t_{i-1}} - α_{t_i} (e^{-h_i} - 1) D_i
 *
 * which is diffusers' midpoint form D₀ + ½D₁ with D₁ = (m₀ - m₁)/r₀. The first step is first order
 * (no history yet), and so is the last when `lowerOrderFinal` and steps < 15, or when it goes to
 * σ = 0 (`finalSigmasType: 'zero'`), exactly as diffusers decides. Going to σ = 0 (α = 1, λ = ∞,
 * e^{-h} = 0) the first-order step returns x_θ itself.
 */
import type { NoiseSchedule, TensorOps } from '@levelskip/core';
import { epsilonTerms, linearCombination, type Term } from '../linear-combination.js';
import type { NoiseDraw, Sampler, SamplerRun } from '../sampler.js';
import { alphaCumprodAt, checkBoolean, checkChoice, checkInteger, checkNoiseSchedule, checkOptionKeys, checkSpacing } from '../sampler-options.js';
import { dpmSolverTimesteps, type TimestepSpacing } from '../timesteps.js';

/** Where the last step lands (diffusers' `final_sigmas_type`): σ = 0, or σ of training timestep 0. */
export type FinalSigmasType = 'zero' | 'sigma_min';

export const finalSigmasTypes: readonly FinalSigmasType[] = ['zero', 'sigma_min'];

export interface DpmSolverPlusPlusOptions {
  /** Number of steps (model evaluations), in [1, T - 1]. Default 20. */
  readonly steps?: number;
  /** 1 (DPM-Solver++1, equivalent to DDIM) or 2 (DPM-Solver++(2M), default). */
  readonly order?: 1 | 2;
  /** Default `'linspace'` (diffusers' DPMSolverMultistepScheduler default). */
  readonly timestepSpacing?: TimestepSpacing;
  /** Default 0. */
  readonly stepsOffset?: number;
  /** First order for the last step when steps < 15, which stabilises few-step sampling. Default true. */
  readonly lowerOrderFinal?: boolean;
  /** Default `'zero'`: the last step lands on σ = 0 and is always first order (so returns x_θ). */
  readonly finalSigmasType?: FinalSigmasType;
  /** The schedule the model was trained with; default DDPM's linear schedule (T = 1000). */
  readonly noiseSchedule?: NoiseSchedule;
}

const NAME = 'dpmSolverPlusPlus';
const KEYS = ['steps', 'order', 'timestepSpacing', 'stepsOffset', 'lowerOrderFinal', 'finalSigmasType', 'noiseSchedule'];

/** α, σ and λ = log(α/σ) of the VP process at one point; σ = 0 gives λ = ∞. */
interface VpPoint {
  readonly alpha: number;
  readonly sigma: number;
  readonly lambda: number;
}

function vpPoint(alphaBar: number): VpPoint {
  const alpha = Math.sqrt(alphaBar);
  const sigma = Math.sqrt(1 - alphaBar);
  return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
}

/** The scalars of one step from `from` (where the model is evaluated) to `to`. */
export interface DpmSolverStep {
  /** x_θ = x0FromX·x - x0FromEps·ε (eq. 8). */
  readonly x0FromX: number;
  readonly x0FromEps: number;
  /** σ_to/σ_from: the weight of the current sample. */
  readonly xScale: number;
  /** -α_to·(e^{-h} - 1) ≥ 0: the weight of D. */
  readonly dScale: number;
  /** h = λ_to - λ_from. */
  readonly h: number;
  /** Whether this step uses the first-order update. */
  readonly firstOrder: boolean;
  /** Whether it lands on σ = 0, where the update is x_θ itself. */
  readonly toZero: boolean;
}

/**
 * The per-step scalars of DPM-Solver++ over `timesteps` (model evaluations, largest first),
 * with diffusers' choice of order at each step.
 */
export function dpmSolverSteps(
  schedule: NoiseSchedule,
  timesteps: readonly number[],
  order: 1 | 2,
  lowerOrderFinal: boolean,
  finalSigmasType: FinalSigmasType,
): readonly DpmSolverStep[] {
  const n = timesteps.length;
  return timesteps.map((t, i) => {
    const from = vpPoint(alphaCumprodAt(schedule, t));
    const next = timesteps[i + 1];
    const toZero = next === undefined && finalSigmasType === 'zero';
    const to = toZero ? { alpha: 1, sigma: 0, lambda: Infinity } : vpPoint(alphaCumprodAt(schedule, next ?? 0));
    const h = to.lambda - from.lambda;
    const lowerOrderHere = i === n - 1 && ((lowerOrderFinal && n < 15) || finalSigmasType === 'zero');
    return {
      x0FromX: 1 / from.alpha,
      x0FromEps: from.sigma / from.alpha,
      xScale: to.sigma / from.sigma,
      // expm1 keeps e^{-h} - 1 accurate for the small h of many-step runs.
      dScale: toZero ? 1 : -to.alpha * Math.expm1(-h),
      h,
      firstOrder: order === 1 || i === 0 || lowerOrderHere,
      toZero,
    };
  });
}

/**
 * DPM-Solver++ (Lu et al. 2022, Algorithm 2): multistep, data prediction, 2M by default.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when one is out of range or unknown.
 *
 * @example
 * ```ts
 * const sampler = dpmSolverPlusPlus({ steps: 20 }); // 2M, linspace, like diffusers' default
 * ```
 */
export function dpmSolverPlusPlus(options: DpmSolverPlusPlusOptions = {}): Sampler {
  checkOptionKeys(NAME, options, KEYS);
  const noiseSchedule = checkNoiseSchedule(NAME, options.noiseSchedule);
  const T = noiseSchedule.trainTimesteps;
  const steps = checkInteger(NAME, 'steps', options.steps ?? 20, 1, T - 1);
  const order = checkInteger(NAME, 'order', options.order ?? 2, 1, 2) as 1 | 2;
  const timestepSpacing = checkSpacing(NAME, options.timestepSpacing ?? 'linspace');
  const stepsOffset = checkInteger(NAME, 'stepsOffset', options.stepsOffset ?? 0, 0);
  const lowerOrderFinal = checkBoolean(NAME, 'lowerOrderFinal', options.lowerOrderFinal ?? true);
  const finalSigmasType = checkChoice(NAME, 'finalSigmasType', options.finalSigmasType ?? 'zero', finalSigmasTypes);
  const timesteps = dpmSolverTimesteps({ trainTimesteps: T, steps, timestepSpacing, stepsOffset });
  const plan = dpmSolverSteps(noiseSchedule, timesteps, order, lowerOrderFinal, finalSigmasType);
  const name = order === 2 ? 'dpm-solver++(2M)' : 'dpm-solver++(1)';

  return Object.freeze({
    kind: 'dpm-solver++',
    description: `${name}(steps=${steps}, spacing=${timestepSpacing}, finalSigmas=${finalSigmasType})`,
    noiseSchedule,
    timesteps,
    createRun<T>(ops: TensorOps<T>): SamplerRun<T> {
      // The multistep history: x_θ of the previous step and its h.
      let previousX0: T | undefined;
      let previousH = 0;
      const forget = (): void => {
        if (previousX0 !== undefined) ops.dispose(previousX0);
        previousX0 = undefined;
      };
      return {
        initialSample: (z) => ops.clone(z),
        modelInputScale: () => 1,
        async step(x: T, eps: T, index: number, _noise?: NoiseDraw<T>, epsilon?: readonly Term<T>[]): Promise<T> {
          const p = plan[index] as DpmSolverStep;
          const x0 = linearCombination(ops, [[p.x0FromX, x], ...epsilonTerms(-p.x0FromEps, eps, epsilon)]);
          // σ_to = 0: the first-order step is exactly x_θ.
          if (p.toZero) {
            forget();
            return x0;
          }
          let next: T;
          try {
            if (p.firstOrder || previousX0 === undefined) {
              next = linearCombination(ops, [
                [p.xScale, x],
                [p.dScale, x0],
              ]);
            } else {
              const r = previousH / p.h;
              next = linearCombination(ops, [
                [p.xScale, x],
                [p.dScale * (1 + 1 / (2 * r)), x0],
                [-p.dScale / (2 * r), previousX0],
              ]);
            }
          } catch (error) {
            ops.dispose(x0);
            throw error;
          }
          forget();
          if (order === 2 && index < plan.length - 1) {
            previousX0 = x0;
            previousH = p.h;
          } else {
            ops.dispose(x0);
          }
          return next;
        },
        dispose: forget,
      };
    },
  });
}
