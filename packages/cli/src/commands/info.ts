/**
 * `levelskip info`: what a model is and what skipping its levels costs and saves, from core's
 * accounting alone (nothing runs): the spec, parameter count, FLOPs per level and per depth k
 * (per decoder stage for multi-decoder U-Nets), the FLOP-predicted time saved by the paper's power
 * schedule k(t) = min(N - 1, ⌊N - N(1 - t)^c⌋) for c ∈ {1, 2, 3, 5} with DDIM-50 and full DDPM,
 * and the training record and recommended sampling settings of model.json.
 */
import type { Command } from 'commander';
import {
  cacheFillEvery,
  constantSchedule,
  describeArchitecture,
  fillsSupportedBy,
  flopTable,
  levelGeometry,
  parameterCount,
  powerSchedule,
  predictedTimeSaved,
  sampledTimesteps,
  type DepthGeometry,
  type FlopTable,
  type CalibrationTable,
  type RecommendedSampling,
  type TrainingRecord,
  type UNetSpec,
} from '@levelskip/core';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions, type ModelFlagValues } from '../options/model-options.js';
import { loadModel, modelSourceFromOptions, type ModelSource, type ResolvedModel } from '../model/resolve-model.js';
import { formatFlops, formatInteger, formatPercent, formatTable } from '../output/format-table.js';
import { formatCalibrationTable } from '../output/calibration-text.js';
import { readModelCalibration } from '../calibration/model-calibration.js';

/** The power-schedule curvatures the paper evaluates. */
export const paperCurvatures = [1, 2, 3, 5] as const;

interface InfoFlags extends ModelFlagValues {
  readonly json?: boolean;
}

export interface InfoPlan {
  readonly source: ModelSource;
  readonly json: boolean;
}

/** Validates `info`'s flags (no I/O). */
export function planInfo(flags: InfoFlags): InfoPlan {
  return { source: modelSourceFromOptions(flags), json: flags.json === true };
}

export interface DepthReport {
  readonly stage: number;
  readonly k: number;
  readonly cutLevel: number;
  readonly parameters: number;
  readonly flops: number;
  /** With the interpolate fill's side paths (only for specs with side paths). */
  readonly flopsInterpolate: number | undefined;
  /** flops / flops at k = 0 of the same stage. */
  readonly relativeFlops: number;
}

export interface TimeSavedReport {
  readonly c: number;
  readonly fill: 'zero' | 'interpolate';
  /** DDIM steps (50, or T when the model has fewer timesteps). */
  readonly ddimSteps: number;
  readonly ddimFractionSaved: number;
  readonly ddimKs: readonly number[];
  /** DDPM steps (T). */
  readonly ddpmSteps: number;
  readonly ddpmFractionSaved: number;
}

/** Feature caching without retraining: k = N − 1 at every step with the cache:m fill. */
export interface CacheTimeSavedReport {
  /** m: full depth every m steps. */
  readonly interval: number;
  readonly k: number;
  readonly ddimFractionSaved: number;
  readonly ddimKs: readonly number[];
  readonly ddpmFractionSaved: number;
}

/** The cache intervals `info` predicts. */
export const infoCacheIntervals = [2, 3, 4, 5] as const;

/** Everything `info` prints (its `--json` output). */
export interface InfoReport {
  readonly model: { readonly label: string; readonly source: ModelSource; readonly directory: string | null };
  readonly spec: UNetSpec;
  readonly levels: number;
  readonly sizes: readonly number[];
  readonly channels: readonly number[];
  readonly parameters: number;
  readonly decoderStages: readonly { readonly stage: number; readonly tStart: number; readonly tEnd: number; readonly baseChannels: number }[] | null;
  readonly flops: { readonly table: FlopTable; readonly perDepth: readonly DepthReport[] };
  readonly predictedTimeSaved: readonly TimeSavedReport[];
  readonly predictedCacheTimeSaved: readonly CacheTimeSavedReport[];
  readonly training: TrainingRecord | null;
  /** model.json's recommended sampling settings (`sample` and `eval` use them by default). */
  readonly sampling: RecommendedSampling | null;
  /** model.json's calibration table (`levelskip calibrate --write`), which `--schedule auto:f` plans with. */
  readonly calibration?: CalibrationTable | null;
}

/** Computes the report for a loaded model (weights are not needed). */
export function infoReport(model: Pick<ResolvedModel, 'label' | 'source' | 'directory' | 'spec' | 'training'> & Partial<Pick<ResolvedModel, 'sampling'>>): InfoReport {
  const { spec } = model;
  const arch = describeArchitecture(spec);
  const table = flopTable(arch);
  const perDepth: DepthReport[] = [];
  for (const decoder of arch.decoders) {
    const geometry: DepthGeometry[] = levelGeometry(spec, decoder.stage);
    const full = geometry[0]!.flops;
    for (const g of geometry) {
      perDepth.push({
        stage: decoder.stage,
        k: g.k,
        cutLevel: g.cutLevel,
        parameters: g.parameters,
        flops: g.flops,
        flopsInterpolate: spec.sidePaths ? g.flopsInterpolate : undefined,
        relativeFlops: g.flops / full,
      });
    }
  }
  const T = spec.trainTimesteps;
  const ddimSteps = Math.min(50, T);
  const ddimTimesteps = sampledTimesteps(ddimSteps, T);
  const ddpmTimesteps = sampledTimesteps(T, T);
  const fills = spec.sidePaths ? (['zero', 'interpolate'] as const) : (['zero'] as const);
  const timeSaved: TimeSavedReport[] = [];
  for (const fill of fills) {
    for (const c of paperCurvatures) {
      const schedule = powerSchedule({ c });
      const ddim = predictedTimeSaved(spec, schedule, ddimTimesteps, { fill });
      const ddpm = predictedTimeSaved(spec, schedule, ddpmTimesteps, { fill });
      timeSaved.push({
        c,
        fill,
        ddimSteps,
        ddimFractionSaved: ddim.fractionSaved,
        ddimKs: ddim.ks,
        ddpmSteps: T,
        ddpmFractionSaved: ddpm.fractionSaved,
      });
    }
  }
  const deepest = constantSchedule(arch.levels - 1);
  const cacheTimeSaved = infoCacheIntervals.map((interval) => {
    const fill = cacheFillEvery(interval);
    const ddim = predictedTimeSaved(spec, deepest, ddimTimesteps, { fill });
    return { interval, k: arch.levels - 1, ddimFractionSaved: ddim.fractionSaved, ddimKs: ddim.ks, ddpmFractionSaved: predictedTimeSaved(spec, deepest, ddpmTimesteps, { fill }).fractionSaved };
  });
  return {
    model: { label: model.label, source: model.source, directory: model.directory ?? null },
    spec,
    levels: arch.levels,
    sizes: arch.sizes,
    channels: arch.channels,
    parameters: parameterCount(arch),
    decoderStages:
      spec.decoderStages === undefined ? null : spec.decoderStages.map((stage, i) => ({ stage: i, tStart: stage.tStart, tEnd: stage.tEnd, baseChannels: stage.baseChannels })),
    flops: { table, perDepth },
    predictedTimeSaved: timeSaved,
    predictedCacheTimeSaved: cacheTimeSaved,
    training: model.training ?? null,
    sampling: model.sampling ?? null,
  };
}

/** `ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero`: a recommendation as the CLI's flags read it. */
export function describeRecommendedSampling(sampling: RecommendedSampling): string {
  const parts = [sampling.sampler, `${sampling.steps} steps`];
  if (sampling.eta !== undefined) parts.push(`η = ${sampling.eta}`);
  if (sampling.clip !== undefined) parts.push(sampling.clip ? 'clip' : 'no clip');
  if (sampling.schedule !== undefined) parts.push(`schedule ${JSON.stringify(sampling.schedule)}`);
  if (sampling.fill !== undefined) parts.push(`fill ${sampling.fill}`);
  // A diffusers scheduler's translation (see core's schedulerFromDiffusersConfig).
  if (sampling.prediction !== undefined) parts.push(`predicts ${sampling.prediction}`);
  if (sampling.clipSampleRange !== undefined) parts.push(`clip range ±${sampling.clipSampleRange}`);
  if (sampling.timestepSpacing !== undefined) parts.push(`${sampling.timestepSpacing} spacing`);
  if (sampling.stepsOffset !== undefined) parts.push(`steps offset ${sampling.stepsOffset}`);
  if (sampling.varianceType !== undefined) parts.push(`variance ${sampling.varianceType}`);
  return parts.join(', ');
}

/** What the model outputs: the spec's `prediction` (ε, v or x₀; diffusers' `prediction_type` for loaded diffusers models). */
function predictionLabel(spec: UNetSpec): string {
  return { eps: 'eps-prediction', v: 'v-prediction (diffusers v_prediction)', sample: 'x0-prediction (diffusers sample)' }[spec.prediction];
}

function describeSpec(spec: UNetSpec, report: InfoReport): string[] {
  const attention = [...spec.attentionLevels.map((l) => `level ${l}`), ...(spec.midAttention ? ['middle'] : [])];
  const block = spec.block === 'ode2' ? `ode2 (second-order neural ODE, ${spec.ode.solver}, ${spec.ode.steps} steps)` : 'resnet';
  return [
    `image        ${spec.imageSize}×${spec.imageSize}×${spec.inChannels} (out ${spec.outChannels} channels, ${predictionLabel(spec)}, T = ${spec.trainTimesteps})`,
    `levels       N = ${report.levels}: ${report.sizes.map((s) => `${s}px`).join(', ')}; channels ${report.channels.join(', ')}`,
    `blocks       ${block}, ${spec.resBlocks} per encoder level (+1 per decoder level), groups ${spec.groups}, time embedding ${spec.timeEmbedDim}`,
    `attention    ${attention.length === 0 ? 'none' : attention.join(', ')} (${spec.attentionHeads} head${spec.attentionHeads === 1 ? '' : 's'})`,
    `side paths   ${spec.sidePaths ? 'yes (interpolate fill available)' : `no (fills: ${fillsSupportedBy(spec).join(', ')})`}`,
    `decoders     ${spec.decoderStages === undefined ? '1' : `${spec.decoderStages.length} stages (multi-decoder)`}`,
    `parameters   ${formatInteger(report.parameters)}`,
  ];
}

function writeText(io: CliIo, report: InfoReport): void {
  const { spec } = report;
  const out: string[] = [];
  out.push(`model        ${report.model.label}${report.model.directory === null ? '' : ` (${report.model.directory})`}`);
  out.push(...describeSpec(spec, report), '');
  const stages = report.flops.table.output.length;
  const flops = (value: number): string => (value === 0 ? '-' : formatFlops(value));
  const perStage = (values: readonly number[]): string => values.map(flops).join(' / ');
  const right = (header: string) => ({ header, align: 'right' as const });
  if (report.decoderStages !== null) {
    out.push('Decoder stages (normalised t = timestep / T):');
    out.push(formatTable(['stage', 't from', 't to', 'base channels'], report.decoderStages.map((s) => [s.stage, s.tStart, s.tEnd, s.baseChannels])));
  }
  out.push(`FLOPs per level, one prediction, batch 1${stages > 1 ? ' (decoder columns: stage 0 / 1 / …)' : ''}:`);
  const table = report.flops.table;
  out.push(
    formatTable(
      ['level', right('size'), right('encoder'), right('downsample'), right('decoder'), right('upsample'), ...(spec.sidePaths ? [right('side paths')] : [])],
      table.levels.map((level) => [
        level.level,
        `${level.size}px`,
        flops(level.encoder),
        flops(level.downsample),
        perStage(level.decoder),
        perStage(level.upsample),
        ...(spec.sidePaths ? [level.sideEncoder === 0 ? '-' : `${flops(level.sideEncoder)} + ${perStage(level.sideDecoder)}`] : []),
      ]),
    ),
  );
  out.push(`middle block ${formatFlops(table.middle)}, time embedding ${formatFlops(table.time)}, conv_in ${formatFlops(table.input)}, output ${perStage(table.output)}`, '');
  for (let stage = 0; stage < stages; stage++) {
    out.push(`Depth k (levels skipped)${stages > 1 ? `, decoder stage ${stage}` : ''}:`);
    const rows = report.flops.perDepth.filter((d) => d.stage === stage);
    out.push(
      formatTable(
        ['k', 'cut level', right('parameters used'), right('FLOPs'), right('vs full'), ...(spec.sidePaths ? [right('FLOPs (interpolate)')] : [])],
        rows.map((d) => [
          d.k,
          d.cutLevel,
          formatInteger(d.parameters),
          formatFlops(d.flops),
          formatPercent(d.relativeFlops),
          ...(spec.sidePaths ? [formatFlops(d.flopsInterpolate ?? d.flops)] : []),
        ]),
      ),
    );
  }
  const first = report.predictedTimeSaved[0]!;
  out.push(`Predicted time saved by k(t) = min(N-1, floor(N - N(1-t)^c)), from FLOPs:`);
  out.push(
    formatTable(
      ['c', 'fill', right(`DDIM-${first.ddimSteps}`), right(`DDPM-${first.ddpmSteps}`), `ks of DDIM-${first.ddimSteps} (t high → low)`],
      report.predictedTimeSaved.map((r) => [r.c, r.fill, formatPercent(r.ddimFractionSaved), formatPercent(r.ddpmFractionSaved), r.ddimKs.join('')]),
    ),
  );
  out.push(`Predicted time saved by feature caching (k = ${report.levels - 1} at every step, fill cache:m: full depth every m steps; no retraining), from FLOPs:`);
  out.push(
    formatTable(
      ['m', right(`DDIM-${first.ddimSteps}`), right(`DDPM-${first.ddpmSteps}`), `ks of DDIM-${first.ddimSteps}`],
      report.predictedCacheTimeSaved.map((r) => [r.interval, formatPercent(r.ddimFractionSaved), formatPercent(r.ddpmFractionSaved), r.ddimKs.join('')]),
    ),
  );
  if (report.sampling !== null) {
    out.push('Recommended sampling (model.json; `sample` and `eval` use it where no flag says otherwise):');
    out.push(`  ${describeRecommendedSampling(report.sampling)}`);
    if (report.sampling.note !== undefined) out.push(`  ${report.sampling.note}`);
    out.push('');
  }
  if (report.calibration !== undefined && report.calibration !== null) out.push(...formatCalibrationTable(report.calibration));
  else out.push('Calibration: none in model.json (`levelskip calibrate --write` measures one; `sample --schedule auto:f` calibrates quickly without it)', '');
  if (report.training !== null) {
    out.push('Training (model.json):');
    for (const [key, value] of Object.entries(report.training)) out.push(`  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    out.push('');
  }
  io.stdout.write(`${out.join('\n')}\n`);
}

export const infoCommand: CliCommand = {
  name: 'info',
  register(program: Command, context) {
    const command = program
      .command('info')
      .description('Show a model: spec, parameters, FLOPs per level and per k, predicted time saved per power schedule, training record, recommended sampling')
      .addHelpText('after', '\nExamples:\n  levelskip info --preset mnistSmall\n  levelskip info --model mnist-zero-c2 --json');
    addModelOptions(command, { randomWeights: false });
    command.option('--json', 'print the report as JSON').action(async (flags: InfoFlags) => {
      const plan = planInfo(flags);
      const model = await loadModel(plan.source, { weights: 'none' });
      const report = { ...infoReport(model), calibration: (await readModelCalibration(model)) ?? null };
      if (plan.json) writeJson(context.io, report);
      else writeText(context.io, report);
    });
    return command;
  },
};
