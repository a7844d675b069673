/**
 * The sampling settings of a run, by the rules the CLI's `sample` and `eval` follow:
 * - Sampler: the call's `sampler`, else the model's recommended one (model.json's `sampling`,
 *   measured by whoever trained it), else DDIM. `steps`, `eta` and `clip` each: the call's, else
 *   the recommended value when the recommended sampler runs (it was measured with that sampler),
 *   else the defaults (50 steps, ddpm: T; η = 0; no clipping).
 * - Skip schedule and fill: the recommended pair when the call gives neither `schedule` nor
 *   `fill`; otherwise (and for a part the recommendation leaves out) each is the call's, else what
 *   the model was trained for (model.json's `training.schedule` / `training.fill`), else full
 *   depth and the zero fill.
 */
import {
  LevelskipError,
  builtinFillSyntax,
  fillDefinition,
  fillLabel,
  linearBetaSchedule,
  noiseScheduleFromConfig,
  parseFill,
  powerSchedule,
  tryParseFill,
  recommendedSamplers,
  skipScheduleFromJSON,
  zeroFill,
  type BuiltinFill,
  type FillStrategy,
  type NoiseSchedule,
  type NoiseScheduleConfig,
  type PortableCustomFill,
  type RecommendedSampling,
  type SkipSchedule,
  type SkipScheduleJSON,
  type UNetSpec,
} from '@levelskip/core';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, type Sampler } from '@levelskip/samplers';
import { optionError, shown } from './pipeline-errors.js';

/** The samplers by name (model.json's and the CLI's `--sampler` names). */
export const samplerNames = recommendedSamplers;
export type SamplerName = (typeof recommendedSamplers)[number];

/**
 * Where a setting came from: the call's options, the model's recommendation (model.json's
 * `sampling`), what the model was trained for (its training record), or the tools' defaults.
 */
export type SettingOrigin = 'option' | 'recommended' | 'model' | 'default';

/** The sampling settings a run uses (`pipeline.settings`: those a call without options uses). */
export interface SamplingSettings {
  readonly sampler: SamplerName;
  /** Model evaluations per image (langevin: noise levels × steps per level). */
  readonly steps: number;
  /** DDIM's η in [0, 1]; undefined for the other samplers. */
  readonly eta: number | undefined;
  /** Whether x̂₀ is clipped to [−1, 1] at each step (ddim and ddpm; false for the others). */
  readonly clip: boolean;
  /** Annealed Langevin's noise levels (it runs steps / noiseLevels steps per level); undefined for the others. */
  readonly noiseLevels: number | undefined;
  /** The skip schedule: `schedule.description` reads e.g. `power(c=2)`, and JSON.stringify writes `{"kind":"power","c":2}`. */
  readonly schedule: SkipSchedule;
  /** The fill, in the CLI's syntax (`zero`, `cache:3`; custom fills read `custom:<name>`). */
  readonly fill: string;
  /** Where each setting came from. */
  readonly origin: { readonly [K in 'sampler' | 'steps' | 'eta' | 'clip' | 'schedule' | 'fill']: SettingOrigin };
  /** The model's note on its recommendation (model.json `sampling.note`), if any. */
  readonly note: string | undefined;
  /** One line for logs, e.g. `ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero`. */
  readonly description: string;
}

/** The options of `generate` that choose the sampling settings. */
export interface SamplingChoices<T> {
  /** `ddim`, `ddpm`, `dpm-solver` (DPM-Solver++ 2M) or `langevin` (annealed Langevin). */
  readonly sampler?: SamplerName;
  /** Sampling steps: an integer in [1, T] (T = the model's training timesteps; langevin: a multiple of `noiseLevels`). */
  readonly steps?: number;
  /** DDIM's η in [0, 1] (0: deterministic; 1: DDPM-like noise). ddim only. */
  readonly eta?: number;
  /** Clip x̂₀ to [−1, 1] at each step (diffusers' `clip_sample`). ddim and ddpm only. */
  readonly clip?: boolean;
  /** Annealed Langevin's noise levels (default min(10, steps)), dividing `steps`. langevin only. */
  readonly noiseLevels?: number;
  /** Skip schedule: `powerSchedule({ c: 2 })`, `deepCache(…).skip`, any `SkipSchedule`, or its JSON (`{ kind: 'power', c: 2 }`). */
  readonly schedule?: SkipSchedule | SkipScheduleJSON;
  /** Fill: a name in the CLI's syntax (core's `builtinFillSyntax`: `'zero'`, `'duplicate'`, `'interpolate'`, `'cache'`, `'cache:3'`, `'mean'`) or a fill object (`customFill(…)`). */
  readonly fill?: string | FillStrategy<T> | PortableCustomFill;
}

/** What a model contributes to the settings, checked once when the pipeline is created. */
export interface ModelSampling {
  readonly spec: UNetSpec;
  readonly recommended: RecommendedSampling | undefined;
  readonly noiseSchedule: NoiseSchedule;
  /** The recommended schedule and fill (either may be absent). */
  readonly recommendedSchedule: SkipSchedule | undefined;
  readonly recommendedFill: BuiltinFill | undefined;
  /** What the model was trained for (model.json's training record), if it says. */
  readonly trainedSchedule: SkipSchedule | undefined;
  readonly trainedFill: BuiltinFill | undefined;
}

/** A run's settings, checked, with the objects `sample()` takes. */
export interface ResolvedSampling<T> {
  readonly settings: SamplingSettings;
  readonly sampler: Sampler;
  readonly schedule: SkipSchedule;
  readonly fill: FillStrategy<T>;
}

/** The written forms of the built-in fills, for messages: `zero, duplicate, …, cache:m or mean`. */
const fillChoices = `${builtinFillSyntax.slice(0, -1).join(', ')} or ${builtinFillSyntax[builtinFillSyntax.length - 1]!}`;

/**
 * The noise schedule a model was trained with: model.json's `training.noiseSchedule` when it is a
 * config object (as `train()` records it), else DDPM's linear schedule over the spec's T.
 */
function trainedNoiseSchedule(spec: UNetSpec, training: Readonly<Record<string, unknown>> | undefined, where: string): NoiseSchedule {
  const config = training?.['noiseSchedule'];
  if (typeof config !== 'object' || config === null) return linearBetaSchedule({ trainTimesteps: spec.trainTimesteps });
  try {
    const withT = config as NoiseScheduleConfig;
    const schedule = noiseScheduleFromConfig(withT.trainTimesteps === undefined ? { ...withT, trainTimesteps: spec.trainTimesteps } : withT);
    if (schedule.trainTimesteps !== spec.trainTimesteps) throw new Error(`trainTimesteps ${schedule.trainTimesteps} differs from the spec's ${spec.trainTimesteps}`);
    return schedule;
  } catch (error) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${where}: training.noiseSchedule is not a valid noise schedule (${(error as Error).message})`, { cause: error });
  }
}

/** A recorded fill name, or undefined when it is not one a run can sample with. */
function recordedFill(value: unknown): BuiltinFill | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return tryParseFill(value);
  } catch {
    return undefined;
  }
}

/**
 * Checks a model's recommended sampling (model.json's `sampling`, or `sampling` of a model object)
 * and gathers what runs take from the model.
 *
 * @param where Names the model in errors (`model.json of mnist-full`, `model.sampling`).
 * @throws LevelskipError `CHECKPOINT_CORRUPT` (files) or `INVALID_OPTION` (a model object) naming
 *   the field of a recommendation that is malformed or does not fit the model.
 */
export function modelSampling(
  spec: UNetSpec,
  recommended: RecommendedSampling | undefined,
  training: Readonly<Record<string, unknown>> | undefined,
  where: string,
  code: 'CHECKPOINT_CORRUPT' | 'INVALID_OPTION',
): ModelSampling {
  const bad = (field: string, message: string, cause?: unknown): LevelskipError =>
    new LevelskipError(code, `${where}: sampling.${field} ${message}`, { issues: [{ path: ['sampling', field], message }], ...(cause === undefined ? {} : { cause }) });
  const noiseSchedule = trainedNoiseSchedule(spec, training, where);
  if (recommended !== undefined) {
    if (typeof recommended !== 'object' || recommended === null) throw bad('', `must be an object { sampler, steps, … }, got ${shown(recommended)}`);
    if (!(samplerNames as readonly string[]).includes(recommended.sampler)) throw bad('sampler', `must be one of ${samplerNames.join(', ')}, got ${shown(recommended.sampler)}`);
    const steps = recommended.steps;
    if (!(Number.isSafeInteger(steps) && steps >= 1 && (recommended.sampler === 'langevin' || steps <= spec.trainTimesteps))) {
      throw bad('steps', `must be an integer in [1, ${spec.trainTimesteps}] (the model's training timesteps), got ${shown(steps)}`);
    }
    if (recommended.eta !== undefined && !(typeof recommended.eta === 'number' && recommended.eta >= 0 && recommended.eta <= 1)) throw bad('eta', `must be a number in [0, 1], got ${shown(recommended.eta)}`);
    if (recommended.clip !== undefined && typeof recommended.clip !== 'boolean') throw bad('clip', `must be true or false, got ${shown(recommended.clip)}`);
  }
  let recommendedSchedule: SkipSchedule | undefined;
  if (recommended?.schedule !== undefined) {
    try {
      recommendedSchedule = skipScheduleFromJSON(recommended.schedule);
    } catch (error) {
      throw bad('schedule', `is not a valid skip schedule (${(error as Error).message})`, error);
    }
  }
  let trainedSchedule: SkipSchedule | undefined;
  const trained = training?.['schedule'];
  if (trained !== undefined && trained !== null) {
    try {
      trainedSchedule = skipScheduleFromJSON(trained);
    } catch {
      // An unreadable training record is no recommendation: fall back to the default, as the CLI does.
    }
  }
  let recommendedFill: BuiltinFill | undefined;
  if (recommended?.fill !== undefined) {
    recommendedFill = recordedFill(recommended.fill);
    if (recommendedFill === undefined) throw bad('fill', `must be ${fillChoices}, got ${shown(recommended.fill)}`);
    const unsupported = fillDefinition(recommendedFill.kind).supports(spec);
    if (unsupported !== undefined) throw bad('fill', `is ${recommendedFill.kind}, which ${unsupported}`);
  }
  let trainedFill = recordedFill(training?.['fill']);
  // A recorded fill the architecture cannot run (interpolate without side paths) is no default.
  if (trainedFill !== undefined && fillDefinition(trainedFill.kind).supports(spec) !== undefined) trainedFill = undefined;
  return { spec, recommended, noiseSchedule, recommendedSchedule, recommendedFill, trainedSchedule, trainedFill };
}

function integerOption(field: string, value: unknown, min: number, max: number, why: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw optionError('generate', field, `must be an integer in [${min}, ${max}]${why}, got ${shown(value)}`);
}

function checkSchedule(value: unknown): SkipSchedule {
  if (typeof value === 'object' && value !== null && typeof (value as Partial<SkipSchedule>).kAt === 'function') return value as SkipSchedule;
  if (typeof value === 'object' && value !== null && 'kind' in value) {
    try {
      return skipScheduleFromJSON(value);
    } catch (error) {
      throw optionError('generate', 'schedule', `is not a valid skip schedule: ${(error as Error).message}`, 'INVALID_SCHEDULE', error);
    }
  }
  throw optionError('generate', 'schedule', `must be a SkipSchedule (powerSchedule({ c: 2 }), deepCache(…).skip, …) or its JSON ({ kind: 'power', c: 2 }), got ${shown(value)}`, 'INVALID_SCHEDULE');
}

function checkFill<T>(value: unknown): FillStrategy<T> {
  if (typeof value === 'string') {
    try {
      return parseFill(value);
    } catch (error) {
      throw optionError('generate', 'fill', `${shown(value)} is not a fill: use ${fillChoices} (m ≥ 1), or a fill object such as customFill(name, fn)`, 'INVALID_FILL', error);
    }
  }
  if (typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string') return value as FillStrategy<T>;
  throw optionError('generate', 'fill', `must be a fill name ('zero', 'cache:3', …) or a fill object, got ${shown(value)}`, 'INVALID_FILL');
}

/**
 * The settings and sampler objects of a run: `choices` over the model's defaults.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option for an unknown sampler, steps out of
 *   range, or η / clip / noiseLevels given to a sampler that has no such setting;
 *   `INVALID_SCHEDULE` and `INVALID_FILL` for a malformed schedule or fill.
 */
export function resolveSampling<T>(model: ModelSampling, choices: SamplingChoices<T>): ResolvedSampling<T> {
  const { spec, recommended, noiseSchedule } = model;
  const T = spec.trainTimesteps;
  if (choices.sampler !== undefined && !(samplerNames as readonly string[]).includes(choices.sampler)) {
    throw optionError('generate', 'sampler', `must be one of ${samplerNames.map((name) => `'${name}'`).join(', ')}, got ${shown(choices.sampler)}`);
  }
  const sampler: SamplerName = choices.sampler ?? recommended?.sampler ?? 'ddim';
  // The recommendation's steps, η and clipping were measured with its own sampler.
  const measured = recommended !== undefined && recommended.sampler === sampler ? recommended : undefined;
  const from = (option: unknown, recommendedValue: unknown): SettingOrigin => (option !== undefined ? 'option' : recommendedValue !== undefined ? 'recommended' : 'default');

  if (choices.eta !== undefined && sampler !== 'ddim') throw optionError('generate', 'eta', `applies to sampler 'ddim' only (this run uses '${sampler}')`);
  if (choices.clip !== undefined && typeof choices.clip !== 'boolean') throw optionError('generate', 'clip', `must be true or false, got ${shown(choices.clip)}`);
  if (choices.clip === true && sampler !== 'ddim' && sampler !== 'ddpm') throw optionError('generate', 'clip', `applies to samplers 'ddim' and 'ddpm' only (this run uses '${sampler}')`);
  if (choices.noiseLevels !== undefined && sampler !== 'langevin') throw optionError('generate', 'noiseLevels', `applies to sampler 'langevin' only (this run uses '${sampler}')`);

  const maxSteps = sampler === 'langevin' ? 1_000_000 : T;
  const defaultSteps = sampler === 'ddpm' ? T : Math.min(50, T);
  const steps = integerOption('steps', choices.steps ?? measured?.steps ?? defaultSteps, 1, maxSteps, sampler === 'langevin' ? '' : ` (T = ${T}, the model's training timesteps)`);
  const eta =
    sampler === 'ddim'
      ? (() => {
          const value = choices.eta ?? measured?.eta ?? 0;
          if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw optionError('generate', 'eta', `must be a number in [0, 1], got ${shown(value)}`);
          return value;
        })()
      : undefined;
  const clip = sampler === 'ddim' || sampler === 'ddpm' ? (choices.clip ?? measured?.clip ?? false) : false;
  let noiseLevels: number | undefined;
  if (sampler === 'langevin') {
    noiseLevels = integerOption('noiseLevels', choices.noiseLevels ?? Math.min(10, steps, T), 1, T, '');
    if (steps % noiseLevels !== 0) throw optionError('generate', 'steps', `must be a multiple of the ${noiseLevels} noise levels for sampler 'langevin' (steps = noise levels × steps per level), got ${steps}`);
  }
  // A diffusers scheduler's details (core's schedulerFromDiffusersConfig), recommended with this sampler.
  const clipOption = clip ? { clipSample: true, ...(measured?.clipSampleRange === undefined ? {} : { clipSampleRange: measured.clipSampleRange }) } : {};
  const spacing = {
    ...(measured?.timestepSpacing === undefined ? {} : { timestepSpacing: measured.timestepSpacing }),
    ...(measured?.stepsOffset === undefined ? {} : { stepsOffset: measured.stepsOffset }),
  };
  const built: Sampler =
    sampler === 'ddim'
      ? ddim({ steps, eta: eta!, noiseSchedule, ...clipOption, ...spacing })
      : sampler === 'ddpm'
        ? ddpm({ steps, noiseSchedule, ...clipOption, ...spacing, ...(measured?.varianceType === undefined ? {} : { varianceType: measured.varianceType }) })
        : sampler === 'dpm-solver'
          ? dpmSolverPlusPlus({ steps, noiseSchedule, ...spacing })
          : annealedLangevin({ noiseLevels: noiseLevels!, stepsPerLevel: steps / noiseLevels!, noiseSchedule });

  // The recommended schedule and fill are a pair: a call that sets either does not get the other.
  const pair = choices.schedule === undefined && choices.fill === undefined;
  const pick = <V>(option: V | undefined, recommendedValue: V | undefined, trainedValue: V | undefined, fallback: V): { value: V; origin: SettingOrigin } =>
    option !== undefined
      ? { value: option, origin: 'option' }
      : pair && recommendedValue !== undefined
        ? { value: recommendedValue, origin: 'recommended' }
        : trainedValue !== undefined
          ? { value: trainedValue, origin: 'model' }
          : { value: fallback, origin: 'default' };
  const schedule = pick(choices.schedule === undefined ? undefined : checkSchedule(choices.schedule), model.recommendedSchedule, model.trainedSchedule, powerSchedule({ c: 0 }));
  const fill = pick<FillStrategy<T>>(choices.fill === undefined ? undefined : checkFill<T>(choices.fill), model.recommendedFill, model.trainedFill, zeroFill);
  const label = fillLabel(fill.value);
  const parts = [sampler, `${steps} steps`];
  if (eta !== undefined) parts.push(`η = ${eta}`);
  if (sampler === 'ddim' || sampler === 'ddpm') parts.push(clip ? 'clip' : 'no clip');
  if (noiseLevels !== undefined) parts.push(`${noiseLevels} noise levels`);
  const settings: SamplingSettings = {
    sampler,
    steps,
    eta,
    clip,
    noiseLevels,
    schedule: schedule.value,
    fill: label,
    origin: {
      sampler: from(choices.sampler, recommended?.sampler),
      steps: from(choices.steps, measured?.steps),
      eta: from(choices.eta, eta === undefined ? undefined : measured?.eta),
      clip: from(choices.clip, sampler === 'ddim' || sampler === 'ddpm' ? measured?.clip : undefined),
      schedule: schedule.origin,
      fill: fill.origin,
    },
    note: recommended?.note,
    description: `${parts.join(', ')}, schedule ${schedule.value.description}, fill ${label}`,
  };
  return { settings, sampler: built, schedule: schedule.value, fill: fill.value };
}
