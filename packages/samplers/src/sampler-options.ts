/**
 * Validation of sampler options, shared by every sampler factory so that a bad option fails at
 * construction time with the same kind of message everywhere: a `LevelskipError('INVALID_OPTION')`
 * naming the sampler, the option, what is allowed and what was given.
 */
import { LevelskipError, linearBetaSchedule, type NoiseSchedule } from '@levelskip/core';
import { timestepSpacings, type TimestepSpacing } from './timesteps.js';

/** An `INVALID_OPTION` error for `sampler`'s option `field`, with the field as the issue path. */
export function optionError(sampler: string, field: string, message: string, value: unknown): LevelskipError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const full = `${field} must be ${message}, got ${shown}`;
  return new LevelskipError('INVALID_OPTION', `${sampler}: ${full}`, { issues: [{ path: [field], message: full }] });
}

/**
 * Checks that `options` is an object (or undefined) whose keys are all in `allowed`, so that a
 * misspelt option such as `timestep_spacing` cannot silently fall back to a default.
 */
export function checkOptionKeys(sampler: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LevelskipError('INVALID_OPTION', `${sampler}: options must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const message = `unknown option "${key}" (allowed: ${allowed.join(', ')})`;
      throw new LevelskipError('INVALID_OPTION', `${sampler}: ${message}`, { issues: [{ path: [key], message }] });
    }
  }
}

/** An integer in [min, max]. */
export function checkInteger(sampler: string, field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
  throw optionError(sampler, field, range, value);
}

export function checkBoolean(sampler: string, field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw optionError(sampler, field, 'true or false', value);
}

/** One of `allowed`. */
export function checkChoice<C extends string>(sampler: string, field: string, value: unknown, allowed: readonly C[]): C {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as C;
  throw optionError(sampler, field, `one of ${allowed.map((choice) => `'${choice}'`).join(', ')}`, value);
}

export function checkSpacing(sampler: string, value: unknown): TimestepSpacing {
  return checkChoice(sampler, 'timestepSpacing', value, timestepSpacings);
}

/**
 * The noise schedule option: a `NoiseSchedule` from core (`linearBetaSchedule`,
 * `cosineBetaSchedule`, `noiseScheduleFromConfig`), by default DDPM's linear schedule with
 * T = 1000 (diffusers' default `beta_schedule="linear"`, 1e-4 to 0.02).
 */
export function checkNoiseSchedule(sampler: string, value: unknown): NoiseSchedule {
  if (value === undefined) return linearBetaSchedule();
  const schedule = value as Partial<NoiseSchedule> | null;
  if (
    typeof schedule === 'object' &&
    schedule !== null &&
    typeof schedule.trainTimesteps === 'number' &&
    schedule.alphasCumprod instanceof Float64Array &&
    schedule.alphasCumprod.length === schedule.trainTimesteps
  ) {
    return schedule as NoiseSchedule;
  }
  throw optionError(
    sampler,
    'noiseSchedule',
    'a NoiseSchedule from @levelskip/core (linearBetaSchedule(), cosineBetaSchedule() or noiseScheduleFromConfig(config))',
    value,
  );
}

/**
 * ᾱ at timestep `t`, where t = -1 stands for the end of the chain, ᾱ = 1 (diffusers'
 * `set_alpha_to_one` in DDIM, `self.one` in DDPM): the final step lands on clean data.
 */
export function alphaCumprodAt(schedule: NoiseSchedule, t: number): number {
  return t < 0 ? 1 : (schedule.alphasCumprod[t] as number);
}

/** A finite number > 0. */
export function checkPositive(sampler: string, field: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw optionError(sampler, field, 'a finite number > 0', value);
}
