/**
 * What `sample` and `eval` sample with, and where each setting came from: a flag, the model's
 * recommended settings (model.json's `sampling`, measured by whoever trained it), its training
 * record (the schedule and fill it was trained for), or the tools' defaults.
 *
 * The rules (stated in `--help` too):
 * - Sampler settings: `--sampler` wins, else the recommended sampler, else ddim. `--steps`, `--eta`
 *   and `--clip-sample`/`--no-clip-sample` each win; a setting without a flag is the recommended
 *   one when the sampler is the recommended sampler, else the default (50 steps, ddpm: T; η = 0;
 *   no clipping).
 * - Skip schedule and fill: the recommended pair is used only when none of `--c`, `--k-table` and
 *   `--fill` is given; a recommendation that leaves one out, or any of those flags, falls back
 *   per setting to the flag, then the training record, then full depth (`--c 0`) and zero fill;
 *   except that `--fill cache[:m]` alone, on a model without a trained schedule, runs k = N − 1
 *   between the cache's full-depth steps (DeepCache-style caching without retraining).
 */
import { LevelskipError, customSchedule, fillLabel, fillNeedsCache, parseFill, powerSchedule, predictionTypeOf, skipScheduleFromJSON, stageSchedule, type RecommendedSampling, type BuiltinFill, type SkipSchedule, type SpecPrediction, type StageEntry, type TrainingRecord } from '@levelskip/core';
import { optionError } from '../options/option-values.js';
import { trainedFill, trainedSchedule } from '../model/resolve-model.js';

export const samplerNames = ['ddim', 'ddpm', 'langevin', 'dpm-solver'] as const;
export type SamplerName = (typeof samplerNames)[number];

/**
 * Where a setting came from: `flag` (the command line), `recommended` (model.json's `sampling`),
 * `model` (model.json's training record: what the model was trained for), `default`.
 */
export type SettingOrigin = 'flag' | 'recommended' | 'model' | 'default';

/** The sampler flags, parsed; `undefined` where no flag was given. */
export interface SamplerFlagValues {
  readonly sampler: SamplerName | undefined;
  readonly steps: number | undefined;
  readonly eta: number | undefined;
  readonly noiseLevels: number | undefined;
  /** `--clip-sample` (true), `--no-clip-sample` (false), neither (undefined). */
  readonly clipSample: boolean | undefined;
}

/** The sampler a run uses, every value settled. */
export interface SamplerSettings {
  readonly sampler: SamplerName;
  readonly steps: number;
  /** DDIM's η (ddim only). */
  readonly eta: number | undefined;
  /** Langevin's noise levels as given (undefined: min(10, steps)). */
  readonly noiseLevels: number | undefined;
  /** Clamp x̂₀ to [−1, 1] in each step (ddim and ddpm; false for the others). */
  readonly clipSample: boolean;
  /** What the model outputs (its spec's `prediction`, which model.json's `sampling.prediction` agrees with), for `sample({ prediction })`; a property of the model, so it holds for every sampler. */
  readonly prediction: NonNullable<RecommendedSampling['prediction']>;
  readonly origins: { readonly sampler: SettingOrigin; readonly steps: SettingOrigin; readonly eta: SettingOrigin; readonly clipSample: SettingOrigin };
  /** The recommended sampler's timestep spacing (diffusers' `timestep_spacing`); absent: the sampler's default. */
  readonly timestepSpacing?: NonNullable<RecommendedSampling['timestepSpacing']>;
  /** The recommended sampler's `steps_offset`; absent: 0. */
  readonly stepsOffset?: number;
  /** The recommended clipping bound (with clipping on); absent: 1. */
  readonly clipSampleRange?: number;
  /** The recommended DDPM variance; absent: fixed_small. */
  readonly varianceType?: NonNullable<RecommendedSampling['varianceType']>;
}

/** The skip choice of the flags: `--c` or `--k-table`. */
export type SkipChoice = { readonly kind: 'power'; readonly c: number } | { readonly kind: 'table'; readonly table: readonly StageEntry[] };

/** The skip schedule and fill a run uses, with their origins. */
export interface SkipSettings {
  readonly schedule: SkipSchedule;
  readonly scheduleOrigin: SettingOrigin;
  /** The fill in the CLI's syntax (`zero`, `cache:3`, …). */
  readonly fill: string;
  /** The same fill, parsed once (core's registry): what the run passes to `sample()`. */
  readonly fillStrategy: BuiltinFill;
  readonly fillOrigin: SettingOrigin;
}

const defaultSteps = 50;

/**
 * Settles the sampler from the flags and the model's recommendation (see the file comment).
 *
 * @throws LevelskipError `INVALID_OPTION` when a flag given without `--sampler` does not apply to
 *   the sampler the model recommends (e.g. `--eta` where the model recommends dpm-solver).
 */
export function resolveSamplerSettings(
  flags: SamplerFlagValues,
  recommended: RecommendedSampling | undefined,
  trainTimesteps: number,
  specPrediction: SpecPrediction = 'eps',
): SamplerSettings {
  const sampler = flags.sampler ?? recommended?.sampler ?? 'ddim';
  const samplerOrigin: SettingOrigin = flags.sampler !== undefined ? 'flag' : recommended !== undefined ? 'recommended' : 'default';
  // The recommendation's steps, η and clipping were measured with its sampler; another sampler keeps its own defaults.
  const matching = recommended !== undefined && recommended.sampler === sampler ? recommended : undefined;
  if (flags.sampler === undefined && recommended !== undefined) {
    const misfit = (flag: string, applies: readonly SamplerName[]): LevelskipError =>
      optionError(flag, `applies to --sampler ${applies.join(' and ')} only, and this model recommends --sampler ${sampler} (model.json): add --sampler ${applies[0]!}`);
    if (flags.eta !== undefined && sampler !== 'ddim') throw misfit('--eta', ['ddim']);
    if (flags.noiseLevels !== undefined && sampler !== 'langevin') throw misfit('--noise-levels', ['langevin']);
    if (flags.clipSample === true && sampler !== 'ddim' && sampler !== 'ddpm') throw misfit('--clip-sample', ['ddim', 'ddpm']);
  }
  const pick = <V>(flag: V | undefined, fromModel: V | undefined, fallback: V): { value: V; origin: SettingOrigin } =>
    flag !== undefined ? { value: flag, origin: 'flag' } : fromModel !== undefined ? { value: fromModel, origin: 'recommended' } : { value: fallback, origin: 'default' };
  const steps = pick(flags.steps, matching?.steps, sampler === 'ddpm' ? trainTimesteps : defaultSteps);
  const eta = sampler === 'ddim' ? pick(flags.eta, matching?.eta, 0) : { value: undefined, origin: 'default' as const };
  const clips = sampler === 'ddim' || sampler === 'ddpm';
  const clip = clips ? pick(flags.clipSample, matching?.clip, false) : { value: false, origin: 'default' as const };
  return {
    sampler,
    steps: steps.value,
    eta: eta.value,
    noiseLevels: sampler === 'langevin' ? flags.noiseLevels : undefined,
    clipSample: clip.value,
    // The spec says what the network outputs; model.json's sampling.prediction must agree (core checks it at load).
    prediction: recommended?.prediction ?? predictionTypeOf(specPrediction),
    origins: { sampler: samplerOrigin, steps: steps.origin, eta: eta.origin, clipSample: clip.origin },
    // How the recommended sampler (a diffusers scheduler's translation) spaces and bounds its steps; another sampler keeps its defaults.
    ...(matching?.timestepSpacing === undefined || sampler === 'langevin' ? {} : { timestepSpacing: matching.timestepSpacing }),
    ...(matching?.stepsOffset === undefined || sampler === 'langevin' ? {} : { stepsOffset: matching.stepsOffset }),
    ...(matching?.clipSampleRange === undefined || !clip.value ? {} : { clipSampleRange: matching.clipSampleRange }),
    ...(matching?.varianceType === undefined || sampler !== 'ddpm' ? {} : { varianceType: matching.varianceType }),
  };
}

/** The recommended schedule as a `SkipSchedule`; a malformed one is a damaged model.json. */
function recommendedSchedule(recommended: RecommendedSampling): SkipSchedule | undefined {
  if (recommended.schedule === undefined) return undefined;
  try {
    return skipScheduleFromJSON(recommended.schedule);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LevelskipError('CHECKPOINT_CORRUPT', `model.json: sampling.schedule is not a valid skip schedule (${reason}); fix it or pass --c or --k-table`, { cause: error });
  }
}

/** k = N − 1 at every step: with the cache fill, DeepCache's scheme (branch 0) on any model. */
const deepestSchedule = customSchedule((_t, levels) => levels - 1, 'k = N − 1 (DeepCache-style with the cache fill)');

/**
 * Settles the skip schedule and the fill (see the file comment).
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a recommended schedule core cannot rebuild.
 */
export function resolveSkipSettings(
  flags: { readonly skip: SkipChoice | undefined; readonly fill?: string | undefined },
  model: { readonly training: TrainingRecord | undefined; readonly sampling?: RecommendedSampling | undefined },
): SkipSettings {
  const useRecommended = flags.skip === undefined && flags.fill === undefined && model.sampling !== undefined;
  const recommended = useRecommended ? recommendedSchedule(model.sampling!) : undefined;
  let schedule: SkipSchedule;
  let scheduleOrigin: SettingOrigin;
  if (flags.skip !== undefined) {
    schedule = flags.skip.kind === 'power' ? powerSchedule({ c: flags.skip.c }) : stageSchedule(flags.skip.table);
    scheduleOrigin = 'flag';
  } else if (recommended !== undefined) {
    schedule = recommended;
    scheduleOrigin = 'recommended';
  } else {
    const trained = trainedSchedule(model.training);
    // A cache fill at full depth would skip nothing: without a schedule from the flags or the
    // model, `--fill cache[:m]` means DeepCache's fastest setting, k = N − 1 between full-depth steps.
    const caching = flags.fill !== undefined && fillNeedsCache(parseFill(flags.fill));
    schedule = trained ?? (caching ? deepestSchedule : powerSchedule({ c: 0 }));
    scheduleOrigin = trained === undefined ? 'default' : 'model';
  }
  const recommendedFill = useRecommended ? model.sampling!.fill : undefined;
  const trained = trainedFill(model.training);
  const fill = flags.fill ?? recommendedFill ?? trained ?? 'zero';
  const fillOrigin: SettingOrigin = flags.fill !== undefined ? 'flag' : recommendedFill !== undefined ? 'recommended' : trained !== undefined ? 'model' : 'default';
  const fillStrategy = parseFill(fill);
  return { schedule, scheduleOrigin, fill: fillLabel(fillStrategy), fillStrategy, fillOrigin };
}

/** How each origin reads after a setting. */
export const originLabels: Readonly<Record<SettingOrigin, string>> = {
  flag: 'from flags',
  recommended: 'recommended in model.json',
  model: 'trained for; from model.json',
  default: 'default',
};

/**
 * `items` as one list, each run of items with the same origin followed by that origin:
 * `ddim, 50 steps (recommended in model.json), η = 0.5 (from flags)`.
 */
export function formatWithOrigins(items: readonly { readonly text: string; readonly origin: SettingOrigin }[]): string {
  const parts: string[] = [];
  items.forEach((item, i) => {
    const next = items[i + 1];
    parts.push(next !== undefined && next.origin === item.origin ? item.text : `${item.text} (${originLabels[item.origin]})`);
  });
  return parts.join(', ');
}

/** Where each of the sampler's settings came from, for the settings that apply to it (η: ddim; clipping: ddim and ddpm). */
export interface SamplerOrigins {
  readonly sampler: SettingOrigin;
  readonly steps: SettingOrigin;
  readonly eta?: SettingOrigin;
  readonly clipSample?: SettingOrigin;
}

/** `settings.origins` without the settings its sampler does not have. */
export function applicableOrigins(settings: SamplerSettings): SamplerOrigins {
  const { sampler, steps, eta, clipSample } = settings.origins;
  return {
    sampler,
    steps,
    ...(settings.sampler === 'ddim' ? { eta } : {}),
    ...(settings.sampler === 'ddim' || settings.sampler === 'ddpm' ? { clipSample } : {}),
  };
}

/** The sampler's part of the settings line: `ddim, 50 steps, η = 1, clip`. */
export function samplerItems(settings: SamplerSettings): { text: string; origin: SettingOrigin }[] {
  const items = [
    { text: settings.sampler, origin: settings.origins.sampler },
    { text: `${settings.steps} steps`, origin: settings.origins.steps },
  ];
  if (settings.sampler === 'ddim') items.push({ text: `η = ${settings.eta ?? 0}`, origin: settings.origins.eta });
  if (settings.sampler === 'ddim' || settings.sampler === 'ddpm') items.push({ text: settings.clipSample ? 'clip' : 'no clip', origin: settings.origins.clipSample });
  // A diffusers scheduler's details, recommended with its sampler.
  if (settings.clipSampleRange !== undefined) items.push({ text: `clip range ±${settings.clipSampleRange}`, origin: 'recommended' });
  if (settings.timestepSpacing !== undefined) items.push({ text: `${settings.timestepSpacing} spacing`, origin: 'recommended' });
  if (settings.stepsOffset !== undefined) items.push({ text: `steps offset ${settings.stepsOffset}`, origin: 'recommended' });
  if (settings.varianceType !== undefined) items.push({ text: `variance ${settings.varianceType}`, origin: 'recommended' });
  return items;
}

/**
 * The one line `sample` and `eval` print about what they sample with:
 * `sampling: ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)`.
 */
export function samplingLine(sampler: SamplerSettings, skip: SkipSettings): string {
  return `sampling: ${formatWithOrigins([
    ...samplerItems(sampler),
    { text: `schedule ${skip.schedule.description}`, origin: skip.scheduleOrigin },
    { text: `fill ${skip.fill}`, origin: skip.fillOrigin },
  ])}`;
}
