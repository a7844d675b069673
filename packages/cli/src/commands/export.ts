/**
 * `levelskip export`: writes a model's fused per-depth ONNX graphs (`stage{s}-k{k}-{fill}.onnx`,
 * `-full` at k = 0) and a `manifest.json` with `@levelskip/backend-onnx`'s `exportOnnx`, so any
 * ONNX runtime can sample with level skipping without levelskip; or, with `--format diffusers`,
 * a 🤗 diffusers UNet2DModel directory (config.json, diffusion_pytorch_model.safetensors and the
 * scheduler_config.json of the model's noise schedule) with core's `saveDiffusersModel`, which
 * `UNet2DModel.from_pretrained` loads.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  assertFillSupported,
  describeArchitecture,
  exportableFillKinds,
  fileSystemError,
  parseFill,
  saveDiffusersModel,
  type DiffusersSchedulerInput,
  type GraphFusableFillKind,
  type UNetSpec,
} from '@levelskip/core';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import { optionError, optional, parseChoice, parseChoiceList, parseIntegerIn, parseIntegerList } from '../options/option-values.js';
import { flagBounds } from '../options/flag-bounds.js';
import { checkOutputDirectory } from '../files/output-path.js';
import { checkWeightsChoice, hasStoredWeights, loadModel, modelSourceFromOptions, trainedNoiseSchedule, type ModelSource, type ResolvedModel } from '../model/resolve-model.js';
import { formatBytes, formatTable } from '../output/format-table.js';

/** The fills `--fill` takes: those of core's fill registry a compiled graph can hold. */
export const exportFills: readonly GraphFusableFillKind[] = exportableFillKinds;
export type ExportFillName = GraphFusableFillKind;
/** What `export` writes: ONNX graphs, or a diffusers UNet2DModel directory. */
export const exportFormats = ['onnx', 'diffusers'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export interface ExportFlags extends ModelFlagValues {
  readonly out?: string;
  readonly k?: string;
  readonly fill?: string;
  readonly stage?: string;
  readonly format?: string;
  readonly json?: boolean;
}

export interface ExportPlan {
  readonly source: ModelSource;
  readonly randomWeights: boolean;
  readonly weightsSeed: number;
  readonly out: string;
  /** `onnx` (default) or `diffusers`. */
  readonly format: ExportFormat;
  /** Undefined: every k. */
  readonly ks: readonly number[] | undefined;
  /** Undefined: zero and duplicate, plus interpolate for models with side paths. */
  readonly fills: readonly ExportFillName[] | undefined;
  /** Undefined: every decoder stage. */
  readonly stages: readonly number[] | undefined;
  readonly json: boolean;
}

/**
 * Checks `export`'s flags without touching a file.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the flag.
 */
export function planExport(flags: ExportFlags): ExportPlan {
  const source = modelSourceFromOptions(flags);
  const randomWeights = flags.randomWeights === true;
  checkWeightsChoice(source, randomWeights);
  if (flags.out === undefined || flags.out.trim() === '') throw optionError('--out', 'is required: the directory to write the graphs and manifest.json to');
  const format = parseChoice('--format', flags.format ?? 'onnx', exportFormats);
  if (format === 'diffusers') {
    for (const [flag, value] of [['--k', flags.k], ['--fill', flags.fill], ['--stage', flags.stage]] as const) {
      if (value !== undefined) throw optionError(flag, 'applies to --format onnx only: a diffusers UNet2DModel is the full network (skip levels when sampling it instead)');
    }
  }
  return {
    source,
    randomWeights,
    weightsSeed: parseIntegerIn('--weights-seed', flags.weightsSeed ?? '0', flagBounds.seed),
    out: flags.out,
    format,
    ks: optional(flags.k, (text) => parseIntegerList('--k', text)),
    fills: optional(flags.fill, (text) => parseChoiceList('--fill', text, exportFills)),
    stages: optional(flags.stage, (text) => parseIntegerList('--stage', text)),
    json: flags.json === true,
  };
}

/** Checks the plan's ks, fills and stages against the model (before anything is written). */
export function checkExportAgainstSpec(plan: ExportPlan, spec: UNetSpec): void {
  const arch = describeArchitecture(spec);
  for (const k of plan.ks ?? []) {
    if (k > arch.levels - 1) throw optionError('--k', `lists k = ${k}, but this ${arch.levels}-level model has k = 0..${arch.levels - 1}`);
  }
  for (const stage of plan.stages ?? []) {
    if (stage > arch.decoders.length - 1) {
      throw optionError('--stage', `lists stage ${stage}, but this model has ${arch.decoders.length === 1 ? 'one decoder (stage 0)' : `stages 0..${arch.decoders.length - 1}`}`);
    }
  }
  for (const fill of plan.fills ?? []) assertFillSupported(spec, parseFill(fill));
}

export interface ExportSummary {
  readonly model: string;
  readonly out: string;
  readonly manifest: string;
  readonly graphs: readonly { readonly file: string; readonly stage: number; readonly k: number; readonly fill: string; readonly bytes: number }[];
}

/** Runs a validated plan. */
export async function runExport(plan: ExportPlan): Promise<ExportSummary> {
  await checkOutputDirectory('--out', plan.out);
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'random', weightsSeed: plan.weightsSeed });
  checkExportAgainstSpec(plan, model.spec);
  const { exportOnnx } = await import('@levelskip/backend-onnx');
  const manifest = await exportOnnx(model.spec, model.weights!, plan.out, {
    ...(plan.ks === undefined ? {} : { ks: plan.ks }),
    ...(plan.fills === undefined ? {} : { fills: plan.fills }),
    ...(plan.stages === undefined ? {} : { stages: plan.stages }),
  });
  const graphs = [];
  for (const graph of manifest.graphs) {
    const path = join(plan.out, graph.file);
    const { size } = await stat(path).catch((error: unknown) => {
      throw fileSystemError(error, path, { action: 'read', what: 'the exported graph' });
    });
    graphs.push({ file: graph.file, stage: graph.stage, k: graph.k, fill: graph.fill, bytes: size });
  }
  return { model: model.label, out: plan.out, manifest: join(plan.out, 'manifest.json'), graphs };
}

export interface DiffusersExportSummary {
  readonly model: string;
  readonly out: string;
  readonly format: 'diffusers';
  /** The files written, config.json last. */
  readonly files: readonly { readonly file: string; readonly bytes: number }[];
}

/**
 * The scheduler_config.json settings of a model: its training noise schedule, and its recommended
 * sampler (DDIMScheduler for ddim, else DDPMScheduler), prediction type, clipping and spacing.
 */
function schedulerOf(model: ResolvedModel): DiffusersSchedulerInput {
  const sampling = model.sampling;
  return {
    noiseSchedule: trainedNoiseSchedule(model.spec, model.training),
    className: sampling?.sampler === 'ddim' ? 'DDIMScheduler' : 'DDPMScheduler',
    clipSample: sampling?.clip ?? false,
    ...(sampling?.clipSampleRange === undefined ? {} : { clipSampleRange: sampling.clipSampleRange }),
    ...(sampling?.prediction === undefined ? {} : { prediction: sampling.prediction }),
    ...(sampling?.timestepSpacing === undefined ? {} : { timestepSpacing: sampling.timestepSpacing }),
    ...(sampling?.stepsOffset === undefined ? {} : { stepsOffset: sampling.stepsOffset }),
  };
}

/** Runs a validated plan with `format: 'diffusers'`. */
export async function runDiffusersExport(plan: ExportPlan): Promise<DiffusersExportSummary> {
  await checkOutputDirectory('--out', plan.out);
  const model = await loadModel(plan.source, { weights: hasStoredWeights(plan.source) ? 'stored' : 'random', weightsSeed: plan.weightsSeed });
  const saved = await saveDiffusersModel(plan.out, { spec: model.spec, weights: model.weights!, scheduler: schedulerOf(model) });
  const files = [];
  for (const file of saved.files) {
    const path = join(plan.out, file);
    const { size } = await stat(path).catch((error: unknown) => {
      throw fileSystemError(error, path, { action: 'read', what: 'the exported file' });
    });
    files.push({ file, bytes: size });
  }
  return { model: model.label, out: plan.out, format: 'diffusers', files };
}

function writeDiffusersText(io: CliIo, summary: DiffusersExportSummary): void {
  io.stdout.write(`exported ${summary.model} to ${summary.out} as a diffusers UNet2DModel:\n`);
  io.stdout.write(formatTable(['file', { header: 'size', align: 'right' }], summary.files.map((f) => [f.file, formatBytes(f.bytes)])));
  io.stdout.write(`load it in Python: UNet2DModel.from_pretrained(${JSON.stringify(summary.out)})\n`);
}

function writeText(io: CliIo, summary: ExportSummary): void {
  io.stdout.write(`exported ${summary.model} to ${summary.out}:\n`);
  io.stdout.write(
    formatTable(
      ['file', 'stage', 'k', 'fill', { header: 'size', align: 'right' }],
      summary.graphs.map((g) => [g.file, g.stage, g.k, g.fill, formatBytes(g.bytes)]),
    ),
  );
  io.stdout.write(`manifest ${summary.manifest}\n`);
}

export const exportCommand: CliCommand = {
  name: 'export',
  register(program: Command, context) {
    const command = program
      .command('export')
      .description('Write the fused per-k ONNX graphs of a model and a manifest.json (runs in any ONNX runtime), or a diffusers UNet2DModel directory')
      .addHelpText(
        'after',
        [
          '',
          'Graph inputs: x [batch, C, H, W] and t [batch] (float diffusion timesteps); output eps. See manifest.json.',
          '',
          'Examples:',
          '  levelskip export --model mnist-zero-c2 --out onnx/mnist-zero-c2',
          '  levelskip export --checkpoint models/zero-c2 --out onnx/zero-c2 --k 0,3 --fill zero',
          '  levelskip export --model mnist-full --format diffusers --out diffusers/mnist-full',
          '',
          '--format diffusers writes config.json, diffusion_pytorch_model.safetensors and scheduler_config.json',
          '(UNet2DModel.from_pretrained loads it); models with side paths, several decoders or ode2 blocks are refused.',
        ].join('\n'),
      );
    addModelOptions(command, { randomWeights: true });
    command
      .option('--out <dir>', 'directory for the .onnx graphs and manifest.json (or the diffusers files)')
      .option('--format <format>', `what to write: ${exportFormats.join(' or ')} (default onnx)`)
      .option('--k <list>', "depths to export, e.g. 0,1,2,3, each in 0..N-1 of the model (default all)")
      .option('--fill <list>', `fills fused for k > 0: ${exportFills.join(',')} (default zero,duplicate, plus interpolate with side paths; mean on request)`)
      .option('--stage <list>', "decoder stages of a multi-decoder model, each in 0..stages-1 (default all)")
      .option('--json', 'print what was written as JSON')
      .action(async (flags: ExportFlags) => {
        const plan = planExport(flags);
        if (plan.format === 'diffusers') {
          const summary = await runDiffusersExport(plan);
          if (plan.json) writeJson(context.io, summary);
          else writeDiffusersText(context.io, summary);
          return;
        }
        const summary = await runExport(plan);
        if (plan.json) writeJson(context.io, summary);
        else writeText(context.io, summary);
      });
    return command;
  },
};
