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
  assertFillSupported,
  builtinFillKinds,
  fillLabel,
  parseFill,
  parseKTable,
  powerSchedule,
  predictedTimeSaved,
  stageSchedule,
  type NoiseSchedule,
  type SkipSchedule,
  type StageEntry,
} from '@levelskip/core';
import { annealedLangevin, ddim, ddpm, dpmSolverPlusPlus, sample, type Sampler } from '@levelskip/samplers';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import {
  optionError,
  optional,
  parseChoice,
  parseList,
  parseNonNegativeInteger,
  parseNumberIn,
  parsePositiveInteger,
} from '../options/option-values.js';
import {
  checkWeightsChoice,
  hasStoredWeights,
  loadModel,
  modelSourceFromOptions,
  trainedFill,
  trainedNoiseSchedule,
  trainedSchedule,
  type ModelSource,
  type ResolvedModel,
} from '../model/resolve-model.js';
import { createBackend, parseBackendChoice, type BackendChoice } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { writeImageGrid, type WrittenImageGrid } from '../image/image-grid.js';
import { withInterrupt } from '../program/interrupt.js';
import { formatPercent } from '../output/format-table.js';

export const samplerNames = ['ddim', 'ddpm', 'langevin', 'dpm-solver'] as const;
export type SamplerName = (typeof samplerNames)[number];

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
  readonly fill?: string;
  readonly batch?: string;
  readonly seed?: string;
  readonly out?: string;
  readonly columns?: string;
  readonly scale?: string;
  readonly rowLabels?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
}

export type SkipChoice = { readonly kind: 'power'; readonly c: number } | { readonly kind: 'table'; readonly table: readonly StageEntry[] };

/** Validated flags. `undefined` means "the model's default" where the model has one. */
export interface SamplePlan {
  readonly source: ModelSource;
  readonly randomWeights: boolean;
  readonly weightsSeed: number;
  readonly backend: BackendChoice;
  readonly sampler: SamplerName;
  readonly steps: number | undefined;
  readonly eta: number | undefined;
  readonly noiseLevels: number | undefined;
  /** Clamp x̂₀ to [-1, 1] in each step (ddim, ddpm). */
  readonly clipSample: boolean;
  /** Undefined: the schedule the model was trained for (model.json), else full depth. */
  readonly skip: SkipChoice | undefined;
  /** Undefined: the fill the model was trained with (model.json), else zero. */
  readonly fill: string | undefined;
  readonly batch: number;
  readonly seed: number;
  readonly out: string | undefined;
  readonly columns: number | undefined;
  readonly scale: number;
  readonly rowLabels: readonly string[] | undefined;
  readonly json: boolean;
  readonly progress: boolean;
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
  const weightsSeed = parseNonNegativeInteger('--weights-seed', flags.weightsSeed ?? '0');
  const backend = parseBackendChoice(flags.backend ?? 'onnx', flags.engine);
  const sampler = parseChoice('--sampler', flags.sampler ?? 'ddim', samplerNames);
  const steps = optional(flags.steps, (text) => parsePositiveInteger('--steps', text));
  const eta = optional(flags.eta, (text) => parseNumberIn('--eta', text, (v) => v >= 0 && v <= 1, 'in [0, 1] (0 = deterministic DDIM)'));
  if (eta !== undefined && sampler !== 'ddim') throw optionError('--eta', `applies to --sampler ddim only (got --sampler ${sampler})`);
  const noiseLevels = optional(flags.noiseLevels, (text) => parsePositiveInteger('--noise-levels', text));
  if (noiseLevels !== undefined && sampler !== 'langevin') throw optionError('--noise-levels', `applies to --sampler langevin only (got --sampler ${sampler})`);
  if (sampler === 'langevin') langevinSplit(steps ?? 50, noiseLevels);
  const clipSample = flags.clipSample === true;
  if (clipSample && sampler !== 'ddim' && sampler !== 'ddpm') throw optionError('--clip-sample', `applies to --sampler ddim and ddpm only (got --sampler ${sampler})`);

  if (flags.c !== undefined && flags.kTable !== undefined) throw optionError('--c', 'and --k-table both set the skip schedule; pass one of them');
  let skip: SkipChoice | undefined;
  if (flags.c !== undefined) {
    const c = parseNumberIn('--c', flags.c, (v) => v >= 0, '≥ 0 (0 = full depth; the paper uses 1, 2, 3, 5)');
    powerSchedule({ c });
    skip = { kind: 'power', c };
  } else if (flags.kTable !== undefined) {
    skip = { kind: 'table', table: parseKTable(flags.kTable) };
  }
  const fill = flags.fill === undefined ? undefined : fillLabel(parseFill(flags.fill));

  const batch = parsePositiveInteger('--batch', flags.batch ?? '16');
  const seed = parseNonNegativeInteger('--seed', flags.seed ?? '0');
  const out = flags.out;
  if (out !== undefined && !/\.png$/i.test(out)) throw optionError('--out', `must be a .png file path, got ${JSON.stringify(out)}`);
  const columns = optional(flags.columns, (text) => parsePositiveInteger('--columns', text));
  const scale = parsePositiveInteger('--scale', flags.scale ?? '1');
  if (scale > 16) throw optionError('--scale', `must be at most 16, got ${scale}`);
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
    fill,
    batch,
    seed,
    out,
    columns,
    scale,
    rowLabels,
    json: flags.json === true,
    progress: flags.progress !== false,
  };
}

/** Langevin's `--steps` as noise levels × steps per level (default levels: min(10, steps)). */
function langevinSplit(steps: number, noiseLevels: number | undefined): { noiseLevels: number; stepsPerLevel: number } {
  const levels = noiseLevels ?? Math.min(10, steps);
  if (steps % levels !== 0) {
    throw optionError('--steps', `must be a multiple of the ${levels} noise levels for --sampler langevin (steps = noise levels × steps per level), got ${steps}`);
  }
  return { noiseLevels: levels, stepsPerLevel: steps / levels };
}

/** The sampler the plan asks for, on the model's noise schedule. */
export function buildSampler(plan: Pick<SamplePlan, 'sampler' | 'steps' | 'eta' | 'noiseLevels' | 'clipSample'>, noiseSchedule: NoiseSchedule): Sampler {
  const clip = plan.clipSample ? { clipSample: true } : {};
  switch (plan.sampler) {
    case 'ddim':
      return ddim({ steps: plan.steps ?? 50, eta: plan.eta ?? 0, noiseSchedule, ...clip });
    case 'ddpm':
      return ddpm({ steps: plan.steps ?? noiseSchedule.trainTimesteps, noiseSchedule, ...clip });
    case 'dpm-solver':
      return dpmSolverPlusPlus({ steps: plan.steps ?? 50, noiseSchedule });
    case 'langevin':
      return annealedLangevin({ ...langevinSplit(plan.steps ?? 50, plan.noiseLevels), noiseSchedule });
  }
}

/** The skip schedule to sample with, and where it came from. */
export function resolveSkipSchedule(plan: Pick<SamplePlan, 'skip'>, model: Pick<ResolvedModel, 'training'>): { schedule: SkipSchedule; origin: 'flag' | 'model' | 'default' } {
  if (plan.skip !== undefined) {
    return { schedule: plan.skip.kind === 'power' ? powerSchedule({ c: plan.skip.c }) : stageSchedule(plan.skip.table), origin: 'flag' };
  }
  const trained = trainedSchedule(model.training);
  return trained === undefined ? { schedule: powerSchedule({ c: 0 }), origin: 'default' } : { schedule: trained, origin: 'model' };
}

/** What `sample` reports (its `--json` output). */
export interface SampleSummary {
  readonly model: string;
  readonly backend: string;
  readonly sampler: string;
  readonly schedule: string;
  readonly scheduleOrigin: 'flag' | 'model' | 'default';
  /** The fill's label (`fillLabel`), e.g. zero or cache:3. */
  readonly fill: string;
  readonly fillOrigin: 'flag' | 'model' | 'default';
  readonly batch: number;
  readonly seed: number;
  readonly steps: number;
  readonly timesteps: readonly number[];
  readonly ks: readonly number[];
  /** Steps per k: `{ "0": 12, "3": 20 }`. */
  readonly ksHistogram: Readonly<Record<string, number>>;
  readonly predictedFractionSaved: number;
  readonly timing: { readonly loadMs: number; readonly buildMs: number; readonly sampleMs: number; readonly msPerStep: number; readonly totalMs: number };
  readonly output: { readonly path: string; readonly width: number; readonly height: number } | null;
}

function histogram(ks: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of [...ks].sort((a, b) => a - b)) counts[String(k)] = (counts[String(k)] ?? 0) + 1;
  return counts;
}

/** Runs a validated plan: loads the model, samples, writes the grid. */
export async function runSample(plan: SamplePlan, io: CliIo, signal?: AbortSignal): Promise<SampleSummary> {
  const started = performance.now();
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'random', weightsSeed: plan.weightsSeed });
  const { spec } = model;
  const fillKind = plan.fill ?? trainedFill(model.training) ?? 'zero';
  const fillOrigin = plan.fill !== undefined ? 'flag' : trainedFill(model.training) !== undefined ? 'model' : 'default';
  const fill = parseFill(fillKind);
  assertFillSupported(spec, fill);
  const { schedule, origin } = resolveSkipSchedule(plan, model);
  const sampler = buildSampler(plan, trainedNoiseSchedule(spec, model.training));
  // Evaluates k at every step now: a table row with k > N - 1 fails before any engine starts.
  const prediction = predictedTimeSaved(spec, schedule, sampler.timesteps, { fill: fillKind });
  const loadMs = performance.now() - started;

  const backend = await createBackend(plan.backend);
  try {
    const buildStart = performance.now();
    const denoiser = await backend.createDenoiser(spec, model.weights!, { fill });
    const buildMs = performance.now() - buildStart;
    try {
      const progress = createProgressReporter({ label: 'sampling', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
      progress.start(sampler.timesteps.length);
      let result;
      try {
        result = await sample({
          denoiser,
          sampler,
          skip: schedule,
          fill,
          batch: plan.batch,
          seed: plan.seed,
          ...(signal === undefined ? {} : { signal }),
          onProgress: ({ step, k }) => progress.update(step, { detail: `k=${k}` }),
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
        schedule: schedule.description,
        scheduleOrigin: origin,
        fill: fillKind,
        fillOrigin,
        batch: plan.batch,
        seed: plan.seed,
        steps: result.stepsRun,
        timesteps: result.timesteps,
        ks: result.ks,
        ksHistogram: histogram(result.ks),
        predictedFractionSaved: prediction.fractionSaved,
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

const originText = { flag: '', model: ' (trained for; from model.json)', default: ' (default)' } as const;

function writeSummary(io: CliIo, summary: SampleSummary): void {
  const t = summary.timing;
  const lines = [
    `model      ${summary.model}`,
    `backend    ${summary.backend}`,
    `sampler    ${summary.sampler}`,
    `schedule   ${summary.schedule}${originText[summary.scheduleOrigin]}`,
    `fill       ${summary.fill}${originText[summary.fillOrigin]}`,
    `images     ${summary.batch} (seed ${summary.seed})`,
    `steps      ${summary.steps} in ${formatDuration(t.sampleMs)} (${formatDuration(t.msPerStep)}/step); model load ${formatDuration(t.loadMs)}, build ${formatDuration(t.buildMs)}, total ${formatDuration(t.totalMs)}`,
    `ks         ${Object.entries(summary.ksHistogram)
      .map(([k, n]) => `k=${k}: ${n}`)
      .join(', ')}`,
    `predicted  ${formatPercent(summary.predictedFractionSaved)} of full-depth FLOPs saved by this schedule`,
    summary.output === null ? 'image      not written (pass --out <file.png>)' : `image      ${summary.output.path} (${summary.output.width}×${summary.output.height})`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** The flags `sample` and `eval` share: backend, engine, sampler, its settings, skip schedule and fill. */
export function addSamplingOptions(command: Command): Command {
  return command
    .option('--backend <name>', 'onnx or tfjs', 'onnx')
    .option('--engine <engine>', 'tfjs: auto|node-gpu|node|wasm|cpu (default auto); onnx: execution providers in order, e.g. cuda,cpu (default cpu)')
    .option('--sampler <name>', samplerNames.join('|'), 'ddim')
    .option('--steps <n>', 'sampling steps (default 50; ddpm: T)')
    .option('--eta <eta>', 'DDIM η in [0, 1] (default 0)')
    .option('--noise-levels <n>', 'langevin: noise levels (default min(10, steps))')
    .option('--clip-sample', 'ddim, ddpm: clamp the predicted x0 to [-1, 1] at each step (diffusers\' clip_sample)')
    .option('--c <c>', 'power schedule k(t) = min(N-1, floor(N - N(1-t)^c)); 0 = full depth')
    .option('--k-table <table>', 'stage table tStart:tEnd=k rows, e.g. 0:0.3=0,0.3:1=2')
    .option('--fill <fill>', `what replaces skipped features: ${builtinFillKinds.join('|')}; cache:m also recomputes the cache at full depth every m steps (DeepCache-style, e.g. --k-table 0:1=3 --fill cache:3)`);
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
          'Defaults: the skip schedule and fill a model was trained for (model.json), else --c 0 (full depth) and --fill zero.',
          '--steps defaults to 50 (ddpm: T, the model\'s trainTimesteps); langevin splits --steps into --noise-levels × steps per level.',
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
      .option('--batch <n>', 'images to sample', '16')
      .option('--seed <n>', 'seed of all the noise', '0')
      .option('--out <file.png>', 'write the images as a PNG grid')
      .option('--columns <n>', 'images per grid row (default min(batch, 8))')
      .option('--scale <n>', 'integer upscaling of each image in the grid (default 1)')
      .option('--row-labels <labels>', 'comma-separated label per grid row, e.g. c=0,c=2')
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
