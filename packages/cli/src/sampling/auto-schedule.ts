/**
 * `--schedule auto:<fraction>` (or `auto:<ms>ms`) for `sample` and `eval`: the calibrated skip
 * schedule (core's `autoSchedule`): the depth of every step, and with the cache fill the steps that
 * refresh at full depth, chosen from the model's calibration table to add the least error for the
 * time budget. The table comes from model.json (`calibration`, written by `levelskip calibrate
 * --write`); a model without one is calibrated quickly first, and the command says so.
 *
 * The fill: `--fill` when given (zero, duplicate, interpolate or cache; not cache:m, since the
 * schedule places the refreshes itself), else whichever calibrated fill predicts the least error.
 */
import {
  LevelskipError,
  autoSchedule,
  calibrate,
  calibratedFillKinds,
  defaultCalibrationFills,
  parseCalibrationTable,
  type CalibratedFillKind,
  type CalibrationTable,
  type SkipSchedule,
  parseFill,
} from '@levelskip/core';
import { measurePropagation, type Sampler } from '@levelskip/samplers';
import type { CliIo } from '../program/cli-io.js';
import { optionError } from '../options/option-values.js';
import { trainedNoiseSchedule, type ResolvedModel } from '../model/resolve-model.js';
import { createBackend, type BackendChoice } from '../backends/backend-choice.js';
import { loadCalibrationImages } from '../calibration/calibration-data.js';
import { readModelCalibration } from '../calibration/model-calibration.js';
import { formatDuration } from '../progress/progress-reporter.js';
import { formatPercent } from '../output/format-table.js';
import { resolveSamplerSettings, type SamplerFlagValues, type SamplerSettings, type SettingOrigin, type SkipSettings } from './sampling-settings.js';

/** The budget of `--schedule auto:…`: a fraction of the time to save, or a target time for the run in ms. */
export type AutoBudget = { readonly fractionSaved: number } | { readonly ms: number };

/** The calibrated schedule a run uses, once resolved (`resolveAutoSchedule`). */
export interface AutoSkip {
  readonly schedule: SkipSchedule;
  /** The fill in the CLI's syntax. */
  readonly fill: string;
  readonly fillOrigin: SettingOrigin;
}

const DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/;

/**
 * Parses `--schedule`: `auto:0.4` (save 40 % of the full-depth run's time) or `auto:900ms` (a
 * target time for the whole run, at the calibration's batch size).
 *
 * @throws LevelskipError `INVALID_OPTION` naming `--schedule` and the accepted forms.
 */
export function parseScheduleFlag(text: string): AutoBudget {
  const forms = 'auto:<fraction of the time to save in [0, 1)>, e.g. auto:0.4, or auto:<ms>ms, a target time for the run, e.g. auto:900ms (for the paper\'s schedule use --c, for a stage table --k-table)';
  const match = /^auto:(.*)$/.exec(text.trim());
  if (match === null) throw optionError('--schedule', `takes ${forms}; got ${JSON.stringify(text)}`);
  const value = match[1]!.trim();
  const ms = /^(.*)ms$/.exec(value);
  if (ms !== null) {
    const number = ms[1]!.trim();
    if (!DECIMAL.test(number) || !(Number(number) > 0) || !Number.isFinite(Number(number))) throw optionError('--schedule', `auto:<ms>ms needs a positive time in milliseconds, got ${JSON.stringify(text)}`);
    return { ms: Number(number) };
  }
  if (!DECIMAL.test(value) || !(Number(value) < 1)) throw optionError('--schedule', `auto:<fraction> needs a fraction of the time to save in [0, 1), e.g. auto:0.4; got ${JSON.stringify(text)}`);
  return { fractionSaved: Number(value) };
}

/** The skip settings of a resolved auto schedule (what `setUpSampling` uses instead of --c / --k-table). */
export function autoSkipSettings(auto: AutoSkip): SkipSettings {
  return { schedule: auto.schedule, scheduleOrigin: 'flag', fill: auto.fill, fillStrategy: parseFill(auto.fill), fillOrigin: auto.fillOrigin };
}

/** The fill `--fill` asks of an auto schedule, as a calibrated fill kind. */
function requestedFill(fill: string | undefined): CalibratedFillKind | undefined {
  if (fill === undefined) return undefined;
  if (fill.startsWith('cache:')) {
    throw optionError('--fill', `${fill} refreshes the cache every ${fill.slice(6)} steps, but --schedule auto places the full-depth refreshes itself: use --fill cache`);
  }
  if (!(calibratedFillKinds as readonly string[]).includes(fill)) throw optionError('--fill', `${fill} cannot be calibrated; use one of ${calibratedFillKinds.join(', ')} with --schedule auto`);
  return fill as CalibratedFillKind;
}

/** Settings of the quick calibration of a model without a table: small, and FLOP costs (no timing runs). */
export const quickCalibration = Object.freeze({ samples: 16, timesteps: 6, ages: [1, 2, 3, 4, 6] });

export interface ResolveAutoOptions {
  readonly io: CliIo;
  readonly progress: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Builds the run's sampler from its settled settings (sample.ts's `buildSampler` on the model's noise schedule). */
  readonly buildSampler: (settings: SamplerSettings) => Sampler;
}

/** Calibrates a model that has no table, quickly, on the run's backend. */
async function quickCalibrate(
  plan: { readonly backend: BackendChoice; readonly fill?: string | undefined },
  model: Pick<ResolvedModel, 'spec' | 'weights' | 'training' | 'label'>,
  run: { readonly sampler: Sampler; readonly eta: number },
  options: ResolveAutoOptions,
): Promise<CalibrationTable> {
  const { sampler, eta } = run;
  const steps = sampler.timesteps.length;
  const { spec } = model;
  const fill = requestedFill(plan.fill);
  const fills: CalibratedFillKind[] = fill !== undefined ? [fill] : defaultCalibrationFills(spec);
  if (options.progress) {
    options.io.stderr.write(
      `auto schedule: ${model.label} has no calibration table in model.json, so it is calibrated quickly first ` +
        `(${quickCalibration.samples} held-out images, ${quickCalibration.timesteps} timesteps, fills ${fills.join(', ')}, FLOP costs, propagation with this run's sampler); ` +
        'store a full table with `levelskip calibrate <the same model flags> --write`\n',
    );
  }
  const started = performance.now();
  const data = await loadCalibrationImages(spec, quickCalibration.samples, '--schedule');
  const backend = await createBackend(plan.backend);
  try {
    const denoiser = await backend.createDenoiser(spec, model.weights!);
    try {
      const table = await calibrate(denoiser, {
        data,
        samples: quickCalibration.samples,
        timesteps: Math.min(quickCalibration.timesteps, steps),
        fills,
        steps,
        ages: quickCalibration.ages,
        cost: 'flops',
        noiseSchedule: trainedNoiseSchedule(spec, model.training),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      // How an error travels to the final sample, with the run's own sampler.
      const propagation = await measurePropagation(denoiser, { sampler, eta, points: 6, batch: 4, ...(options.signal === undefined ? {} : { signal: options.signal }) });
      const measured = parseCalibrationTable({ ...table, propagation });
      if (options.progress) options.io.stderr.write(`auto schedule: calibrated in ${formatDuration(performance.now() - started)}\n`);
      return measured;
    } finally {
      denoiser.dispose();
    }
  } finally {
    backend.dispose();
  }
}

/**
 * Resolves `--schedule auto:…` against the model: its calibration table (model.json, else a quick
 * calibration), the run's sampler and its timesteps, and the fill; prints what was chosen.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag for langevin (no derived error weights), a
 *   cache:m fill, a fill the table lacks, or a budget the model cannot reach (saying how much it
 *   can); `CHECKPOINT_CORRUPT` for a table that does not belong to the model.
 */
export async function resolveAutoSchedule(
  plan: SamplerFlagValues & { readonly auto: AutoBudget; readonly backend: BackendChoice; readonly fill?: string | undefined },
  model: Pick<ResolvedModel, 'spec' | 'weights' | 'training' | 'sampling' | 'label' | 'directory'>,
  options: ResolveAutoOptions,
): Promise<AutoSkip> {
  const { spec } = model;
  const settings = resolveSamplerSettings(plan, model.sampling, spec.trainTimesteps, spec.prediction);
  if (settings.sampler === 'langevin') {
    throw optionError('--schedule', 'auto plans with error weights derived for ddim, ddpm and dpm-solver; annealed Langevin has none: pick --sampler ddim, ddpm or dpm-solver, or use --c / --k-table');
  }
  if (settings.prediction !== 'epsilon') {
    throw optionError('--schedule', `auto plans with ε errors and ε error weights, but this model predicts ${settings.prediction} (model.json); use --c or --k-table`);
  }
  const fill = requestedFill(plan.fill);
  const sampler = options.buildSampler(settings);
  const stored = await readModelCalibration(model);
  const table = stored ?? (await quickCalibrate(plan, model, { sampler, eta: settings.eta ?? 0 }, options));
  const levels = spec.channelMults.length;
  if (table.levels !== levels || table.noiseSchedule.trainTimesteps !== spec.trainTimesteps) {
    throw new LevelskipError(
      'CHECKPOINT_CORRUPT',
      `model.json: the calibration table is for a ${table.levels}-level model with T = ${table.noiseSchedule.trainTimesteps}, but this model has ${levels} levels and T = ${spec.trainTimesteps}; recalibrate it (levelskip calibrate --write)`,
    );
  }
  let result;
  try {
    result = autoSchedule(table, {
      sampler: { kind: settings.sampler, eta: settings.eta ?? 0 },
      steps: sampler.timesteps,
      budget: plan.auto,
      ...(fill === undefined ? {} : { fill }),
    });
  } catch (error) {
    if (LevelskipError.is(error) && error.issues[0]?.path[0] === 'budget') throw new LevelskipError(error.code, `--schedule: ${error.message}`, { cause: error, issues: error.issues });
    if (LevelskipError.is(error) && error.issues[0]?.path[0] === 'fill') throw new LevelskipError(error.code, `--fill: ${error.message}`, { cause: error, issues: error.issues });
    throw error;
  }
  const { plan: chosen } = result.skip;
  if (options.progress) {
    const source = stored === undefined ? 'quick calibration' : 'model.json calibration';
    const cost = table.costUnit === 'ms' ? `ms per predict on ${table.backend ?? 'the calibrating backend'} at batch ${table.costBatch}` : 'FLOPs';
    options.io.stderr.write(
      `auto schedule (${source}): fill ${chosen.fill}${fill === undefined ? ' (least predicted error of the calibrated fills)' : ''}, ` +
        `saves ${formatPercent(chosen.fractionSaved)} of the full-depth cost (${cost}; asked ${formatPercent(chosen.requiredFractionSaved)}), ` +
        `predicted error ${chosen.predictedError.toPrecision(3)}; k per step ${chosen.ks.join('')}\n`,
    );
  }
  return { schedule: result.skip, fill: chosen.fill, fillOrigin: 'flag' };
}
