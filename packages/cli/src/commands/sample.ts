/**
 * `levelskip sample`: generates images with a level-skipping U-Net on the ONNX or TensorFlow.js
 * backend: at each step the model skips k(t) of its deepest levels (the paper's power schedule
 * k(t) = min(N - 1, ⌊N - N(1 - t)^c⌋), or a stage table), a fill replaces the skipped features,
 * and the result is written as a PNG grid with a summary of what ran and what it saved.
 *
 * Every flag is checked before a model is read, and the model, fill and schedule are checked
 * against each other before a backend starts.
 */
import type { Command } from 'commander';
import {
  LevelskipError,
  assertFillSupported,
  builtinFillSyntax,
  fillLabel,
  parseFill,
  parseKTable,
  powerSchedule,
  predictedTimeSaved,
  type FillStrategy,
  type NoiseSchedule,
  type SkipSchedule,
  type UNetSpec,
} from '@levelskip/core';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, sample, type Sampler } from '@levelskip/samplers';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import { optionError, optional, parseByteSize, parseChoice, parseIntegerIn, parseList, parseNumberIn, formatBounds } from '../options/option-values.js';
import { curvatureBound, defaultMaxMemoryBytes, flagBounds, maxMemoryBounds, maxMemoryHelp } from '../options/flag-bounds.js';
import { checkOutputFile } from '../files/output-path.js';
import { checkSamplingMemory } from '../sampling/memory-budget.js';
import { checkWeightsChoice, hasStoredWeights, loadModel, modelSourceFromOptions, trainedNoiseSchedule, type ModelSource, type ResolvedModel } from '../model/resolve-model.js';
import {
  applicableOrigins,
  originLabels,
  resolveSamplerSettings,
  resolveSkipSettings,
  samplerNames,
  samplingLine,
  type SamplerName,
  type SamplerOrigins,
  type SamplerSettings,
  type SettingOrigin,
  type SkipChoice,
  type SkipSettings,
} from '../sampling/sampling-settings.js';
import { createBackend, parseBackendChoice, type BackendChoice } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { imageGridSize, maxImageGridSide, writeImageGrid, type WrittenImageGrid } from '../image/image-grid.js';
import { withInterrupt } from '../program/interrupt.js';
import { formatPercent } from '../output/format-table.js';
import { autoSkipSettings, parseScheduleFlag, resolveAutoSchedule, type AutoBudget, type AutoSkip } from '../sampling/auto-schedule.js';

export { samplerNames, type SamplerName, type SkipChoice } from '../sampling/sampling-settings.js';

/** The flags as commander hands them over (strings, booleans). */
export interface SampleFlags extends ModelFlagValues {
  readonly backend?: string;
  readonly engine?: string;
  readonly sampler?: string;
  readonly steps?: string;
  readonly eta?: string;
  readonly noiseLevels?: string;
  readonly clipSample?: boolean;
  readonly c?: string;
  readonly kTable?: string;
  /** `auto:<fraction>` or `auto:<ms>ms`: the calibrated schedule (`sampling/auto-schedule.ts`). */
  readonly schedule?: string;
  readonly fill?: string;
  readonly batch?: string;
  readonly seed?: string;
  readonly out?: string;
  readonly columns?: string;
  readonly scale?: string;
  readonly rowLabels?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
  readonly maxMemory?: string;
}

/** Validated flags. `undefined` means "the model's default" where the model has one. */
export interface SamplePlan {
  readonly source: ModelSource;
  readonly randomWeights: boolean;
  readonly weightsSeed: number;
  readonly backend: BackendChoice;
  /** Undefined: the model's recommended sampler (model.json `sampling`), else ddim. */
  readonly sampler: SamplerName | undefined;
  /** Undefined (also for eta and clipSample): the recommended value for that sampler, else the default. */
  readonly steps: number | undefined;
  readonly eta: number | undefined;
  readonly noiseLevels: number | undefined;
  /** Clamp x̂₀ to [-1, 1] in each step (ddim, ddpm): `--clip-sample` true, `--no-clip-sample` false. */
  readonly clipSample: boolean | undefined;
  /** Undefined: the recommended schedule (when --fill is not given either), else the one the model was trained for, else full depth. */
  readonly skip: SkipChoice | undefined;
  /** `--schedule auto:…`: plan the calibrated schedule for this budget (resolved into `autoSkip` once the model is known). */
  readonly auto?: AutoBudget | undefined;
  /** The resolved calibrated schedule and its fill (`withAutoSchedule`), used instead of `skip` and `fill`. */
  readonly autoSkip?: AutoSkip | undefined;
  /** Undefined: the recommended fill (when --c and --k-table are not given either), else the one the model was trained with, else zero. */
  readonly fill: string | undefined;
  readonly batch: number;
  readonly seed: number;
  readonly out: string | undefined;
  readonly columns: number | undefined;
  readonly scale: number;
  readonly rowLabels: readonly string[] | undefined;
  readonly json: boolean;
  readonly progress: boolean;
  /** Refuse runs estimated to need more bytes than this (`--max-memory`). */
  readonly maxMemory: number;
}

/**
 * Checks `sample`'s flags without touching a file or an engine.
 *
 * @throws LevelskipError `INVALID_OPTION` (naming the flag), `INVALID_FILL` for an unknown fill,
 *   `INVALID_SCHEDULE` for a malformed `--k-table` or a negative `--c`.
 */
export function planSample(flags: SampleFlags): SamplePlan {
  const source = modelSourceFromOptions(flags);
  const randomWeights = flags.randomWeights === true;
  checkWeightsChoice(source, randomWeights);
  const weightsSeed = parseIntegerIn('--weights-seed', flags.weightsSeed ?? '0', flagBounds.seed);
  const backend = parseBackendChoice(flags.backend ?? 'onnx', flags.engine);
  // Without --sampler the sampler is the model's recommendation, known once the model is read:
  // the flags that fit one sampler only are checked against it then (resolveSamplerSettings).
  const sampler = optional(flags.sampler, (text) => parseChoice('--sampler', text, samplerNames));
  const steps = optional(flags.steps, (text) => parseIntegerIn('--steps', text, flagBounds.steps));
  const eta = optional(flags.eta, (text) => parseNumberIn('--eta', text, (v) => v >= 0 && v <= 1, 'in [0, 1] (0 = deterministic DDIM)'));
  if (eta !== undefined && sampler !== undefined && sampler !== 'ddim') throw optionError('--eta', `applies to --sampler ddim only (got --sampler ${sampler})`);
  const noiseLevels = optional(flags.noiseLevels, (text) => parseIntegerIn('--noise-levels', text, flagBounds.noiseLevels));
  if (noiseLevels !== undefined && sampler !== undefined && sampler !== 'langevin') throw optionError('--noise-levels', `applies to --sampler langevin only (got --sampler ${sampler})`);
  if (sampler === 'langevin') langevinSplit(steps ?? 50, noiseLevels);
  const clipSample = flags.clipSample;
  if (clipSample === true && sampler !== undefined && sampler !== 'ddim' && sampler !== 'ddpm') {
    throw optionError('--clip-sample', `applies to --sampler ddim and ddpm only (got --sampler ${sampler})`);
  }

  if (flags.c !== undefined && flags.kTable !== undefined) throw optionError('--c', 'and --k-table both set the skip schedule; pass one of them');
  let skip: SkipChoice | undefined;
  if (flags.c !== undefined) {
    const c = parseNumberIn('--c', flags.c, (v) => v >= 0 && v <= curvatureBound, `≥ 0 and at most ${curvatureBound} (0 = full depth; the paper uses 1, 2, 3, 5)`);
    powerSchedule({ c });
    skip = { kind: 'power', c };
  } else if (flags.kTable !== undefined) {
    skip = { kind: 'table', table: parseKTable(flags.kTable) };
  }
  const auto = optional(flags.schedule, parseScheduleFlag);
  if (auto !== undefined && skip !== undefined) throw optionError('--schedule', `and ${flags.c !== undefined ? '--c' : '--k-table'} both set the skip schedule; pass one of them`);
  const fill = flags.fill === undefined ? undefined : fillLabel(parseFill(flags.fill));

  const batch = parseIntegerIn('--batch', flags.batch ?? '16', flagBounds.batch, 'for more images, run several times with different --seed');
  const seed = parseIntegerIn('--seed', flags.seed ?? '0', flagBounds.seed);
  const out = flags.out;
  if (out !== undefined && !/\.png$/i.test(out)) throw optionError('--out', `must be a .png file path, got ${JSON.stringify(out)}`);
  const columns = optional(flags.columns, (text) => parseIntegerIn('--columns', text, flagBounds.columns));
  const scale = parseIntegerIn('--scale', flags.scale ?? '1', flagBounds.scale);
  const rowLabels = optional(flags.rowLabels, (text) => parseList('--row-labels', text));
  if (rowLabels !== undefined) {
    const rows = Math.ceil(batch / (columns ?? Math.min(batch, 8)));
    if (rowLabels.length !== rows) throw optionError('--row-labels', `has ${rowLabels.length} labels but the grid has ${rows} rows (--batch ${batch}, ${columns ?? Math.min(batch, 8)} per row)`);
  }
  if ((rowLabels !== undefined || flags.columns !== undefined || flags.scale !== undefined) && out === undefined) {
    throw optionError('--out', 'is needed: --columns, --scale and --row-labels shape the PNG grid it writes');
  }
  return {
    source,
    randomWeights,
    weightsSeed,
    backend,
    sampler,
    steps,
    eta,
    noiseLevels,
    clipSample,
    skip,
    ...(auto === undefined ? {} : { auto }),
    fill,
    batch,
    seed,
    out,
    columns,
    scale,
    rowLabels,
    json: flags.json === true,
    progress: flags.progress !== false,
    maxMemory: parseMaxMemory(flags.maxMemory),
  };
}

/** `--max-memory` in bytes (default `defaultMaxMemoryBytes()`). */
export function parseMaxMemory(text: string | undefined): number {
  return text === undefined ? defaultMaxMemoryBytes() : parseByteSize('--max-memory', text, maxMemoryBounds);
}

/**
 * Checks what a run of `batch` images of `spec` would need before anything is allocated: the PNG
 * grid's size (when `out` is set) and the memory estimate against `--max-memory`.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag to change.
 */
export function checkSampleSize(plan: Pick<SamplePlan, 'batch' | 'out' | 'columns' | 'scale' | 'rowLabels' | 'maxMemory'>, spec: UNetSpec): void {
  let gridBytes = 0;
  if (plan.out !== undefined) {
    const grid = imageGridSize({
      shape: [plan.batch, spec.inChannels, spec.imageSize, spec.imageSize],
      scale: plan.scale,
      ...(plan.columns === undefined ? {} : { columns: plan.columns }),
      ...(plan.rowLabels === undefined ? {} : { rowLabels: plan.rowLabels }),
    });
    if (grid.width > maxImageGridSide || grid.height > maxImageGridSide) {
      const columns = plan.columns ?? Math.min(plan.batch, 8);
      throw new LevelskipError(
        'INVALID_OPTION',
        `--columns ${columns}, --batch ${plan.batch} and --scale ${plan.scale} make a ${grid.width}×${grid.height}-pixel grid of ` +
          `${spec.imageSize}×${spec.imageSize} images; the most is ${maxImageGridSide} pixels per side: use fewer --columns, a smaller --scale or a smaller --batch`,
        { issues: [{ path: ['--columns'], message: `grid of ${grid.width}×${grid.height} pixels` }] },
      );
    }
    gridBytes = grid.bytes;
  }
  checkSamplingMemory({ spec, batch: plan.batch, gridBytes, maxBytes: plan.maxMemory });
}

/** Langevin's `--steps` as noise levels × steps per level (default levels: min(10, steps)). */
function langevinSplit(steps: number, noiseLevels: number | undefined): { noiseLevels: number; stepsPerLevel: number } {
  const levels = noiseLevels ?? Math.min(10, steps);
  if (steps % levels !== 0) {
    throw optionError('--steps', `must be a multiple of the ${levels} noise levels for --sampler langevin (steps = noise levels × steps per level), got ${steps}`);
  }
  return { noiseLevels: levels, stepsPerLevel: steps / levels };
}

/** The optional sampler details a diffusers scheduler recommends (`SamplerSettings`' spacing, offset, clip range, variance). */
type SchedulerDetails = Pick<SamplerSettings, 'timestepSpacing' | 'stepsOffset' | 'clipSampleRange' | 'varianceType'>;

/** The sampler of settled settings (`resolveSamplerSettings`), on the model's noise schedule; an undefined value is the sampler's default. */
export function buildSampler(
  plan: { readonly sampler: SamplerName; readonly steps?: number | undefined; readonly eta?: number | undefined; readonly noiseLevels?: number | undefined; readonly clipSample?: boolean | undefined } & SchedulerDetails,
  noiseSchedule: NoiseSchedule,
): Sampler {
  const clip = plan.clipSample === true ? { clipSample: true, ...(plan.clipSampleRange === undefined ? {} : { clipSampleRange: plan.clipSampleRange }) } : {};
  // A diffusers scheduler's spacing and offset (model.json's recommendation for this sampler).
  const spacing = { ...(plan.timestepSpacing === undefined ? {} : { timestepSpacing: plan.timestepSpacing }), ...(plan.stepsOffset === undefined ? {} : { stepsOffset: plan.stepsOffset }) };
  switch (plan.sampler) {
    case 'ddim':
      return ddim({ steps: plan.steps ?? 50, eta: plan.eta ?? 0, noiseSchedule, ...clip, ...spacing });
    case 'ddpm':
      return ddpm({ steps: plan.steps ?? noiseSchedule.trainTimesteps, noiseSchedule, ...clip, ...spacing, ...(plan.varianceType === undefined ? {} : { varianceType: plan.varianceType }) });
    case 'dpm-solver':
      return dpmSolverPlusPlus({ steps: plan.steps ?? 50, noiseSchedule, ...spacing });
    case 'langevin':
      return annealedLangevin({ ...langevinSplit(plan.steps ?? 50, plan.noiseLevels), noiseSchedule });
  }
}

/**
 * The skip schedule to sample with, and where it came from (`resolveSkipSettings`: the flag, the
 * model's recommendation when neither --c/--k-table nor --fill is given, its training record, or
 * full depth).
 */
export function resolveSkipSchedule(
  plan: Pick<SamplePlan, 'skip'> & { readonly fill?: string | undefined },
  model: Pick<ResolvedModel, 'training' | 'sampling'>,
): { schedule: SkipSchedule; origin: SettingOrigin } {
  const { schedule, scheduleOrigin } = resolveSkipSettings(plan, model);
  return { schedule, origin: scheduleOrigin };
}

/** Everything a sampling run uses once the model is known: the settled settings, the sampler, the fill and the FLOP prediction. */
export interface SamplingSetup {
  readonly settings: SamplerSettings;
  readonly skip: SkipSettings;
  readonly fill: FillStrategy;
  readonly sampler: Sampler;
  /** The depth of every step (the `cache` fill's full-depth steps included) and the FLOPs it saves. */
  readonly prediction: ReturnType<typeof predictedTimeSaved>;
}

/**
 * Settles `sample`'s and `eval`'s settings against the model (flags, then model.json's
 * recommendation and training record, then defaults) and builds the sampler.
 *
 * @throws LevelskipError `INVALID_OPTION` for a flag that does not fit the sampler in use,
 *   `INVALID_FILL` for a fill the model cannot run, `INVALID_SCHEDULE` for a depth it lacks.
 */
export function setUpSampling(plan: SamplePlan, model: Pick<ResolvedModel, 'spec' | 'training' | 'sampling'>): SamplingSetup {
  const { spec } = model;
  const settings = resolveSamplerSettings(plan, model.sampling, spec.trainTimesteps, spec.prediction);
  const skip = plan.autoSkip !== undefined ? autoSkipSettings(plan.autoSkip) : resolveSkipSettings(plan, model);
  const fill = skip.fillStrategy;
  assertFillSupported(spec, fill);
  const sampler = buildSampler(settings, trainedNoiseSchedule(spec, model.training));
  // Evaluates k at every step now: a table row with k > N - 1 fails before any engine starts.
  const prediction = predictedTimeSaved(spec, skip.schedule, sampler.timesteps, { fill });
  return { settings, skip, fill, sampler, prediction };
}

/** The distinct depths of a run, for `Denoiser.prepare`. */
export function distinctDepths(ks: readonly number[]): number[] {
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** What `sample` reports (its `--json` output). */
export interface SampleSummary {
  readonly model: string;
  readonly backend: string;
  readonly sampler: string;
  /** Where the sampler's settings came from (`recommended`: model.json's `sampling`); η and clip only where the sampler has them. */
  readonly samplerOrigins: SamplerOrigins;
  /** The settings line `sample` prints on stderr: `ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)`. */
  readonly settings: string;
  readonly schedule: string;
  /** `recommended`: model.json's `sampling`; `model`: what the model was trained for (its training record). */
  readonly scheduleOrigin: SettingOrigin;
  /** The fill's label (`fillLabel`), e.g. zero or cache:3. */
  readonly fill: string;
  readonly fillOrigin: SettingOrigin;
  readonly batch: number;
  readonly seed: number;
  readonly steps: number;
  readonly timesteps: readonly number[];
  readonly ks: readonly number[];
  /** Steps per k: `{ "0": 12, "3": 20 }`. */
  readonly ksHistogram: Readonly<Record<string, number>>;
  readonly predictedFractionSaved: number;
  /**
   * Time saved as measured in this run (`measuredTimeSaved`): 1 − the run's sampling time over
   * its step count × the median time of its full-depth (k = 0) steps; 0 when every step ran at
   * full depth, null when none did (nothing to compare with).
   */
  readonly measuredFractionSaved: number | null;
  /** The median time of this run's full-depth steps (null when none ran at k = 0). */
  readonly fullDepthMsPerStep: number | null;
  readonly timing: { readonly loadMs: number; readonly buildMs: number; readonly sampleMs: number; readonly msPerStep: number; readonly totalMs: number };
  readonly output: { readonly path: string; readonly width: number; readonly height: number } | null;
}

function histogram(ks: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of [...ks].sort((a, b) => a - b)) counts[String(k)] = (counts[String(k)] ?? 0) + 1;
  return counts;
}

/**
 * The time a run saved, measured on the run itself: its steps at full depth (k = 0; the cache
 * fill's refreshes, or the low-noise steps of a power schedule) time what every step would have
 * cost, so saved = 1 − Σ step times / (steps × median full-depth step time). 0 when every step ran
 * at full depth; null when none did.
 *
 * @param stepEnds When each step ended, in ms since the run started (`SampleProgress.elapsedMs`).
 * @param ks The depth each step ran at.
 */
export function measuredTimeSaved(stepEnds: readonly number[], ks: readonly number[]): { measuredFractionSaved: number | null; fullDepthMsPerStep: number | null } {
  const durations = stepEnds.map((end, i) => end - (i === 0 ? 0 : stepEnds[i - 1]!));
  const full = durations.filter((_, i) => ks[i] === 0).sort((a, b) => a - b);
  if (full.length === 0 || durations.length !== ks.length) return { measuredFractionSaved: null, fullDepthMsPerStep: null };
  const middle = full.length >> 1;
  const median = full.length % 2 === 1 ? full[middle]! : (full[middle - 1]! + full[middle]!) / 2;
  if (full.length === ks.length) return { measuredFractionSaved: 0, fullDepthMsPerStep: median };
  const total = durations.reduce((a, b) => a + b, 0);
  return { measuredFractionSaved: 1 - total / (ks.length * median), fullDepthMsPerStep: median };
}

/**
 * Resolves `--schedule auto:…` (a no-op without it): the calibrated schedule and its fill for this
 * model and sampler (`resolveAutoSchedule`), in the plan that `setUpSampling` reads.
 */
export async function withAutoSchedule(plan: SamplePlan, model: ResolvedModel, io: CliIo, signal?: AbortSignal): Promise<SamplePlan> {
  if (plan.auto === undefined) return plan;
  const noiseSchedule = trainedNoiseSchedule(model.spec, model.training);
  const autoSkip = await resolveAutoSchedule({ ...plan, auto: plan.auto }, model, { io, progress: plan.progress, signal, buildSampler: (settings) => buildSampler(settings, noiseSchedule) });
  return { ...plan, autoSkip };
}

/** Runs a validated plan: loads the model, samples, writes the grid. */
export async function runSample(plan: SamplePlan, io: CliIo, signal?: AbortSignal): Promise<SampleSummary> {
  const started = performance.now();
  if (plan.out !== undefined) await checkOutputFile('--out', plan.out);
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'random', weightsSeed: plan.weightsSeed });
  const { spec } = model;
  checkSampleSize(plan, spec);
  const { settings, skip, fill, sampler, prediction } = setUpSampling(await withAutoSchedule(plan, model, io, signal), model);
  const { schedule } = skip;
  const loadMs = performance.now() - started;
  if (plan.progress) io.stderr.write(`${samplingLine(settings, skip)}\n`);

  const backend = await createBackend(plan.backend);
  try {
    const buildStart = performance.now();
    const denoiser = await backend.createDenoiser(spec, model.weights!, { fill });
    // Opens (ONNX) or warms up (tfjs) what the run's depths need, so the first steps do not pay for it.
    await denoiser.prepare?.({ ks: distinctDepths(prediction.ks), fills: [fill], batch: plan.batch, ...(signal === undefined ? {} : { signal }) });
    const buildMs = performance.now() - buildStart;
    try {
      const progress = createProgressReporter({ label: 'sampling', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
      progress.start(sampler.timesteps.length);
      // When each step ended (ms since the run started), for the measured time saved.
      const stepEnds: number[] = [];
      let result;
      try {
        result = await sample({
          denoiser,
          sampler,
          skip: schedule,
          fill,
          batch: plan.batch,
          seed: plan.seed,
          prediction: settings.prediction,
          ...(signal === undefined ? {} : { signal }),
          onProgress: ({ step, k, elapsedMs }) => {
            stepEnds.push(elapsedMs);
            progress.update(step, { detail: `k=${k}` });
          },
        });
      } finally {
        progress.stop();
      }
      const sampleMs = performance.now() - buildStart - buildMs;
      let written: WrittenImageGrid | undefined;
      if (plan.out !== undefined) {
        written = await writeImageGrid(
          {
            images: result.images,
            shape: result.shape,
            ...(plan.columns === undefined ? {} : { columns: plan.columns }),
            ...(plan.rowLabels === undefined ? {} : { rowLabels: plan.rowLabels }),
            scale: plan.scale,
          },
          plan.out,
        );
      }
      return {
        model: model.label,
        backend: denoiser.backend,
        sampler: sampler.description,
        samplerOrigins: applicableOrigins(settings),
        settings: samplingLine(settings, skip).replace(/^sampling: /, ''),
        schedule: schedule.description,
        scheduleOrigin: skip.scheduleOrigin,
        fill: skip.fill,
        fillOrigin: skip.fillOrigin,
        batch: plan.batch,
        seed: plan.seed,
        steps: result.stepsRun,
        timesteps: result.timesteps,
        ks: result.ks,
        ksHistogram: histogram(result.ks),
        predictedFractionSaved: prediction.fractionSaved,
        ...measuredTimeSaved(stepEnds, result.ks),
        timing: { loadMs, buildMs, sampleMs, msPerStep: sampleMs / result.stepsRun, totalMs: performance.now() - started },
        output: written === undefined ? null : { path: written.path, width: written.width, height: written.height },
      };
    } finally {
      denoiser.dispose();
    }
  } finally {
    backend.dispose();
  }
}

const originText = (origin: SettingOrigin): string => (origin === 'flag' ? '' : ` (${originLabels[origin]})`);

/** ` (recommended in model.json)` after the sampler when all its settings share an origin other than flags, else each origin named. */
function samplerOriginText(summary: SampleSummary): string {
  const names = { sampler: 'sampler', steps: 'steps', eta: 'η', clipSample: 'clip' } as const;
  const settled = (['sampler', 'steps', 'eta', 'clipSample'] as const).flatMap((key) => {
    const origin = summary.samplerOrigins[key];
    return origin === undefined ? [] : [{ name: names[key], origin }];
  });
  if (settled.every((s) => s.origin === 'flag')) return '';
  if (settled.every((s) => s.origin === settled[0]!.origin)) return originText(settled[0]!.origin);
  // Mixed: name each setting's origin, e.g. `(sampler, η, clip recommended in model.json; steps from flags)`.
  const byOrigin = new Map<SettingOrigin, string[]>();
  for (const { name, origin } of settled) byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), name]);
  return ` (${[...byOrigin].map(([origin, keys]) => `${keys.join(', ')} ${originLabels[origin]}`).join('; ')})`;
}

function writeSummary(io: CliIo, summary: SampleSummary): void {
  const t = summary.timing;
  const lines = [
    `model      ${summary.model}`,
    `backend    ${summary.backend}`,
    `sampler    ${summary.sampler}${samplerOriginText(summary)}`,
    `schedule   ${summary.schedule}${originText(summary.scheduleOrigin)}`,
    `fill       ${summary.fill}${originText(summary.fillOrigin)}`,
    `images     ${summary.batch} (seed ${summary.seed})`,
    `steps      ${summary.steps} in ${formatDuration(t.sampleMs)} (${formatDuration(t.msPerStep)}/step); model load ${formatDuration(t.loadMs)}, build ${formatDuration(t.buildMs)}, total ${formatDuration(t.totalMs)}`,
    `ks         ${Object.entries(summary.ksHistogram)
      .map(([k, n]) => `k=${k}: ${n}`)
      .join(', ')}`,
    `predicted  ${formatPercent(summary.predictedFractionSaved)} of full-depth FLOPs saved by this schedule`,
    summary.measuredFractionSaved === null
      ? 'measured   no step ran at full depth, so this run has nothing to compare its steps with'
      : `measured   ${formatPercent(summary.measuredFractionSaved)} of the time saved against this run's full-depth steps (median ${formatDuration(summary.fullDepthMsPerStep!)}/step at k = 0)`,
    summary.output === null ? 'image      not written (pass --out <file.png>)' : `image      ${summary.output.path} (${summary.output.width}×${summary.output.height})`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** How `sample` and `eval` choose what a flag leaves open (their `--help`). */
export const samplingDefaultsHelp = [
  'Defaults: explicit flags always win. A shipped model recommends its sampling settings (model.json "sampling",',
  'e.g. mnist-zero-c2: ddim, 50 steps, η = 1, clip, --c 2, --fill zero); `levelskip info --model <name>` shows them.',
  '  sampler: --sampler, else the recommended one, else ddim. --steps, --eta and --clip-sample/--no-clip-sample:',
  '    the flag, else the recommended value when the sampler is the recommended one, else 50 steps (ddpm: T,',
  '    the model\'s trainTimesteps), η = 0, no clipping.',
  '  schedule and fill: the recommended ones only when none of --c, --k-table and --fill is given; otherwise (or',
  '    when the model recommends none) each is the flag, else what the model was trained for (model.json',
  '    training), else --c 0 (full depth) and --fill zero.',
  'A line on stderr says what was used and where it came from, e.g.',
  '  sampling: ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)',
  'langevin splits --steps into --noise-levels × steps per level.',
].join('\n');

/** The flags `sample` and `eval` share: backend, engine, sampler, its settings, skip schedule and fill. */
export function addSamplingOptions(command: Command): Command {
  return command
    .option('--backend <name>', 'onnx or tfjs', 'onnx')
    .option('--engine <engine>', 'tfjs: auto|node-gpu|node|wasm|cpu (default auto); onnx: execution providers in order, e.g. cuda,cpu (default cpu)')
    .option('--sampler <name>', `${samplerNames.join('|')} (default: the model's recommended sampler, else ddim)`)
    .option('--steps <n>', `sampling steps, ${formatBounds(flagBounds.steps)} and at most the model's T (default: recommended, else 50; ddpm: T)`)
    .option('--eta <eta>', 'DDIM η in [0, 1] (default: recommended, else 0)')
    .option('--noise-levels <n>', `langevin: noise levels, ${formatBounds(flagBounds.noiseLevels)}, dividing --steps (default min(10, steps))`)
    .option('--clip-sample', 'ddim, ddpm: clamp the predicted x0 to [-1, 1] at each step (diffusers\' clip_sample; default: recommended, else off)')
    .option('--no-clip-sample', 'ddim, ddpm: do not clamp the predicted x0, whatever the model recommends')
    .option('--c <c>', `power schedule k(t) = min(N-1, floor(N - N(1-t)^c)), c in [0, ${curvatureBound}]; 0 = full depth`)
    .option('--k-table <table>', 'stage table tStart:tEnd=k rows, e.g. 0:0.3=0,0.3:1=2')
    .option('--schedule <auto:f>', "calibrated schedule: auto:0.4 saves 40 % of the time with the least predicted error (auto:900ms: a target time), from model.json's calibration table (else a quick calibration first); see levelskip calibrate")
    .option('--fill <fill>', `what replaces skipped features: ${builtinFillSyntax.join('|')}; cache:m also recomputes the cache at full depth every m steps (DeepCache-style, e.g. --k-table 0:1=3 --fill cache:3); mean: the skip's per-channel spatial mean`);
}

export const sampleCommand: CliCommand = {
  name: 'sample',
  register(program: Command, context) {
    const command = program
      .command('sample')
      .description('Generate images, skipping deep U-Net levels per the skip schedule, and write a PNG grid')
      .addHelpText(
        'after',
        [
          '',
          samplingDefaultsHelp,
          '',
          'Examples:',
          '  levelskip sample --model mnist-zero-c2 --c 2 --out samples.png',
          '  levelskip sample --preset mnistSmall --random-weights --backend tfjs --engine wasm --steps 10 --batch 4 --json',
          '  levelskip sample --model mnist-zero-c2 --k-table 0:0.5=0,0.5:1=3 --fill duplicate --out grid.png --scale 2',
        ].join('\n'),
      );
    addModelOptions(command, { randomWeights: true });
    addSamplingOptions(command);
    command
      .option('--batch <n>', `images to sample, ${formatBounds(flagBounds.batch)} as memory allows (see --max-memory)`, '16')
      .option('--seed <n>', `seed of all the noise, ${formatBounds(flagBounds.seed)}`, '0')
      .option('--out <file.png>', 'write the images as a PNG grid')
      .option('--columns <n>', `images per grid row, ${formatBounds(flagBounds.columns)} (default min(batch, 8))`)
      .option('--scale <n>', `integer upscaling of each image in the grid, ${formatBounds(flagBounds.scale)} (default 1)`)
      .option('--row-labels <labels>', 'comma-separated label per grid row, e.g. c=0,c=2')
      .option('--max-memory <size>', maxMemoryHelp)
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress display on stderr')
      .action(async (flags: SampleFlags) => {
        const plan = planSample(flags);
        const summary = await withInterrupt(context.io, 'sampling', (signal) => runSample(plan, context.io, signal));
        if (plan.json) writeJson(context.io, summary);
        else writeSummary(context.io, summary);
      });
    return command;
  },
};
