/**
 * `levelskip demo` (what `pnpm start` runs): the method on the shipped models, full depth beside
 * level skipping, as in the paper's comparison: the baseline (`mnist-full`, trained at full depth)
 * samples at c = 0, every level at every step; the skip-trained model (`mnist-c2-distill`: mnist-full fine-tuned for c = 2 and distilled from it) samples
 * with its schedule (default c = 2, the power schedule k(t) = min(N − 1, ⌊N − N(1 − t)^c⌋ of
 * Giladi et al.). Same architecture, same seeds. Both go into one PNG grid as labelled rows, and
 * the table shows what skipping saved (wall time measured in this run, beside the FLOP model's
 * prediction) and what it cost in quality (FD-LeNet, beside the real-vs-real floor at the same n).
 *
 * A third row (unless `--cache-interval 0`) shows skipping without retraining: the baseline asks
 * for k = N − 1 at every step with the `cache:m` fill (default m = 3), which runs every m-th step at
 * full depth and reuses its deep features in between (DeepCache-style, Ma et al. 2023). On the
 * shipped models this saves more time than the paper's c = 2 row at a fraction of its quality cost
 * (bench Table 4).
 *
 * Why not the skip-trained model at c = 0: schedule-aware training only ever runs its full depth
 * at the t where k(t) = 0 (t < 0.134 for c = 2, N = 4), so its c = 0 samples are out of
 * distribution by construction; the full-depth baseline is a separately trained model.
 *
 * The sampler is DDIM-50 with η = 1 by default: with the shipped CPU-trained models the stochastic
 * sampler gives far better digits than deterministic DDIM (η = 0); e.g. mnist-full at 2,569 steps,
 * 300 images: FD-LeNet 136 at η = 1 against 254 at η = 0 (floor 18.5). `--eta 0` runs plain DDIM.
 *
 * The two schedules' batches are timed interleaved (c = 0 batch 0, c = 2 batch 0, c = 0 batch 1,
 * …), after every denoiser has prepared the depths, fills and batch size its row uses
 * (`Denoiser.prepare`: ONNX sessions opened, tfjs kernels warmed), so that drift in the machine's
 * speed hits both alike and no row's first step pays for building graphs.
 *
 * Progress (stderr, unless `--no-progress`): a line per start-up phase (loading the models and the
 * MNIST reference, starting the backend, preparing the graphs), then the sampling progress. In a
 * log each progress line names every row's share done: the rows run in turn, so a line every
 * 10 % would otherwise always show the same row.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import {
  cacheFillEvery,
  constantSchedule,
  fillLabel,
  parseFill,
  powerSchedule,
  predictedTimeSaved,
  prepareVariants,
  sameSpec,
  type Denoiser,
  type FillStrategy,
  type SkipSchedule,
  type TrainingRecord,
} from '@levelskip/core';
import { fdLenet, loadMnistReference, type FdLenetFloor } from '@levelskip/metrics';
import type { CliCommand } from '../program/cli-command.js';
import { writeJson, type CliIo } from '../program/cli-io.js';
import { formatBounds, optionError, parseIntegerIn, parseNumberIn } from '../options/option-values.js';
import { curvatureBound, flagBounds, maxMemoryHelp } from '../options/flag-bounds.js';
import { checkOutputFile } from '../files/output-path.js';
import { checkSamplingMemory } from '../sampling/memory-budget.js';
import { loadModel, trainedFill, trainedNoiseSchedule } from '../model/resolve-model.js';
import { createBackend, parseBackendChoice, type BackendChoice } from '../backends/backend-choice.js';
import { createProgressReporter, formatDuration } from '../progress/progress-reporter.js';
import { createPhaseLog } from '../progress/phase-log.js';
import { withInterrupt } from '../program/interrupt.js';
import { formatPercent, formatTable } from '../output/format-table.js';
import { imageGridSize, maxImageGridSide, writeImageGrid } from '../image/image-grid.js';
import { sampleMany } from '../sampling/sample-many.js';
import { buildSampler, distinctDepths, parseMaxMemory } from './sample.js';
import { checkSeedRange, formatFloor } from './eval.js';

export interface DemoFlags {
  readonly model?: string;
  readonly baseline?: string;
  readonly c?: string;
  readonly cacheInterval?: string;
  readonly samples?: string;
  readonly batch?: string;
  readonly steps?: string;
  readonly eta?: string;
  readonly backend?: string;
  readonly engine?: string;
  readonly seed?: string;
  readonly out?: string;
  readonly columns?: string;
  readonly clipSample?: boolean;
  readonly json?: boolean;
  readonly progress?: boolean;
  readonly maxMemory?: string;
}

export interface DemoPlan {
  readonly model: string;
  readonly baseline: string;
  readonly c: number;
  /** m of the baseline's cache:m row; 0: no such row. */
  readonly cacheInterval: number;
  readonly samples: number;
  readonly batch: number;
  readonly steps: number;
  readonly eta: number;
  readonly backend: BackendChoice;
  readonly seed: number;
  readonly out: string;
  readonly columns: number;
  readonly clipSample: boolean;
  readonly json: boolean;
  readonly progress: boolean;
  /** Refuse runs estimated to need more bytes than this (`--max-memory`). */
  readonly maxMemory: number;
}

/** The demo's grid: one row per schedule (2, or 3 with the cache row), 2× upscaled cells. */
const demoGridScale = 2;

export function planDemo(flags: DemoFlags): DemoPlan {
  const c = parseNumberIn('--c', flags.c ?? '2', (v) => v > 0 && v <= curvatureBound, `> 0 and at most ${curvatureBound} (the schedule compared with full depth, c = 0)`);
  const samples = parseIntegerIn('--samples', flags.samples ?? '500', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (samples < 2 || samples > 5000) throw optionError('--samples', `must be in [2, 5000] (FD needs 2 or more; the floor has 5,000 held-out digits), got ${samples}`);
  const batch = parseIntegerIn('--batch', flags.batch ?? '50', flagBounds.batch);
  const columns = parseIntegerIn('--columns', flags.columns ?? '10', flagBounds.columns);
  if (columns > samples) throw optionError('--columns', `must be at most --samples (${samples}): each grid row shows the first --columns images of a schedule`);
  const out = flags.out ?? 'out/samples.png';
  if (!/\.png$/i.test(out)) throw optionError('--out', `must be a .png file path, got ${JSON.stringify(out)}`);
  const seed = parseIntegerIn('--seed', flags.seed ?? '0', flagBounds.seed);
  checkSeedRange(seed, Math.ceil(samples / batch));
  return {
    model: flags.model ?? 'mnist-c2-distill',
    baseline: flags.baseline ?? 'mnist-full',
    c,
    cacheInterval: parseIntegerIn('--cache-interval', flags.cacheInterval ?? '3', flagBounds.cacheInterval),
    samples,
    batch,
    steps: parseIntegerIn('--steps', flags.steps ?? '50', flagBounds.steps),
    eta: parseNumberIn('--eta', flags.eta ?? '1', (v) => v >= 0 && v <= 1, 'in [0, 1] (0: deterministic DDIM, 1: DDPM-like noise at each step)'),
    backend: parseBackendChoice(flags.backend ?? 'onnx', flags.engine),
    seed,
    out,
    columns,
    clipSample: flags.clipSample !== false,
    json: flags.json === true,
    progress: flags.progress !== false,
    maxMemory: parseMaxMemory(flags.maxMemory),
  };
}

export interface DemoRow {
  readonly model: string;
  readonly schedule: string;
  /** The power schedule's c; null for the cache row (constant k = N − 1 with cache:m). */
  readonly c: number | null;
  /** The fill's label, e.g. zero or cache:3. */
  readonly fill: string;
  readonly ks: readonly number[];
  readonly sampleMs: number;
  readonly measuredFractionSaved: number;
  readonly predictedFractionSaved: number;
  readonly fdLenet: number;
}

export interface DemoSummary {
  readonly backend: string;
  readonly sampler: string;
  readonly fill: string;
  readonly samples: number;
  readonly seed: number;
  readonly floor: FdLenetFloor | null;
  readonly rows: readonly DemoRow[];
  readonly image: { readonly path: string; readonly width: number; readonly height: number; /** A file was there before and was replaced. */ readonly replaced: boolean };
  /** model.json's training records: how far each shipped model was trained. */
  readonly training: Readonly<Record<string, TrainingRecord | undefined>>;
}

export async function runDemo(plan: DemoPlan, io: CliIo, signal?: AbortSignal): Promise<DemoSummary> {
  const log = createPhaseLog({ label: 'demo', stream: io.stderr, enabled: plan.progress });
  await checkOutputFile('--out', plan.out);
  const replaces = existsSync(plan.out);
  const skipping = await loadModel({ kind: 'pretrained', name: plan.model }, { weights: 'stored' });
  const baseline = await loadModel({ kind: 'pretrained', name: plan.baseline }, { weights: 'stored' });
  if (!sameSpec(skipping.spec, baseline.spec)) {
    throw optionError('--baseline', `must have the same architecture as --model for a fair time comparison (${plan.baseline} and ${plan.model} differ)`);
  }
  const { spec } = skipping;
  const rowCount = plan.cacheInterval > 0 ? 3 : 2;
  const rowLabels = ['c=0', `c=${plan.c}`, `cache:${plan.cacheInterval}`].slice(0, rowCount);
  const grid = imageGridSize({ shape: [rowCount * plan.columns, spec.inChannels, spec.imageSize, spec.imageSize], columns: plan.columns, scale: demoGridScale, rowLabels });
  if (grid.width > maxImageGridSide) {
    throw optionError('--columns', `${plan.columns} makes a ${grid.width}-pixel-wide grid of ${spec.imageSize}×${spec.imageSize} images at scale ${demoGridScale}; the most is ${maxImageGridSide} pixels: use fewer --columns`);
  }
  checkSamplingMemory({ spec, batch: plan.batch, hostImages: rowCount * plan.samples + plan.batch, gridBytes: grid.bytes, maxBytes: plan.maxMemory });
  const fillKind = trainedFill(skipping.training) ?? 'zero';
  const fill = parseFill(fillKind);
  const sampler = buildSampler({ sampler: 'ddim', steps: plan.steps, eta: plan.eta, noiseLevels: undefined, clipSample: plan.clipSample }, trainedNoiseSchedule(spec, skipping.training));
  // Phases start once everything a usage error could come from has been checked: such an error stays one line.
  log.phase(`loaded ${plan.baseline} and ${plan.model}; the PNG grid will be written to ${plan.out}${replaces ? ' (replacing the file there)' : ''}`);
  log.phase('loading the MNIST reference digits and their LeNet features (for FD-LeNet and its real-vs-real floor)');
  const reference = await loadMnistReference();
  log.phase(`starting the ${plan.backend.backend} backend (${plan.backend.backend === 'onnx' ? plan.backend.executionProviders.join(',') : `engine ${plan.backend.engine}`})`);
  const backend = await createBackend(plan.backend);
  const denoisers: Denoiser<unknown>[] = [];
  try {
    interface Run {
      readonly model: typeof baseline;
      readonly c: number | null;
      readonly label: string;
      readonly schedule: SkipSchedule;
      readonly fill: FillStrategy;
      readonly denoiser: Denoiser<unknown>;
    }
    const runs: Run[] = [];
    const addRun = async (run: Omit<Run, 'denoiser'>): Promise<void> => {
      const denoiser = await backend.createDenoiser(spec, run.model.weights!, { fill: run.fill });
      denoisers.push(denoiser);
      runs.push({ ...run, denoiser });
    };
    await addRun({ model: baseline, c: 0, label: 'c=0', schedule: powerSchedule({ c: 0 }), fill });
    await addRun({ model: skipping, c: plan.c, label: `c=${plan.c}`, schedule: powerSchedule({ c: plan.c }), fill });
    if (plan.cacheInterval > 0) {
      const cache = cacheFillEvery(plan.cacheInterval);
      await addRun({ model: baseline, c: null, label: fillLabel(cache), schedule: constantSchedule(spec.channelMults.length - 1), fill: cache });
    }
    // Every denoiser prepares the depths, fill and batch of its row (opens sessions, compiles kernels), so no timed step pays for it.
    const stages = Math.max(1, spec.decoderStages?.length ?? 0);
    const preparations = runs.map((run) => {
      const options = { ks: distinctDepths(predictedTimeSaved(spec, run.schedule, sampler.timesteps, { fill: run.fill }).ks), fills: [run.fill], batch: plan.batch };
      return { run, options, variants: prepareVariants(run.denoiser.levels, stages, options).length };
    });
    const variantTotal = preparations.reduce((sum, p) => sum + p.variants, 0);
    log.phase(`preparing the graphs: ${variantTotal} variants (depth × fill) of ${runs.length} rows, batch ${plan.batch}`);
    const preparing = createProgressReporter({ label: 'preparing', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
    preparing.start(variantTotal);
    try {
      let prepared = 0;
      for (const { run, options, variants } of preparations) {
        if (run.denoiser.prepare === undefined) {
          // A hand-written denoiser without prepare: nothing to build ahead.
          preparing.update(prepared + variants, { detail: `${run.label} (nothing to prepare)` });
        } else {
          await run.denoiser.prepare({
            ...options,
            ...(signal === undefined ? {} : { signal }),
            onProgress: ({ done, what }) => preparing.update(prepared + done, { detail: `${run.label} ${what}` }),
          });
        }
        prepared += variants;
      }
    } finally {
      preparing.stop();
    }
    const batches = Math.ceil(plan.samples / plan.batch);
    const perImage = spec.inChannels * spec.imageSize * spec.imageSize;
    const images = runs.map(() => new Float32Array(plan.samples * perImage));
    const times = runs.map(() => 0);
    const ks: number[][] = runs.map(() => []);
    log.phase(`sampling ${plan.samples} images per row (${runs.map((run) => run.label).join(', ')}), ${batches} batch${batches === 1 ? '' : 'es'} of up to ${plan.batch} per row, rows in turn`);
    const progress = createProgressReporter({ label: 'sampling', stream: io.stderr, mode: plan.progress ? 'auto' : 'off' });
    const steps = sampler.timesteps.length;
    // Steps done per row, for the log lines (which name every row: see the file comment).
    const rowSteps = runs.map(() => 0);
    const rowsDone = (): string => runs.map((run, r) => `${run.label} ${Math.floor((100 * rowSteps[r]!) / (batches * steps))}%`).join(', ');
    progress.start(batches * runs.length * steps);
    try {
      for (let b = 0; b < batches; b++) {
        const size = Math.min(plan.batch, plan.samples - b * plan.batch);
        for (const [r, run] of runs.entries()) {
          const done = (b * runs.length + r) * steps;
          const result = await sampleMany({
            denoiser: run.denoiser,
            sampler,
            skip: run.schedule,
            fill: run.fill,
            count: size,
            batch: size,
            seed: plan.seed + b,
            ...(signal === undefined ? {} : { signal }),
            onStep: ({ stepsDone, k }) => {
              rowSteps[r] = b * steps + stepsDone;
              progress.update(done + stepsDone, { detail: `${run.label} k=${k}`, lineDetail: `rows ${rowsDone()} (now ${run.label}, batch ${b + 1}/${batches})` });
            },
          });
          images[r]!.set(result.images, b * plan.batch * perImage);
          times[r]! += result.sampleMs;
          ks[r] = [...result.ks];
        }
      }
    } finally {
      progress.stop();
    }
    const grid = new Float32Array(runs.length * plan.columns * perImage);
    runs.forEach((_, r) => grid.set(images[r]!.subarray(0, plan.columns * perImage), r * plan.columns * perImage));
    const written = await writeImageGrid(
      {
        images: grid,
        shape: [runs.length * plan.columns, spec.inChannels, spec.imageSize, spec.imageSize],
        columns: plan.columns,
        rowLabels: runs.map((run) => run.label),
        scale: demoGridScale,
      },
      plan.out,
    );
    let floor: FdLenetFloor | null = null;
    const rows = runs.map((run, r) => {
      const score = fdLenet({ generated: images[r]!, count: plan.samples, reference });
      floor = score.floor;
      const m = run.fill.kind === 'cache' ? run.fill.interval : undefined;
      return {
        model: run.model.label,
        schedule: run.c === null ? `k = ${spec.channelMults.length - 1}, ${run.label} (full depth every ${m ?? '?'} steps)` : run.c === 0 ? 'c = 0 (full depth)' : `c = ${run.c}`,
        c: run.c,
        fill: fillLabel(run.fill),
        ks: ks[r]!,
        sampleMs: times[r]!,
        measuredFractionSaved: 1 - times[r]! / times[0]!,
        predictedFractionSaved: predictedTimeSaved(spec, run.schedule, sampler.timesteps, { fill: run.fill }).fractionSaved,
        fdLenet: score.fd,
      };
    });
    return {
      backend: denoisers[0]!.backend,
      sampler: sampler.description,
      fill: fillKind,
      samples: plan.samples,
      seed: plan.seed,
      floor,
      rows,
      image: { path: written.path, width: written.width, height: written.height, replaced: replaces },
      training: { [plan.baseline]: baseline.training, [plan.model]: skipping.training },
    };
  } finally {
    for (const denoiser of denoisers) denoiser.dispose();
    backend.dispose();
  }
}

function writeReport(io: CliIo, s: DemoSummary): void {
  const trained = Object.entries(s.training)
    .map(([name, t]) => `${name}: ${t === undefined ? 'no training record' : `${t.steps ?? 'unknown'} steps, ${t.scheme ?? 'unknown scheme'}`}`)
    .join('; ');
  io.stdout.write(`${s.sampler}, ${s.samples} images per row of the table on ${s.backend} (${trained})\n\n`);
  io.stdout.write(
    formatTable(
      ['model', 'schedule', 'fill', 'wall time', 'time saved (measured)', 'time saved (FLOP-predicted)', 'FD-LeNet', 'real-vs-real floor'],
      s.rows.map((r) => [
        r.model,
        r.schedule,
        r.c === 0 ? '—' : r.fill,
        formatDuration(r.sampleMs),
        r.c === 0 ? '—' : formatPercent(r.measuredFractionSaved),
        r.c === 0 ? '—' : formatPercent(r.predictedFractionSaved),
        r.fdLenet.toFixed(2),
        formatFloor(s.floor),
      ]),
    ),
  );
  io.stdout.write(
    `\nimages: ${s.image.path}${s.image.replaced ? ' (replaced the file that was there)' : ''} (${s.image.width}×${s.image.height}; ${s.rows.map((r, i) => `row ${i + 1}: ${r.model}, ${r.schedule}`).join('; ')}; same seeds)\n`,
  );
  io.stdout.write('FD-LeNet: Fréchet distance in a LeNet classifier\'s features (not Inception FID); lower is better, the floor is n real digits vs the same reference.\n');
}

export const demoCommand: CliCommand = {
  name: 'demo',
  register(program: Command, context) {
    const command = program
      .command('demo')
      .description('Sample the full-depth baseline, the skip-trained model and the baseline with cached deep features (same seeds); print time saved and FD-LeNet; write a PNG grid')
      .addHelpText('after', ['', 'This is what `pnpm start` runs. Examples:', '  levelskip demo', '  levelskip demo --samples 100 --c 3 --out out/c3.png'].join('\n'))
      .option('--model <name>', 'the skip-trained pretrained model', 'mnist-c2-distill')
      .option('--baseline <name>', 'the full-depth pretrained model (same architecture), sampled at c = 0', 'mnist-full')
      .option('--c <c>', `the power schedule compared with full depth (c = 0), in (0, ${curvatureBound}]`, '2')
      .option(
        '--cache-interval <m>',
        `a third row: the baseline at k = N − 1 with the cache:m fill (full depth every m steps, no retraining), ${formatBounds(flagBounds.cacheInterval)}; 0 leaves it out`,
        '3',
      )
      .option('--samples <n>', 'images per schedule (for timing and FD-LeNet), 2–5,000', '500')
      .option('--batch <n>', `images per sampling call, ${formatBounds(flagBounds.batch)} as memory allows (see --max-memory)`, '50')
      .option('--steps <n>', `DDIM steps, ${formatBounds(flagBounds.steps)}`, '50')
      .option('--eta <eta>', 'DDIM η in [0, 1]: 1 adds DDPM-like noise at each step (clearly better digits from these models than 0, the deterministic sampler)', '1')
      .option('--backend <name>', 'onnx or tfjs', 'onnx')
      .option('--engine <engine>', 'tfjs engine or onnx execution providers')
      .option('--seed <n>', `seed of batch 0 (batch i uses seed + i), ${formatBounds(flagBounds.seed)}`, '0')
      .option('--out <file.png>', 'the PNG grid', 'out/samples.png')
      .option('--columns <n>', `images per grid row, ${formatBounds(flagBounds.columns)} and at most --samples`, '10')
      .option('--max-memory <size>', maxMemoryHelp)
      .option('--no-clip-sample', 'do not clamp the predicted x0 to [-1, 1] in each DDIM step')
      .option('--json', 'print the result as JSON')
      .option('--no-progress', 'no progress display on stderr')
      .action(async (flags: DemoFlags) => {
        const plan = planDemo(flags);
        const summary = await withInterrupt(context.io, 'the demo', (signal) => runDemo(plan, context.io, signal));
        if (plan.json) writeJson(context.io, summary);
        else writeReport(context.io, summary);
      });
    return command;
  },
};
