/**
 * Noise schedules of discrete-time diffusion: the variances β_t of the forward process
 * q(x_t | x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I) for t = 0..T-1, and what samplers derive
 * from them: α_t = 1 - β_t, ᾱ_t = ∏_{s≤t} α_s, √ᾱ_t and √(1-ᾱ_t).
 *
 * - linear: Ho et al., "Denoising Diffusion Probabilistic Models" (2020), β linear from
 *   1e-4 to 0.02 (diffusers `beta_schedule="linear"`).
 * - cosine: Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models" (2021),
 *   eq. 17, ᾱ(t) = f(t)/f(0) with f(t) = cos²(((t/T + s)/(1 + s)) · π/2), and
 *   β_t = min(1 - ᾱ_{t+1}/ᾱ_t, maxBeta) as in diffusers' `betas_for_alpha_bar("cosine")`
 *   (diffusers' `beta_schedule="squaredcos_cap_v2"`).
 * - scaled-linear: √β linear from √betaStart to √betaEnd, then squared (Rombach et al., "High-Resolution
 *   Image Synthesis with Latent Diffusion Models", 2022; diffusers `beta_schedule="scaled_linear"`).
 * - betas: β_t given one by one (diffusers' `trained_betas`).
 *
 * Everything is float64 so that long products such as ᾱ_999 ≈ 4e-5 keep full precision;
 * backends narrow to float32 at the tensor boundary.
 */
import { LevelskipError } from '../errors/levelskip-error.js';

/** Options of the linear schedule (Ho et al. 2020). */
export interface LinearBetaOptions {
  /** β_0, in (0, 1). Default 1e-4. */
  readonly betaStart?: number;
  /** β_{T-1}, in [betaStart, 1). Default 0.02. */
  readonly betaEnd?: number;
  /** T, the number of diffusion steps the model was trained with. Default 1000. */
  readonly trainTimesteps?: number;
}

/** Options of the cosine schedule (Nichol & Dhariwal 2021, eq. 17). */
export interface CosineBetaOptions {
  /** T, the number of diffusion steps the model was trained with. Default 1000. */
  readonly trainTimesteps?: number;
  /** Offset s ≥ 0 that keeps β_0 from being vanishingly small. Default 0.008. */
  readonly s?: number;
  /** Upper clip on β, in (0, 1), which prevents the singularity at t = T. Default 0.999. */
  readonly maxBeta?: number;
}

/** Options of the explicit schedule: every β_t given (diffusers' `trained_betas`). */
export interface ExplicitBetaOptions {
  /** β_0 … β_{T-1}, each in (0, 1); T is their number. */
  readonly betas: readonly number[];
  /** T; when given it must equal `betas.length`. */
  readonly trainTimesteps?: number;
}

/** Serialisable description of a noise schedule, e.g. from a checkpoint's `model.json`. */
export type NoiseScheduleConfig =
  | ({ readonly kind: 'linear' } & LinearBetaOptions)
  | ({ readonly kind: 'cosine' } & CosineBetaOptions)
  | ({ readonly kind: 'scaled-linear' } & LinearBetaOptions)
  | ({ readonly kind: 'betas' } & ExplicitBetaOptions);

/** A noise schedule with every option resolved; `noiseScheduleFromConfig(schedule.config)` rebuilds it. */
export type ResolvedNoiseScheduleConfig =
  | { readonly kind: 'linear'; readonly betaStart: number; readonly betaEnd: number; readonly trainTimesteps: number }
  | { readonly kind: 'cosine'; readonly trainTimesteps: number; readonly s: number; readonly maxBeta: number }
  | { readonly kind: 'scaled-linear'; readonly betaStart: number; readonly betaEnd: number; readonly trainTimesteps: number }
  | { readonly kind: 'betas'; readonly betas: readonly number[]; readonly trainTimesteps: number };

/** The kinds of noise schedule (`NoiseScheduleConfig.kind`). */
export const noiseScheduleKinds = ['linear', 'cosine', 'scaled-linear', 'betas'] as const;

/**
 * A discrete noise schedule. Every array has length `trainTimesteps` and is indexed by the
 * timestep t = 0..T-1. Treat the arrays as read-only: they may be shared.
 */
export interface NoiseSchedule {
  readonly kind: (typeof noiseScheduleKinds)[number];
  /** T, the number of diffusion steps. */
  readonly trainTimesteps: number;
  /** The options the schedule was built with, defaults filled in. */
  readonly config: ResolvedNoiseScheduleConfig;
  /** β_t. */
  readonly betas: Float64Array;
  /** α_t = 1 - β_t. */
  readonly alphas: Float64Array;
  /** ᾱ_t = ∏_{s=0..t} α_s, strictly decreasing. */
  readonly alphasCumprod: Float64Array;
  /** √ᾱ_t: the signal scale of x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε. */
  readonly sqrtAlphasCumprod: Float64Array;
  /** √(1-ᾱ_t): the noise scale of x_t. */
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
}

function optionError(schedule: string, field: string, message: string, value: unknown): LevelskipError {
  const full = `${field} must be ${message}, got ${String(value)}`;
  return new LevelskipError('INVALID_OPTION', `${schedule} noise schedule: ${full}`, { issues: [{ path: [field], message: full }] });
}

function checkTrainTimesteps(schedule: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)) {
    throw optionError(schedule, 'trainTimesteps', 'an integer ≥ 1 (the number of diffusion steps, usually 1000)', value);
  }
  return value;
}

/** Fills α, ᾱ and the square roots from β. */
function fromBetas(config: ResolvedNoiseScheduleConfig, betas: Float64Array): NoiseSchedule {
  const T = betas.length;
  const alphas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  const sqrtAlphasCumprod = new Float64Array(T);
  const sqrtOneMinusAlphasCumprod = new Float64Array(T);
  let product = 1;
  for (let t = 0; t < T; t++) {
    const alpha = 1 - (betas[t] as number);
    product *= alpha;
    alphas[t] = alpha;
    alphasCumprod[t] = product;
    sqrtAlphasCumprod[t] = Math.sqrt(product);
    sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - product);
  }
  return Object.freeze({
    kind: config.kind,
    trainTimesteps: T,
    config: Object.freeze(config),
    betas,
    alphas,
    alphasCumprod,
    sqrtAlphasCumprod,
    sqrtOneMinusAlphasCumprod,
  });
}

/**
 * The linear schedule of Ho et al. (2020): β = linspace(betaStart, betaEnd, T), i.e.
 * β_t = betaStart + t · (betaEnd - betaStart)/(T - 1), with β_{T-1} = betaEnd exactly.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field when an option is out of range.
 */
export function linearBetaSchedule({ betaStart = 1e-4, betaEnd = 0.02, trainTimesteps = 1000 }: LinearBetaOptions = {}): NoiseSchedule {
  const T = checkTrainTimesteps('linear', trainTimesteps);
  checkBetaRange('linear', betaStart, betaEnd);
  return fromBetas({ kind: 'linear', betaStart, betaEnd, trainTimesteps: T }, linspace(betaStart, betaEnd, T));
}

function checkBetaRange(schedule: string, betaStart: unknown, betaEnd: unknown): void {
  if (!(typeof betaStart === 'number' && betaStart > 0 && betaStart < 1)) {
    throw optionError(schedule, 'betaStart', 'a number in (0, 1) (1e-4 in DDPM)', betaStart);
  }
  if (!(typeof betaEnd === 'number' && betaEnd >= betaStart && betaEnd < 1)) {
    throw optionError(schedule, 'betaEnd', `a number in [betaStart, 1) = [${betaStart}, 1) (0.02 in DDPM)`, betaEnd);
  }
}

/** numpy.linspace(start, end, count): start + i·step, then the endpoint set exactly. */
function linspace(start: number, end: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const step = count > 1 ? (end - start) / (count - 1) : 0;
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  if (count > 1) out[count - 1] = end;
  return out;
}

/**
 * The "scaled linear" schedule of latent diffusion (Rombach et al. 2022; diffusers
 * `beta_schedule="scaled_linear"`): β_t = (√betaStart + t · (√betaEnd - √betaStart)/(T - 1))²,
 * i.e. `linspace(betaStart ** 0.5, betaEnd ** 0.5, T) ** 2`.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field when an option is out of range.
 */
export function scaledLinearBetaSchedule({ betaStart = 1e-4, betaEnd = 0.02, trainTimesteps = 1000 }: LinearBetaOptions = {}): NoiseSchedule {
  const T = checkTrainTimesteps('scaled-linear', trainTimesteps);
  checkBetaRange('scaled-linear', betaStart, betaEnd);
  const betas = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T).map((root) => root * root);
  return fromBetas({ kind: 'scaled-linear', betaStart, betaEnd, trainTimesteps: T }, betas);
}

/**
 * A schedule given β by β (diffusers' `trained_betas`).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field when `betas` is empty, holds a value
 *   outside (0, 1), or `trainTimesteps` differs from its length.
 */
export function explicitBetaSchedule({ betas, trainTimesteps }: ExplicitBetaOptions): NoiseSchedule {
  if (!Array.isArray(betas) || betas.length === 0) {
    throw optionError('betas', 'betas', 'a non-empty array of numbers in (0, 1), one per training timestep', betas);
  }
  const T = checkTrainTimesteps('betas', trainTimesteps ?? betas.length);
  if (T !== betas.length) {
    throw optionError('betas', 'trainTimesteps', `equal to the number of betas (${betas.length})`, trainTimesteps);
  }
  const values = new Float64Array(T);
  betas.forEach((beta: unknown, t) => {
    if (!(typeof beta === 'number' && beta > 0 && beta < 1)) throw optionError('betas', `betas[${t}]`, 'a number in (0, 1)', beta);
    values[t] = beta;
  });
  return fromBetas({ kind: 'betas', betas: Object.freeze([...values]), trainTimesteps: T }, values);
}

/**
 * The cosine schedule of Nichol & Dhariwal (2021), eq. 17: with
 * f(u) = cos²(((u + s)/(1 + s)) · π/2) for u = t/T, β_t = min(1 - f((t+1)/T) / f(t/T), maxBeta),
 * which is 1 - ᾱ_{t+1}/ᾱ_t of ᾱ(u) = f(u)/f(0) (the f(0) cancels). Same as diffusers'
 * `betas_for_alpha_bar(T, max_beta, "cosine")` for s = 0.008.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field when an option is out of range.
 */
export function cosineBetaSchedule({ trainTimesteps = 1000, s = 0.008, maxBeta = 0.999 }: CosineBetaOptions = {}): NoiseSchedule {
  const T = checkTrainTimesteps('cosine', trainTimesteps);
  if (!(typeof s === 'number' && Number.isFinite(s) && s >= 0)) {
    throw optionError('cosine', 's', 'a finite number ≥ 0 (0.008 in the paper)', s);
  }
  if (!(typeof maxBeta === 'number' && maxBeta > 0 && maxBeta < 1)) {
    throw optionError('cosine', 'maxBeta', 'a number in (0, 1) (0.999 in the paper)', maxBeta);
  }
  const f = (u: number): number => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f((t + 1) / T) / f(t / T), maxBeta);
  return fromBetas({ kind: 'cosine', trainTimesteps: T, s, maxBeta }, betas);
}

const CONFIG_FIELDS = {
  linear: ['kind', 'betaStart', 'betaEnd', 'trainTimesteps'],
  cosine: ['kind', 'trainTimesteps', 's', 'maxBeta'],
  'scaled-linear': ['kind', 'betaStart', 'betaEnd', 'trainTimesteps'],
  betas: ['kind', 'betas', 'trainTimesteps'],
} as const;

/**
 * Builds a schedule from its serialised form, `{ kind: 'linear' | 'cosine' | 'scaled-linear' | 'betas', ...options }`.
 * Unknown fields are rejected so that a typo cannot silently fall back to a default.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field for an unknown kind or field, or a bad value.
 */
export function noiseScheduleFromConfig(config: NoiseScheduleConfig): NoiseSchedule {
  if (typeof config !== 'object' || config === null) {
    throw new LevelskipError('INVALID_OPTION', `noise schedule config: expected an object such as { "kind": "linear" }, got ${String(config)}`);
  }
  const kind: unknown = config.kind;
  if (!(noiseScheduleKinds as readonly unknown[]).includes(kind)) {
    const message = `kind must be "linear", "cosine", "scaled-linear" or "betas", got ${JSON.stringify(kind) ?? String(kind)}`;
    throw new LevelskipError('INVALID_OPTION', `noise schedule config: ${message}`, { issues: [{ path: ['kind'], message }] });
  }
  const allowed: readonly string[] = CONFIG_FIELDS[kind as (typeof noiseScheduleKinds)[number]];
  for (const key of Object.keys(config)) {
    if (!allowed.includes(key)) {
      const message = `unknown field "${key}" for a ${kind} schedule (allowed: ${allowed.join(', ')})`;
      throw new LevelskipError('INVALID_OPTION', `noise schedule config: ${message}`, { issues: [{ path: [key], message }] });
    }
  }
  switch (config.kind) {
    case 'linear':
      return linearBetaSchedule(config);
    case 'cosine':
      return cosineBetaSchedule(config);
    case 'scaled-linear':
      return scaledLinearBetaSchedule(config);
    case 'betas':
      return explicitBetaSchedule(config);
  }
}
