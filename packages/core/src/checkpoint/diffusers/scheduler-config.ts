/**
 * A 🤗 diffusers scheduler config (`scheduler_config.json`) → the noise schedule the model was
 * trained with and the sampler settings its pipeline uses, as levelskip's `RecommendedSampling`.
 *
 * The noise schedule follows diffusers v0.31.0, src/diffusers/schedulers/scheduling_ddpm.py
 * (`DDPMScheduler.__init__`; DDIM, PNDM, DPM-Solver and the other discrete-β schedulers repeat it):
 *
 *   trained_betas (not null)        → `{ kind: 'betas', betas }` (takes precedence, as in diffusers)
 *   beta_schedule "linear"          → `{ kind: 'linear', betaStart, betaEnd }`: linspace(beta_start, beta_end, T)
 *   beta_schedule "scaled_linear"   → `{ kind: 'scaled-linear', … }`: linspace(√beta_start, √beta_end, T)²
 *   beta_schedule "squaredcos_cap_v2" → `{ kind: 'cosine', s: 0.008, maxBeta: 0.999 }`:
 *       `betas_for_alpha_bar(T)` with ᾱ(u) = cos²((u + 0.008)/1.008 · π/2) and
 *       β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999), which is core's cosine schedule (Nichol & Dhariwal
 *       2021, eq. 17) with s = 0.008 and maxBeta = 0.999 term for term.
 *
 * T is `num_train_timesteps` (default 1000). diffusers computes β in float32; core in float64.
 *
 * The sampler: DDPMScheduler → ddpm with T steps (DDPMPipeline's default 1000 inference steps);
 * DDIMScheduler → ddim, 50 steps, η = 0 (DDIMPipeline's defaults); DPMSolverMultistepScheduler →
 * dpm-solver, 20 steps. Other discrete-β schedulers (PNDM, Euler, LMS, Heun, UniPC, DEIS, …) give
 * their noise schedule and ddim with 50 steps, which the note says. prediction_type, clip_sample,
 * clip_sample_range, timestep_spacing, steps_offset and variance_type carry over. Refused, with
 * `LevelskipError('UNSUPPORTED')` naming the field: continuous-time schedulers (score SDE, EDM,
 * flow matching), `beta_schedule` sigmoid, `rescale_betas_zero_snr`, a learned variance
 * (`variance_type` learned / learned_range: the model outputs its variance too), an unknown
 * `prediction_type`.
 */
import { predictionTypes, type PredictionType } from '../../spec/prediction-type.js';
import * as z from 'zod/mini';
import { LevelskipError, type LevelskipIssue } from '../../errors/levelskip-error.js';
import type { NoiseScheduleConfig } from '../../noise/noise-schedule.js';
import { noiseScheduleFromConfig } from '../../noise/noise-schedule.js';
import { safeZodIssues, unetSpecLimits, zodMessages } from '../../spec/unet-spec.js';
import type { RecommendedSampling } from '../checkpoint-format.js';
import { quoteToken } from '../strict-json.js';
import { diffusersIssuesError, parseDiffusersJson } from './diffusers-json.js';

/** Scheduler classes with a sampler of their own in levelskip. */
const samplerOfClass = {
  DDPMScheduler: 'ddpm',
  DDIMScheduler: 'ddim',
  DPMSolverMultistepScheduler: 'dpm-solver',
} as const;

/**
 * Discrete-β schedulers whose noise schedule levelskip reads (the same `num_train_timesteps`,
 * `beta_*`, `trained_betas` vocabulary), sampled with DDIM since levelskip lacks their algorithm.
 */
const noiseScheduleOnlyClasses = [
  'PNDMScheduler',
  'EulerDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'LMSDiscreteScheduler',
  'HeunDiscreteScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'UniPCMultistepScheduler',
  'DEISMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'DPMSolverSDEScheduler',
  'DDIMParallelScheduler',
  'DDPMParallelScheduler',
] as const;

/** Every scheduler class this module translates. */
export const supportedSchedulerClasses: readonly string[] = Object.freeze([...Object.keys(samplerOfClass), ...noiseScheduleOnlyClasses]);

/** diffusers' `beta_schedule` values levelskip reads. */
export const supportedBetaSchedules = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;

const timestepSpacings = ['leading', 'linspace', 'trailing'] as const;

const schedulerSchema = z.looseObject({
  _class_name: z.optional(z.string()),
  num_train_timesteps: z.optional(z.int().check(z.positive(), z.maximum(unetSpecLimits.trainTimesteps))),
  beta_start: z.optional(z.number().check(z.positive(), z.lt(1))),
  beta_end: z.optional(z.number().check(z.positive(), z.lt(1))),
  beta_schedule: z.optional(z.string()),
  trained_betas: z.optional(z.nullable(z.array(z.number()).check(z.minLength(1), z.maxLength(unetSpecLimits.trainTimesteps)))),
  prediction_type: z.optional(z.string()),
  clip_sample: z.optional(z.boolean()),
  clip_sample_range: z.optional(z.number().check(z.positive())),
  timestep_spacing: z.optional(z.string()),
  steps_offset: z.optional(z.int().check(z.minimum(0))),
  variance_type: z.optional(z.nullable(z.string())),
  rescale_betas_zero_snr: z.optional(z.boolean()),
  thresholding: z.optional(z.boolean()),
  set_alpha_to_one: z.optional(z.boolean()),
  algorithm_type: z.optional(z.string()),
  solver_order: z.optional(z.int()),
  solver_type: z.optional(z.string()),
});

type SchedulerConfig = z.infer<typeof schedulerSchema>;

/** Fields read above (or deliberately unused: bookkeeping); any other public field is named in the note as ignored. */
const readFields = new Set([...Object.keys(schedulerSchema.shape), 'dynamic_thresholding_ratio', 'sample_max_value', 'lower_order_final']);

/** What a scheduler config gives a levelskip checkpoint. */
export interface DiffusersScheduler {
  /** The scheduler class (`_class_name`), e.g. `DDPMScheduler`. */
  readonly className: string;
  /** The training noise schedule, serialisable (`noiseScheduleFromConfig` rebuilds it); goes to model.json's `training.noiseSchedule`. */
  readonly noiseSchedule: NoiseScheduleConfig;
  /** T, diffusers' `num_train_timesteps` (the spec's `trainTimesteps`). */
  readonly trainTimesteps: number;
  /** The sampler settings of the scheduler (model.json's `sampling`). */
  readonly sampling: RecommendedSampling;
}

export interface DiffusersSchedulerOptions {
  /** Names the file in errors (a path or URL); default `scheduler_config.json`. */
  readonly source?: string;
}

const shown = (value: unknown): string => quoteToken(value);

/**
 * Translates a parsed scheduler config (see the file comment).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when a field has the wrong type or the schedule it
 *   describes is invalid; `UNSUPPORTED` listing every field whose value levelskip cannot honour,
 *   with the supported values.
 */
export function schedulerFromDiffusersConfig(config: unknown, options: DiffusersSchedulerOptions = {}): DiffusersScheduler {
  const source = options.source ?? 'scheduler_config.json';
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${source} must hold a JSON object (a diffusers scheduler config)`);
  }
  const className = (config as Record<string, unknown>)['_class_name'];
  if (typeof className !== 'string' || !supportedSchedulerClasses.includes(className)) {
    const message = `${className === undefined ? 'absent' : shown(className)} is not supported; supported: ${supportedSchedulerClasses.join(', ')} (discrete-time β schedules)`;
    throw diffusersIssuesError('UNSUPPORTED', source, 'levelskip cannot run', [{ path: ['_class_name'], message }]);
  }
  const parsed = schedulerSchema.safeParse(config, { error: zodMessages });
  if (!parsed.success) {
    throw diffusersIssuesError('CHECKPOINT_CORRUPT', source, `not valid for a ${className} config`, safeZodIssues(parsed.error), parsed.error);
  }
  return translate(className, parsed.data, config as Record<string, unknown>, source);
}

/**
 * A scheduler config file's text → the schedule and sampler settings. See `schedulerFromDiffusersConfig`.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for text that is not a strict JSON object, and
 *   `schedulerFromDiffusersConfig`'s errors.
 */
export function readDiffusersSchedulerConfig(text: string, options: DiffusersSchedulerOptions = {}): DiffusersScheduler {
  const source = options.source ?? 'scheduler_config.json';
  return schedulerFromDiffusersConfig(parseDiffusersJson(text, source), { ...options, source });
}

function translate(className: string, c: SchedulerConfig, raw: Record<string, unknown>, source: string): DiffusersScheduler {
  const unsupported: LevelskipIssue[] = [];
  const refuse = (field: string, message: string): void => {
    unsupported.push({ path: [field], message });
  };
  const notes: string[] = [];
  const T = c.num_train_timesteps ?? 1000;

  // The noise schedule.
  let noiseSchedule: NoiseScheduleConfig | undefined;
  const betaStart = c.beta_start ?? 1e-4;
  const betaEnd = c.beta_end ?? 0.02;
  if (c.trained_betas !== undefined && c.trained_betas !== null) {
    if (c.trained_betas.length !== T) {
      throw diffusersIssuesError('CHECKPOINT_CORRUPT', source, `not valid for a ${className} config`, [
        { path: ['trained_betas'], message: `has ${c.trained_betas.length} values but num_train_timesteps is ${T}; they must agree` },
      ]);
    }
    noiseSchedule = { kind: 'betas', betas: c.trained_betas, trainTimesteps: T };
  } else {
    const schedule = c.beta_schedule ?? 'linear';
    switch (schedule) {
      case 'linear':
        noiseSchedule = { kind: 'linear', betaStart, betaEnd, trainTimesteps: T };
        break;
      case 'scaled_linear':
        noiseSchedule = { kind: 'scaled-linear', betaStart, betaEnd, trainTimesteps: T };
        break;
      case 'squaredcos_cap_v2':
        // diffusers' betas_for_alpha_bar: s = 0.008, max_beta = 0.999 (see the file comment).
        noiseSchedule = { kind: 'cosine', s: 0.008, maxBeta: 0.999, trainTimesteps: T };
        break;
      default:
        refuse('beta_schedule', `${shown(schedule)} is not supported; supported: ${supportedBetaSchedules.map((s) => JSON.stringify(s)).join(', ')}, or trained_betas`);
    }
  }
  if (c.rescale_betas_zero_snr === true) refuse('rescale_betas_zero_snr', 'true is not supported; supported: false (a zero terminal SNR schedule is not implemented)');

  // What the model outputs.
  const prediction = c.prediction_type ?? 'epsilon';
  if (!(predictionTypes as readonly string[]).includes(prediction)) {
    refuse('prediction_type', `${shown(prediction)} is not supported; supported: ${predictionTypes.map((p) => JSON.stringify(p)).join(', ')}`);
  }
  const variance = c.variance_type ?? 'fixed_small';
  let varianceType: 'fixed_small' | 'fixed_large' | undefined;
  if (variance === 'fixed_small' || variance === 'fixed_small_log') varianceType = 'fixed_small';
  else if (variance === 'fixed_large' || variance === 'fixed_large_log') varianceType = 'fixed_large';
  // The *_log variants are the same σ_t computed through a logarithm (DDPMScheduler._get_variance).
  else refuse('variance_type', `${shown(variance)} is not supported; supported: "fixed_small", "fixed_large" (and their _log forms); a learned variance needs the model's second output half`);

  const spacing = c.timestep_spacing;
  if (spacing !== undefined && !(timestepSpacings as readonly string[]).includes(spacing)) {
    refuse('timestep_spacing', `${shown(spacing)} is not supported; supported: ${timestepSpacings.map((s) => JSON.stringify(s)).join(', ')}`);
  }

  if (unsupported.length > 0) throw diffusersIssuesError('UNSUPPORTED', source, 'levelskip cannot run', unsupported);
  try {
    noiseScheduleFromConfig(noiseSchedule!);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${source}: the noise schedule is not valid (${reason})`, { cause: error });
  }

  // The sampler.
  const sampler = (samplerOfClass as Record<string, RecommendedSampling['sampler']>)[className] ?? 'ddim';
  if (!(className in samplerOfClass)) notes.push(`levelskip has no ${className}; DDIM (50 steps, η = 0) is recommended on its noise schedule`);
  const steps = sampler === 'ddpm' ? T : sampler === 'dpm-solver' ? Math.min(20, T - 1) : Math.min(50, T);
  const clips = sampler === 'ddim' || sampler === 'ddpm';
  const ownSampler = className in samplerOfClass;
  // diffusers' defaults per class: DDPM/DDIM clip (clip_sample = true), DPM-Solver spaces timesteps by linspace.
  const clip = clips && ownSampler ? (c.clip_sample ?? true) : false;
  const defaultSpacing = className === 'DPMSolverMultistepScheduler' ? 'linspace' : 'leading';
  if (className === 'DDIMScheduler' && c.set_alpha_to_one === false) notes.push('set_alpha_to_one false is not reproduced: levelskip\'s DDIM ends at ᾱ = 1');
  if (c.thresholding === true) notes.push('dynamic thresholding (thresholding: true) is not reproduced');
  if (className === 'DPMSolverMultistepScheduler') {
    const variant = `${c.algorithm_type ?? 'dpmsolver++'} order ${c.solver_order ?? 2} ${c.solver_type ?? 'midpoint'}`;
    if (variant !== 'dpmsolver++ order 2 midpoint') notes.push(`levelskip runs DPM-Solver++(2M) midpoint, not ${variant}`);
  }
  const ignored = Object.keys(raw).filter((key) => !key.startsWith('_') && !readFields.has(key));
  if (ignored.length > 0) notes.push(`ignored: ${ignored.slice(0, 12).map((key) => quoteToken(key)).join(', ')}${ignored.length > 12 ? ` and ${ignored.length - 12} more` : ''}`);

  const sampling: RecommendedSampling = {
    sampler,
    steps,
    ...(sampler === 'ddim' ? { eta: 0 } : {}),
    ...(clips ? { clip } : {}),
    ...(clip && c.clip_sample_range !== undefined && c.clip_sample_range !== 1 ? { clipSampleRange: c.clip_sample_range } : {}),
    ...(prediction === 'epsilon' ? {} : { prediction: prediction as Exclude<PredictionType, 'epsilon'> }),
    ...(sampler === 'langevin' || !ownSampler ? {} : { timestepSpacing: (spacing ?? defaultSpacing) as 'leading' | 'linspace' | 'trailing' }),
    ...(ownSampler && (c.steps_offset ?? 0) !== 0 ? { stepsOffset: c.steps_offset! } : {}),
    ...(sampler === 'ddpm' ? { varianceType: varianceType! } : {}),
    note: [`from diffusers ${className} (${source}), not measured by levelskip`, ...notes].join('; ').slice(0, 2000),
  };
  return { className, noiseSchedule: noiseSchedule!, trainTimesteps: T, sampling };
}
