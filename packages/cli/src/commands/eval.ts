/**
 * `levelskip eval`: the quality of a model under a sampling configuration, as FD-LeNet (the
 * Fréchet distance between n generated digits and real MNIST digits in the feature space of the
 * project's LeNet classifier; not Inception FID), beside the real-vs-real floor at the same n:
 * n held-out real digits scored against the same reference. A score near the floor is as close
 * to the data as n real digits are.
 */
import type { Command } from 'commander';
import { fdLenet, loadMnistReference, loadMnistReferenceImages, recognisableRate, type FdLenetFloor } from '@levelskip/metrics';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { addModelOptions } from '../options/model-options.js';
import { formatBounds, optionError, parsePositiveInteger } from '../options/option-values.js';
import { flagBounds, maxMemoryHelp } from '../options/flag-bounds.js';
import { checkSamplingMemory } from '../sampling/memory-budget.js';
import { hasStoredWeights, loadModel } from '../model/resolve-model.js';
import { createBackend } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { withInterrupt } from '../program/interrupt.js';
import { formatPercent, formatTable } from '../output/format-table.js';
import { sampleMany } from '../sampling/sample-many.js';
import { applicableOrigins, samplingLine, type SamplerOrigins, type SettingOrigin } from '../sampling/sampling-settings.js';
import { addSamplingOptions, distinctDepths, planSample, samplingDefaultsHelp, setUpSampling, withAutoSchedule, type SampleFlags, type SamplePlan } from './sample.js';

/** `sample`'s flags minus the PNG ones, plus the sample count. */
export interface EvalFlags extends Omit<SampleFlags, 'out' | 'columns' | 'scale' | 'rowLabels'> {
  readonly samples?: string;
}

export interface EvalPlan {
  readonly sample: SamplePlan;
  readonly samples: number;
}

/** The largest sample count: the held-out half of MNIST has 5,000 digits for the floor. */
export const maxEvalSamples = 5000;

/** Checks `eval`'s flags (the sampling ones exactly as `sample` does) without touching a file. */
export function planEval(flags: EvalFlags): EvalPlan {
  const samples = parsePositiveInteger('--samples', flags.samples ?? '500');
  if (samples < 2 || samples > maxEvalSamples) {
    throw optionError('--samples', `must be in [2, ${maxEvalSamples}] (a covariance needs 2 samples; the floor uses up to ${maxEvalSamples} held-out digits), got ${samples}`);
  }
  const sample = planSample({ ...flags, batch: flags.batch ?? '50' });
  checkSeedRange(sample.seed, Math.ceil(samples / sample.batch));
  return { sample, samples };
}

/** Batch i samples with seed + i: the last seed must still be a safe integer. */
export function checkSeedRange(seed: number, batches: number): void {
  if (seed + batches - 1 > flagBounds.seed.max) {
    throw optionError('--seed', `must be at most ${flagBounds.seed.max - batches + 1} here: batch i uses seed + i, and ${batches} batches would pass 2^53 − 1`);
  }
}

export interface EvalSummary {
  readonly model: string;
  readonly backend: string;
  readonly sampler: string;
  readonly schedule: string;
  readonly fill: string;
  /** What was sampled with and where each setting came from: `ddim, 50 steps, η = 1, clip, schedule power(c=2), fill zero (recommended in model.json)`. */
  readonly settings: string;
  /** Where the sampler's settings came from (`recommended`: model.json's `sampling`). */
  readonly samplerOrigins: SamplerOrigins;
  readonly scheduleOrigin: SettingOrigin;
  readonly fillOrigin: SettingOrigin;
  readonly samples: number;
  readonly seed: number;
  readonly fdLenet: number;
  readonly floor: FdLenetFloor | null;
  /** Share of the samples LeNet classifies with p > 0.9 (a companion of FD-LeNet, not a score on its own: noise passes too). */
  readonly recognisable: number;
  /** The same share for as many held-out real digits. */
  readonly realRecognisable: number;
  readonly ks: readonly number[];
  readonly predictedFractionSaved: number;
  readonly sampleMs: number;
}

export async function runEval(plan: EvalPlan, io: CliIo, signal?: AbortSignal): Promise<EvalSummary> {
  const model = await loadModel(plan.sample.source, { weights: hasStoredWeights(plan.sample.source) ? 'stored' : 'random', weightsSeed: plan.sample.weightsSeed });
  const { spec } = model;
  if (spec.inChannels !== 1 || spec.imageSize !== 32) {
    throw optionError('--model', `FD-LeNet scores 32×32 single-channel MNIST digits; this model makes ${spec.inChannels}×${spec.imageSize}×${spec.imageSize} images`);
  }
  const { settings, skip, fill, sampler, prediction } = setUpSampling(await withAutoSchedule(plan.sample, model, io, signal), model);
  const { schedule } = skip;
  const fillKind = skip.fill;
  checkSamplingMemory({ spec, batch: plan.sample.batch, hostImages: plan.samples + plan.sample.batch, maxBytes: plan.sample.maxMemory });
  const line = samplingLine(settings, skip);
  if (plan.sample.progress) io.stderr.write(`${line}\n`);
  const reference = await loadMnistReference();
  const backend = await createBackend(plan.sample.backend);
  try {
    const denoiser = await backend.createDenoiser(spec, model.weights!, { fill });
    try {
      // Opens (ONNX) or warms up (tfjs) the run's depths before the first step.
      await denoiser.prepare?.({ ks: distinctDepths(prediction.ks), fills: [fill], batch: plan.sample.batch, ...(signal === undefined ? {} : { signal }) });
      const progress = createProgressReporter({ label: 'sampling', stream: io.stderr, mode: plan.sample.progress ? 'auto' : 'off' });
      progress.start(Math.ceil(plan.samples / plan.sample.batch) * sampler.timesteps.length);
      let generated;
      try {
        generated = await sampleMany({
          denoiser,
          sampler,
          skip: schedule,
          fill,
          count: plan.samples,
          batch: plan.sample.batch,
          seed: plan.sample.seed,
          prediction: settings.prediction,
          ...(signal === undefined ? {} : { signal }),
          // A log line every 10 % falls at the same step of a batch each time: it counts images instead of naming that step's k.
          onStep: ({ stepsDone, k }) => {
            const imagesDone = Math.min(plan.samples, Math.floor(stepsDone / sampler.timesteps.length) * plan.sample.batch);
            progress.update(stepsDone, { detail: `k=${k}`, lineDetail: `${imagesDone}/${plan.samples} images` });
          },
        });
      } finally {
        progress.stop();
      }
      const score = fdLenet({ generated: generated.images, count: plan.samples, reference });
      const real = (await loadMnistReferenceImages()).heldOut;
      const realCount = Math.min(plan.samples, real.count);
      const realRecognisable = recognisableRate(reference.lenet, real.images.subarray(0, realCount * 32 * 32), realCount);
      return {
        model: model.label,
        backend: denoiser.backend,
        sampler: sampler.description,
        schedule: schedule.description,
        fill: fillKind,
        settings: line.replace(/^sampling: /, ''),
        samplerOrigins: applicableOrigins(settings),
        scheduleOrigin: skip.scheduleOrigin,
        fillOrigin: skip.fillOrigin,
        samples: plan.samples,
        seed: plan.sample.seed,
        fdLenet: score.fd,
        floor: score.floor,
        recognisable: recognisableRate(reference.lenet, generated.images, plan.samples),
        realRecognisable,
        ks: generated.ks,
        predictedFractionSaved: prediction.fractionSaved,
        sampleMs: generated.sampleMs,
      };
    } finally {
      denoiser.dispose();
    }
  } finally {
    backend.dispose();
  }
}

/** `1.23 (0.98–1.51, 10 blocks)` or `n/a`. */
export function formatFloor(floor: FdLenetFloor | null): string {
  if (floor === null) return 'n/a';
  return floor.blocks > 1 ? `${floor.mean.toFixed(2)} (${floor.min.toFixed(2)}–${floor.max.toFixed(2)}, ${floor.blocks} blocks)` : floor.mean.toFixed(2);
}

function writeReport(io: CliIo, s: EvalSummary): void {
  io.stdout.write(
    formatTable(
      ['model', 'sampler', 'schedule', 'fill', 'n', 'FD-LeNet', 'real-vs-real floor', 'recognisable (real)', 'sampling time', 'predicted saved'],
      [
        [
          s.model,
          s.sampler,
          s.schedule,
          s.fill,
          s.samples,
          s.fdLenet.toFixed(2),
          formatFloor(s.floor),
          `${formatPercent(s.recognisable)} (${formatPercent(s.realRecognisable)})`,
          formatDuration(s.sampleMs),
          formatPercent(s.predictedFractionSaved),
        ],
      ],
    ),
  );
  io.stdout.write(`sampling: ${s.settings}\n`);
}

export const evalCommand: CliCommand = {
  name: 'eval',
  register(program: Command, context) {
    const command = program
      .command('eval')
      .description('FD-LeNet of a model under a sampling configuration, with the real-vs-real floor at the same sample count')
      .addHelpText(
        'after',
        [
          '',
          'FD-LeNet is the Fréchet distance in the 84-d feature space of the LeNet classifier shipped in @levelskip/metrics',
          '(not Inception FID). The floor scores n held-out real digits against the same reference set.',
          '',
          samplingDefaultsHelp,
          '',
          'Examples:',
          '  levelskip eval --model mnist-zero-c2 --c 2 --samples 500',
          '  levelskip eval --model mnist-zero-c2 --c 0 --sampler dpm-solver --steps 20 --json',
        ].join('\n'),
      );
    addModelOptions(command, { randomWeights: true });
    addSamplingOptions(command);
    command
      .option('--samples <n>', `images to generate and score, 2–${maxEvalSamples.toLocaleString('en-US')}`, '500')
      .option('--batch <n>', `images per sampling call, ${formatBounds(flagBounds.batch)} as memory allows (see --max-memory)`, '50')
      .option('--seed <n>', `seed of batch 0 (batch i uses seed + i), ${formatBounds(flagBounds.seed)}`, '0')
      .option('--max-memory <size>', maxMemoryHelp)
      .option('--json', 'print the result as JSON')
      .option('--no-progress', 'no progress display on stderr')
      .action(async (flags: EvalFlags) => {
        const plan = planEval(flags);
        const summary = await withInterrupt(context.io, 'evaluation', (signal) => runEval(plan, context.io, signal));
        if (plan.sample.json) writeJson(context.io, summary);
        else writeReport(context.io, summary);
      });
    return command;
  },
};
