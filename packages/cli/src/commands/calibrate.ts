/**
 * `levelskip calibrate`: measures a model's calibration table (core's `calibrate`): for held-out
 * MNIST digits noised to each calibrated timestep, how far each depth k and fill moves the ε
 * prediction from the full-depth one (and for the cache fill, per cache age), and what each depth
 * costs on the backend at hand (or in FLOPs). `--schedule auto:f` in `sample` and `eval` plans
 * with the table; `--write` stores it in a checkpoint's model.json (atomically), `--out` in a file.
 */
import type { Command } from 'commander';
import { calibrate, calibratedFillKinds, defaultCalibrationFillKinds, defaultCalibrationFills, calibrationLimits, parseCalibrationTable, type CalibratedFillKind, type CalibrationTable } from '@levelskip/core';
import { measurePropagation } from '@levelskip/samplers';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import { optionError, optional, parseChoice, parseChoiceList, parseIntegerIn, parseIntegerList, formatBounds } from '../options/option-values.js';
import { defaultMaxMemoryBytes, flagBounds } from '../options/flag-bounds.js';
import { checkOutputFile } from '../files/output-path.js';
import { writeFileAtomic } from '../files/write-file-atomic.js';
import { checkWeightsChoice, hasStoredWeights, loadModel, modelSourceFromOptions, trainedNoiseSchedule, type ModelSource } from '../model/resolve-model.js';
import { createBackend, parseBackendChoice, type BackendChoice } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { createPhaseLog } from '../progress/phase-log.js';
import { withInterrupt } from '../program/interrupt.js';
import { checkSamplingMemory } from '../sampling/memory-budget.js';
import { calibrationDataDescription, loadCalibrationImages } from '../calibration/calibration-data.js';
import { writeModelCalibration } from '../calibration/model-calibration.js';
import { formatCalibrationTable } from '../output/calibration-text.js';
import { resolveSamplerSettings } from '../sampling/sampling-settings.js';
import { buildSampler } from './sample.js';

export interface CalibrateFlags extends ModelFlagValues {
  readonly backend?: string;
  readonly engine?: string;
  readonly samples?: string;
  readonly timesteps?: string;
  readonly steps?: string;
  readonly ks?: string;
  readonly fills?: string;
  readonly ages?: string;
  readonly cost?: string;
  readonly batch?: string;
  readonly seed?: string;
  readonly propagationSamples?: string;
  readonly out?: string;
  readonly write?: boolean;
  readonly json?: boolean;
  readonly progress?: boolean;
}

export interface CalibratePlan {
  readonly source: ModelSource;
  readonly randomWeights: boolean;
  readonly weightsSeed: number;
  readonly backend: BackendChoice;
  readonly samples: number;
  readonly timesteps: number;
  /** Undefined: the model's recommended steps (model.json), else 50. */
  readonly steps: number | undefined;
  /** Undefined: every k in 1 … N − 1. */
  readonly ks: readonly number[] | undefined;
  /** Undefined: zero, interpolate (models with side paths), cache. */
  readonly fills: readonly CalibratedFillKind[] | undefined;
  readonly ages: readonly number[];
  readonly cost: 'measured' | 'flops';
  /** Undefined: min(samples, 32). */
  readonly batch: number | undefined;
  readonly seed: number;
  /** Images of the propagation measurement (`measurePropagation`); 0: none (the weights then use the Gaussian-data model). */
  readonly propagationSamples: number;
  readonly out: string | undefined;
  readonly write: boolean;
  readonly json: boolean;
  readonly progress: boolean;
}

/** The 1,000 digits of MNIST's test split. */
const maxSamples = 1000;

/**
 * Checks `calibrate`'s flags (no I/O).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag.
 */
export function planCalibrate(flags: CalibrateFlags): CalibratePlan {
  const source = modelSourceFromOptions(flags);
  const randomWeights = flags.randomWeights === true;
  checkWeightsChoice(source, randomWeights);
  const ks = optional(flags.ks, (text) => parseIntegerList('--ks', text).sort((a, b) => a - b));
  if (ks?.includes(0)) throw optionError('--ks', 'lists depths to skip (k ≥ 1); k = 0 is the full network every error is measured against');
  const ages = optional(flags.ages, (text) => parseIntegerList('--ages', text).sort((a, b) => a - b)) ?? [1, 2, 3, 4, 6, 8];
  if (ages.some((age) => age < 1 || age > calibrationLimits.ages)) throw optionError('--ages', `lists cache ages in steps, integers in [1, ${calibrationLimits.ages}]`);
  const plan: CalibratePlan = {
    source,
    randomWeights,
    weightsSeed: parseIntegerIn('--weights-seed', flags.weightsSeed ?? '0', flagBounds.seed),
    backend: parseBackendChoice(flags.backend ?? 'onnx', flags.engine),
    samples: parseIntegerIn('--samples', flags.samples ?? '32', { min: 1, max: maxSamples }),
    timesteps: parseIntegerIn('--timesteps', flags.timesteps ?? '8', { min: 1, max: calibrationLimits.timesteps }),
    steps: optional(flags.steps, (text) => parseIntegerIn('--steps', text, flagBounds.steps)),
    ks,
    fills: optional(flags.fills, (text) => parseChoiceList('--fills', text, calibratedFillKinds)),
    ages,
    cost: parseChoice('--cost', flags.cost ?? 'measured', ['measured', 'flops'] as const),
    batch: optional(flags.batch, (text) => parseIntegerIn('--batch', text, flagBounds.batch)),
    seed: parseIntegerIn('--seed', flags.seed ?? '0', flagBounds.seed),
    propagationSamples: parseIntegerIn('--propagation-samples', flags.propagationSamples ?? '8', { min: 0, max: 256 }),
    out: flags.out,
    write: flags.write === true,
    json: flags.json === true,
    progress: flags.progress !== false,
  };
  if (plan.out !== undefined && !/\.json$/i.test(plan.out)) throw optionError('--out', `must be a .json file path, got ${JSON.stringify(plan.out)}`);
  if (plan.write && !hasStoredWeights(source)) throw optionError('--write', 'stores the table in a model directory\'s model.json; --preset and --spec have none: use --out <file.json>');
  return plan;
}

/** What `calibrate` reports (its `--json` output). */
export interface CalibrateSummary {
  readonly model: string;
  readonly data: string;
  readonly table: CalibrationTable;
  /** Wall-clock time of the calibration itself (model load excluded). */
  readonly calibrationMs: number;
  readonly totalMs: number;
  /** Files the table was written to. */
  readonly written: readonly string[];
}

/** Runs a validated plan: loads the model and the held-out digits, calibrates, writes the table. */
export async function runCalibrate(plan: CalibratePlan, io: CliIo, signal?: AbortSignal): Promise<CalibrateSummary> {
  const started = performance.now();
  const log = createPhaseLog({ label: 'calibrate', stream: io.stderr, enabled: plan.progress });
  if (plan.out !== undefined) await checkOutputFile('--out', plan.out);
  log.phase('loading the model');
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'random', weightsSeed: plan.weightsSeed });
  const { spec } = model;
  if (plan.write && model.directory === undefined) throw optionError('--write', 'needs a model stored in a directory (--model or --checkpoint)');
  const levels = spec.channelMults.length;
  if (plan.ks !== undefined && plan.ks.some((k) => k > levels - 1)) throw optionError('--ks', `lists a depth beyond this ${levels}-level model's k = ${levels - 1}`);
  const steps = plan.steps ?? model.sampling?.steps ?? 50;
  if (steps > spec.trainTimesteps) throw optionError('--steps', `must be at most the model's T = ${spec.trainTimesteps}, got ${steps}`);
  if (plan.timesteps > steps) throw optionError('--timesteps', `must be at most the ${steps} steps whose grid it samples, got ${plan.timesteps}`);
  const batch = Math.min(plan.batch ?? 32, plan.samples);
  checkSamplingMemory({ spec, batch, maxBytes: defaultMaxMemoryBytes() });
  log.phase(`loading ${plan.samples} held-out MNIST digits`);
  const data = await loadCalibrationImages(spec, plan.samples, '--model');
  const backend = await createBackend(plan.backend);
  let table: CalibrationTable;
  let calibrationMs: number;
  try {
    const denoiser = await backend.createDenoiser(spec, model.weights!);
    try {
      const calibrationStart = performance.now();
      const fills = plan.fills ?? defaultCalibrationFills(spec);
      log.phase(`preparing ${denoiser.backend} for k = 0…${levels - 1}, fills ${fills.join(', ')} (batch ${batch})`);
      await denoiser.prepare?.({ fills: fills.map((fill) => ({ kind: fill })), batch, ...(signal === undefined ? {} : { signal }) });
      log.phase(`calibrating: ${plan.timesteps} timesteps on the grid of ${steps} steps, cache ages ${plan.ages.join(', ')} steps, ${plan.cost} costs`);
      const progress = createProgressReporter({ label: 'calibrating', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
      let progressStarted = false;
      try {
        table = await calibrate(denoiser, {
          data,
          samples: plan.samples,
          timesteps: plan.timesteps,
          ...(plan.ks === undefined ? {} : { ks: plan.ks }),
          fills,
          steps,
          ages: plan.ages,
          seed: plan.seed,
          batch,
          cost: plan.cost,
          noiseSchedule: trainedNoiseSchedule(spec, model.training),
          ...(signal === undefined ? {} : { signal }),
          onProgress: ({ done, total, what }) => {
            if (!progressStarted) {
              progress.start(total);
              progressStarted = true;
            }
            progress.update(done, { detail: what });
          },
        });
      } finally {
        progress.stop();
      }
      if (plan.propagationSamples > 0) {
        const settings = resolveSamplerSettings({ sampler: undefined, steps, eta: undefined, noiseLevels: undefined, clipSample: undefined }, model.sampling, spec.trainTimesteps);
        if (settings.sampler === 'langevin' || settings.prediction !== 'epsilon') {
          log.phase(`propagation not measured (the model recommends ${settings.sampler === 'langevin' ? 'annealed Langevin' : `${settings.prediction} prediction`}); the error weights use the Gaussian-data model`);
        } else {
          const sampler = buildSampler(settings, trainedNoiseSchedule(spec, model.training));
          log.phase(`measuring how errors propagate to the final sample: ${sampler.description}, ${plan.propagationSamples} images, 8 steps`);
          const propagation = await measurePropagation(denoiser, {
            sampler,
            eta: settings.eta ?? 0,
            batch: plan.propagationSamples,
            seed: plan.seed,
            ...(signal === undefined ? {} : { signal }),
          });
          table = parseCalibrationTable({ ...table, propagation, seconds: (performance.now() - calibrationStart) / 1000 });
        }
      }
      calibrationMs = performance.now() - calibrationStart;
    } finally {
      denoiser.dispose();
    }
  } finally {
    backend.dispose();
  }
  const written: string[] = [];
  if (plan.out !== undefined) {
    await writeFileAtomic(plan.out, `${JSON.stringify(table, null, 2)}\n`);
    written.push(plan.out);
  }
  if (plan.write) written.push(await writeModelCalibration(model.directory!, table));
  log.phase(`done: calibration took ${formatDuration(calibrationMs)}`);
  return { model: model.label, data: calibrationDataDescription, table, calibrationMs, totalMs: performance.now() - started, written };
}

function writeSummary(io: CliIo, summary: CalibrateSummary): void {
  const lines = [
    `model      ${summary.model}`,
    `data       ${summary.table.samples} images of the ${summary.data}`,
    `time       calibration ${formatDuration(summary.calibrationMs)} (total ${formatDuration(summary.totalMs)}, model load included)`,
    summary.written.length === 0 ? 'written    nowhere (pass --out <file.json>, or --write to store it in model.json)' : `written    ${summary.written.join(', ')}`,
    '',
    ...formatCalibrationTable(summary.table),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
}

export const calibrateCommand: CliCommand = {
  name: 'calibrate',
  register(program: Command, context) {
    const command = program
      .command('calibrate')
      .description("Measure a model's calibration table (error and cost of each skipped depth and fill) for --schedule auto:f")
      .addHelpText(
        'after',
        [
          '',
          `Data: the first --samples digits of the ${calibrationDataDescription}.`,
          'Each is noised to every calibrated timestep; the table holds mean ‖ε_k − ε_0‖² per image for each depth k and fill (the',
          'cache fill per cache age: steps of ⌊T/--steps⌋ timesteps since the full-depth step that filled it) and the cost of each',
          'depth: measured ms per predict at --batch on this backend, or FLOPs (--cost flops); and how far an error at each step',
          "travels to the final sample (the model's recommended sampler, --propagation-samples). `sample --schedule auto:0.4` then",
          'picks k per step (and the cache refreshes) to save 40 % of the time with the least predicted error.',
          '',
          'Examples:',
          '  levelskip calibrate --model mnist-full --out mnist-full.calibration.json',
          '  levelskip calibrate --checkpoint out/model --write',
          '  levelskip calibrate --model mnist-zero-c2 --fills zero --cost flops --json',
        ].join('\n'),
      );
    addModelOptions(command, { randomWeights: true });
    command
      .option('--backend <name>', 'onnx or tfjs', 'onnx')
      .option('--engine <engine>', 'tfjs: auto|node-gpu|node|wasm|cpu (default auto); onnx: execution providers in order, e.g. cuda,cpu (default cpu)')
      .option('--samples <n>', `held-out digits to average over, 1–${maxSamples}`, '32')
      .option('--timesteps <n>', 'timesteps to calibrate, spread evenly over the grid of --steps (default 8)')
      .option('--steps <n>', `the sampler's step count, ${formatBounds(flagBounds.steps)}: the cache ages count steps of ⌊T/steps⌋ (default: the model's recommended steps, else 50)`)
      .option('--ks <list>', 'depths to calibrate, e.g. 1,2,3 (default every k in 1…N−1)')
      .option('--fills <list>', `fills to calibrate from ${calibratedFillKinds.join(', ')} (default: those of ${defaultCalibrationFillKinds.join(', ')} the model supports)`)
      .option('--ages <list>', 'cache ages to measure, in steps (default 1,2,3,4,6,8)')
      .option('--cost <kind>', 'measured (ms per predict at --batch on this backend) or flops', 'measured')
      .option('--batch <n>', 'images per prediction, also the batch the costs are timed at (default min(samples, 32))')
      .option('--seed <n>', 'seed of the noise the digits are noised with', '0')
      .option('--propagation-samples <n>', "images for measuring how an error at each step reaches the final sample, with the model's recommended sampler (0–256; 0: none, the error weights then use a Gaussian-data model)", '8')
      .option('--out <file.json>', 'write the table to this JSON file')
      .option('--write', "store the table in the model directory's model.json (atomically), where sample --schedule auto:f finds it")
      .option('--json', 'print the summary (with the table) as JSON')
      .option('--no-progress', 'no progress display on stderr')
      .action(async (flags: CalibrateFlags) => {
        const plan = planCalibrate(flags);
        const summary = await withInterrupt(context.io, 'calibration', (signal) => runCalibrate(plan, context.io, signal));
        if (plan.json) writeJson(context.io, summary);
        else writeSummary(context.io, summary);
      });
    return command;
  },
};
