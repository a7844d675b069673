/**
 * Inference timestep lists in 🤗 diffusers' vocabulary (`timestep_spacing`, `steps_offset`), with
 * the same numbers as diffusers' `set_timesteps` for the same configuration:
 *
 * - `inferenceTimesteps`: DDIMScheduler / DDPMScheduler (huggingface/diffusers
 *   src/diffusers/schedulers/scheduling_ddim.py, `set_timesteps`). The spacings are those of
 *   Table 2 in Lin et al., "Common Diffusion Noise Schedules and Sample Steps are Flawed" (2023):
 *   - leading:  r = ⌊T/n⌋, t_i = r·(n-1-i) + stepsOffset          (T=1000, n=10: 900, 800, …, 0)
 *   - linspace: round(linspace(0, T-1, n)) reversed                (999, 888, 777, …, 111, 0)
 *   - trailing: r = T/n, t_i = round(T - i·r) - 1                   (999, 899, …, 99)
 * - `dpmSolverTimesteps`: DPMSolverMultistepScheduler (scheduling_dpmsolver_multistep.py),
 *   which lays n + 1 grid points and drops the last one, because its final step goes to σ = 0
 *   rather than evaluating the model there:
 *   - leading:  r = ⌊T/(n+1)⌋, t_i = r·(n-i) + stepsOffset         (900, 810, …, 90)
 *   - linspace: round(linspace(0, T-1, n+1)) reversed, last dropped (999, 899, …, 599, 500, …, 100)
 *   - trailing: as for DDIM                                          (999, 899, …, 99)
 *
 * Rounding follows numpy exactly: `linspace` computes i·((T-1)/(m-1)) and sets the end point,
 * `arange` with a float step fills start + i·Δ with Δ = (start - r) - start, and `round` rounds
 * half to even (linspace(0, 999, 11)[5] = 499.5 → 500 but 166.5 → 166). One deliberate
 * difference: for some n (61, 103, …) numpy's float `arange(T, 0, -T/n)` returns n + 1 values,
 * which would make diffusers run n + 1 steps; we always return exactly n.
 */
import { LevelskipError } from '@levelskip/core';

/** How inference timesteps are spread over [0, T-1] (diffusers' `timestep_spacing`). */
export type TimestepSpacing = 'leading' | 'linspace' | 'trailing';

export const timestepSpacings: readonly TimestepSpacing[] = ['leading', 'linspace', 'trailing'];

export interface TimestepOptions {
  /** T, the number of diffusion steps the model was trained with (diffusers' `num_train_timesteps`). */
  readonly trainTimesteps: number;
  /** n, the number of inference steps (diffusers' `num_inference_steps`). */
  readonly steps: number;
  /** Default `'leading'` (diffusers' DDIM/DDPM default; DPM-Solver's default is `'linspace'`). */
  readonly timestepSpacing?: TimestepSpacing;
  /** Added to every timestep of the `leading` spacing (diffusers' `steps_offset`; Stable Diffusion uses 1). Default 0. */
  readonly stepsOffset?: number;
}

/** numpy's `round`: half to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** numpy.linspace(0, stop, count) reversed, each value rounded half to even. */
function reversedRoundedLinspace(stop: number, count: number): number[] {
  const out: number[] = [];
  const step = count > 1 ? stop / (count - 1) : 0;
  for (let i = 0; i < count; i++) out.push(i === count - 1 && count > 1 ? stop : roundHalfEven(i * step));
  return out.reverse();
}

/** The first `count` values of round(numpy.arange(T, 0, -T/n)) - 1. */
function trailing(trainTimesteps: number, steps: number): number[] {
  const ratio = trainTimesteps / steps;
  const second = trainTimesteps - ratio;
  // numpy fills a float arange as start + i·Δ with Δ recomputed from its first two values.
  const delta = second - trainTimesteps;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const value = i === 0 ? trainTimesteps : i === 1 ? second : trainTimesteps + i * delta;
    out.push(roundHalfEven(value) - 1);
  }
  return out;
}

function optionError(field: string, message: string, value: unknown): LevelskipError {
  const full = `${field} must be ${message}, got ${String(value)}`;
  return new LevelskipError('INVALID_OPTION', `timesteps: ${full}`, { issues: [{ path: [field], message: full }] });
}

interface CheckedOptions {
  readonly T: number;
  readonly n: number;
  readonly spacing: TimestepSpacing;
  readonly offset: number;
}

function checkOptions(options: TimestepOptions, maxSteps: number): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new LevelskipError('INVALID_OPTION', 'timesteps: expected { trainTimesteps, steps, timestepSpacing?, stepsOffset? }');
  }
  const { trainTimesteps: T, steps: n, timestepSpacing: spacing = 'leading', stepsOffset: offset = 0 } = options;
  if (!(typeof T === 'number' && Number.isSafeInteger(T) && T >= 1)) {
    throw optionError('trainTimesteps', 'an integer ≥ 1 (usually 1000)', T);
  }
  const most = maxSteps === T ? 'trainTimesteps' : 'trainTimesteps - 1';
  if (!(typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= maxSteps)) {
    throw optionError('steps', `an integer in [1, ${most}] = [1, ${maxSteps}]`, n);
  }
  if (!timestepSpacings.includes(spacing)) {
    throw optionError('timestepSpacing', `one of ${timestepSpacings.map((s) => `'${s}'`).join(', ')}`, spacing);
  }
  if (!(typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)) {
    throw optionError('stepsOffset', 'an integer ≥ 0', offset);
  }
  return { T, n, spacing, offset };
}

/** Checks that the list is strictly decreasing inside [0, T-1]; `stepsOffset` is what can break it. */
function checkRange(list: readonly number[], { T, offset }: CheckedOptions): readonly number[] {
  const first = list[0] as number;
  if (first > T - 1) {
    throw optionError('stepsOffset', `small enough that the first timestep (${first}) stays ≤ trainTimesteps - 1 = ${T - 1}`, offset);
  }
  return Object.freeze(list);
}

/**
 * The timesteps a DDPM or DDIM sampler evaluates the model at, largest first, as diffusers'
 * `DDIMScheduler.set_timesteps` computes them.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when `steps` is not in [1, T], the
 *   spacing is unknown, or `stepsOffset` pushes a timestep past T - 1.
 *
 * @example
 * ```ts
 * inferenceTimesteps({ trainTimesteps: 1000, steps: 10, timestepSpacing: 'trailing' }); // [999, 899, …, 99]
 * ```
 */
export function inferenceTimesteps(options: TimestepOptions): readonly number[] {
  const checked = checkOptions(options, options?.trainTimesteps);
  const { T, n, spacing, offset } = checked;
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(T / n);
      return checkRange(Array.from({ length: n }, (_, i) => ratio * (n - 1 - i) + offset), checked);
    }
    case 'linspace':
      return checkRange(reversedRoundedLinspace(T - 1, n), checked);
    case 'trailing':
      return checkRange(trailing(T, n), checked);
  }
}

/**
 * The timesteps DPM-Solver++ evaluates the model at, largest first, as diffusers'
 * `DPMSolverMultistepScheduler.set_timesteps` computes them (n + 1 grid points, the smallest
 * dropped: the final step goes to σ = 0 instead).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option when `steps` is not in [1, T - 1],
 *   the spacing is unknown, or `stepsOffset` pushes a timestep past T - 1.
 */
export function dpmSolverTimesteps(options: TimestepOptions): readonly number[] {
  const checked = checkOptions(options, options?.trainTimesteps - 1);
  const { T, n, spacing, offset } = checked;
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(T / (n + 1));
      return checkRange(Array.from({ length: n }, (_, i) => ratio * (n - i) + offset), checked);
    }
    case 'linspace':
      return checkRange(reversedRoundedLinspace(T - 1, n + 1).slice(0, n), checked);
    case 'trailing':
      return checkRange(trailing(T, n), checked);
  }
}
