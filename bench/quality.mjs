// @ts-check
/**
 * `pnpm bench quality`: the paper's Tables 1 and 3 (Giladi et al.) on MNIST with the shipped
 * models, scored with FD-LeNet (@levelskip/metrics; the Fréchet distance in the feature space of
 * the project's LeNet classifier, not Inception FID), beside the real-vs-real floor.
 *
 * - Table 1 analogue: each shipped model × fill at c ∈ {0, 1, 2, 3, 5}, DDIM-50 with η = 1 (the
 *   stochastic, DDPM-like sampler at 50 steps: the paper's Table 1 samples with DDPM; with these
 *   models η = 1 also scores far better than η = 0, which Table 3 shows).
 * - Table 3 analogue: the zero-fill c = 2 model and the full-depth model with DDIM at several step
 *   counts and η ∈ {0, 0.5, 1}, and DPM-Solver++ at 10/15/20/25 steps.
 * - Table 4, beyond the paper: training-free feature caching (DeepCache-style, Ma et al. 2023) on
 *   the full-depth model: a constant k = N − 1 schedule with the `cache:m` fill, which runs every
 *   m-th step at full depth and reuses its deep features in between, beside the same model at
 *   c = 0 (and, in the report, the paper's skip-trained model at c = 2).
 * - Table 5, beyond the paper (opt-in: `--only table5`): calibrated schedules (`--schedule auto:f`,
 *   core's `autoSchedule`) against the hand-made families at the same FLOP-predicted time saved:
 *   on mnist-full with the cache fill against Table 4's `cache:m` (k = 3), and on the skip-trained
 *   mnist-zero-c2 with the zero fill against eq. (1) at c = 1, 2, 3, 5. The auto cells plan with the
 *   model's calibration table (model.json `calibration`, `levelskip calibrate --write`); a model
 *   without one is calibrated quickly before each of its cells (the CLI says so).
 * - Every configuration is also a point of the quality-vs-time Pareto chart (`pnpm bench report`
 *   draws it): its sampling time per image, measured in the same run.
 *
 * Each configuration is scored exactly as `levelskip eval` scores it (the CLI's planEval/runEval):
 * n images in batches, batch i with seed + i, so every configuration starts from the same noise.
 * Cells are written to the results file as they finish; a rerun skips cells already there for the
 * same weights (a model retrained since is measured again), so an interrupted run resumes.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cpuSample, gitInfo, loadAverage, machineInfo, machineSlug, otherCpu, runtimeVersions } from './lib/machine.mjs';
import { checkCompatible, readResults, writeResults } from './lib/results-file.mjs';
import { loadPackage, repositoryRoot } from './lib/workspace.mjs';

/** @typedef {import('./lib/types.js').QualityOptions} QualityOptions */
/** @typedef {import('./lib/types.js').QualityConfiguration} QualityConfiguration */
/** @typedef {import('./lib/types.js').KeyedConfiguration} KeyedConfiguration */
/** @typedef {import('./lib/types.js').QualityDocument} QualityDocument */
/** @typedef {import('./lib/types.js').QualitySession} QualitySession */
/** @typedef {import('./lib/types.js').WeightsIdentity} WeightsIdentity */

/** The quality results file's schema. */
export const qualitySchema = 'levelskip-bench-quality/1';

/** The power-schedule curvatures Tables 1 and the recipes table score. */
export const cs = [0, 1, 2, 3, 5];
/** Table 1's sampler (Table 3 varies it). */
export const table1Sampler = { sampler: 'ddim', steps: 50, eta: 1 };
/** Table 3: the samplers and step counts, and the rows (models) they are run on. */
export const table3 = {
  ddimSteps: [10, 20, 50, 100],
  etas: [0, 0.5, 1],
  dpmSteps: [10, 15, 20, 25],
  /**
   * The paper's Table 3 rows: the skip-trained models at their c (from scratch, and the quality
   * issue's best recipe, B), and the full-depth baseline.
   */
  rows: [
    { model: 'mnist-zero-c2', fill: 'zero', c: 2 },
    { model: 'mnist-c2-distill', fill: 'zero', c: 2 },
    { model: 'mnist-full', fill: 'zero', c: 0 },
  ],
};

/**
 * Table 4: feature caching without retraining. Each row: a model, the constant k its skipping
 * steps use, and the refresh intervals m (fill `cache:m`); the model's c = 0 cell is its baseline.
 */
export const table4 = {
  rows: [
    { model: 'mnist-full', k: 3, intervals: [2, 3, 4, 5, 6] },
    { model: 'mnist-full', k: 2, intervals: [3, 5, 8] },
  ],
};

/**
 * Table 5: calibrated schedules. Each row: a model, the fill its auto schedules use, the budgets
 * (fractions of the time to save: the FLOP-predicted savings of the family it is compared with, on
 * these 4-level MNIST U-Nets with DDIM-50: `levelskip info`), and that family's cells.
 *
 * @type {{ rows: Array<{ model: string, fill: string, budgets: number[], family: { kind: 'cache', k: number, intervals: number[] } | { kind: 'power', cs: number[] } }> }}
 */
export const table5 = {
  rows: [
    // cache:m with k = 3, m = 2, 3, 4, 5: 33.7, 44.5, 49.9, 53.9 % predicted.
    { model: 'mnist-full', fill: 'cache', budgets: [0.337, 0.445, 0.499, 0.539], family: { kind: 'cache', k: 3, intervals: [2, 3, 4, 5] } },
    // Eq. (1) at c = 1, 2, 3, 5: 26.7, 41.4, 47.9, 54.3 % predicted.
    { model: 'mnist-zero-c2', fill: 'zero', budgets: [0.267, 0.414, 0.479, 0.543], family: { kind: 'power', cs: [1, 2, 3, 5] } },
    { model: 'mnist-c2-distill', fill: 'zero', budgets: [0.267, 0.414, 0.479, 0.543], family: { kind: 'power', cs: [1, 2, 3, 5] } },
  ],
};


/**
 * Table 1 rows: model and the fills it is scored with. `trainedFor` false marks a fill the model
 * was not trained for (reported, and labelled as such).
 */
export const table1Rows = [
  { model: 'mnist-full', fills: [{ fill: 'zero', trainedFor: false }], note: 'trained at full depth only: the paper\'s DDPM row at c = 0; c > 0 shows skipping without skip-aware training' },
  { model: 'mnist-zero-c2', fills: [{ fill: 'zero', trainedFor: true }, { fill: 'duplicate', trainedFor: false }, { fill: 'cache', trainedFor: false }] },
  { model: 'mnist-c2-distill', fills: [{ fill: 'zero', trainedFor: true }], note: 'mnist-full fine-tuned for c = 2 (zero fill) and distilled from it: the quality issue\'s recipe B, 3,000 steps' },
  { model: 'mnist-interpolate', fills: [{ fill: 'interpolate', trainedFor: true }] },
  { model: 'mnist-multistage', fills: [{ fill: 'zero', trainedFor: true }] },
  { model: 'mnist-ode2', fills: [{ fill: 'zero', trainedFor: true }] },
];

/**
 * The recipes table (the quality issue's recipes A–D): checkpoints outside the catalogue, given
 * with `--checkpoint <label>=<dir>`, each scored like a Table 1 row at the curvatures of
 * `--recipe-cs` with the fill it was trained with (its model.json's training record), beside the
 * Table 1 cells of these baselines.
 */
export const recipeBaselines = [
  { model: 'mnist-full', fill: 'zero' },
  { model: 'mnist-zero-c2', fill: 'zero' },
];

const tables = ['table1', 'table3', 'table4', 'recipes', 'table5'];
/** Tables measured without --only (recipes need --checkpoint; table5 needs calibration tables, or time to calibrate). */
const defaultTables = ['table1', 'table3', 'table4'];

/** `pnpm bench quality --help`. */
const usage = `usage: pnpm bench quality [flags]

FD-LeNet of the shipped MNIST models (Tables 1 and 3 of the paper, MNIST analogues) with the
real-vs-real floor, and the sampling time of each configuration (for the Pareto chart of
\`pnpm bench report\`). Models not shipped yet are listed as missing, not scored.

  --only <tables>     ${tables.join(',')} (default: ${defaultTables.join(',')}; with --checkpoint: recipes)
  --models <list>     models to score (default: every shipped one)
  --samples <n>       images per configuration (default: 500; the floor uses as many real digits)
  --batch <n>         images per sampling call (default: 50)
  --seed <n>          seed of batch 0 (default: 0)
  --checkpoint <label>=<dir>
                      a checkpoint outside the catalogue (e.g. a recipe's
                      packages/pretrained/.training/<recipe>/model-step-<n>), scored in the
                      recipes table; repeatable. Only with --only recipes, or alone.
  --recipe-cs <list>  curvatures the --checkpoint models are scored at (default: ${cs.join(',')})
  --backend <name>    onnx or tfjs (default: onnx; timings are this backend's)
  --out <file>        results file (default: bench/results/quality-<machine>.json;
                      with --quick: bench/results/quick/quality-<machine>.json)
  --force             re-measure configurations already in the results file
  --quick             smoke check: 100 images, c ∈ {0, 2}, cache:2 and the fewest steps (figures are not results)
  --dry-run           list the configurations and exit
  --help              this text

A full run (every model shipped, 500 images) takes about an hour on 2 cores; run it on a quiet
machine, since the times feed the Pareto chart (each cell records the load average).`;

/**
 * A flag's value as a positive integer.
 *
 * @param {string | undefined} value
 * @param {string} flag
 * @returns {number}
 */
function positiveInteger(value, flag) {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * A flag's comma-separated value as a non-empty list.
 *
 * @param {string} value
 * @param {string} flag
 * @returns {string[]}
 */
function commaList(value, flag) {
  const list = value.split(',').filter(Boolean);
  if (list.length === 0) throw new Error(`${flag} needs a comma-separated list`);
  return list;
}

/**
 * Parses the quality suite's flags; throws with the fix for anything malformed.
 *
 * @param {string[]} argv
 * @param {string} slug the machine's, for the default results file
 * @returns {QualityOptions}
 */
export function parseQualityArgs(argv, slug) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        only: { type: 'string' },
        models: { type: 'string' },
        samples: { type: 'string' },
        batch: { type: 'string', default: '50' },
        seed: { type: 'string', default: '0' },
        checkpoint: { type: 'string', multiple: true },
        'recipe-cs': { type: 'string' },
        backend: { type: 'string', default: 'onnx' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new Error(`${/** @type {Error} */ (error).message.replace(/\.$/, '')}; see --help`);
  }
  const checkpoints = (values.checkpoint ?? []).map((value) => {
    const at = value.indexOf('=');
    const label = value.slice(0, at).trim();
    const dir = value.slice(at + 1).trim();
    if (at < 1 || dir === '' || !/^[\w.@-]+$/.test(label)) {
      throw new Error(`--checkpoint needs <label>=<dir> with a label of letters, digits, ".", "@", "-" or "_" (e.g. mnist-c2-distill@3000=packages/pretrained/.training/mnist-c2-distill/model), got ${JSON.stringify(value)}`);
    }
    return { label, dir };
  });
  if (new Set(checkpoints.map((c) => c.label)).size !== checkpoints.length) throw new Error('--checkpoint: each label may be given once');
  const recipeCs = values['recipe-cs'] === undefined ? [...cs] : commaList(values['recipe-cs'], '--recipe-cs').map(Number);
  for (const c of recipeCs) if (!cs.includes(c)) throw new Error(`--recipe-cs: use curvatures among ${cs.join(', ')}, got ${JSON.stringify(values['recipe-cs'])}`);
  // With checkpoints and no --only, only the recipes table: the others need no recipe cells.
  const only = values.only === undefined ? (checkpoints.length > 0 ? ['recipes'] : defaultTables) : commaList(values.only, '--only');
  for (const t of only) if (!tables.includes(t)) throw new Error(`--only: unknown table "${t}"; use ${tables.join(', ')}`);
  if (values.backend !== 'onnx' && values.backend !== 'tfjs') throw new Error(`--backend: use onnx or tfjs, got ${JSON.stringify(values.backend)}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed needs a non-negative integer, got ${JSON.stringify(values.seed)}`);
  const samples = values.samples === undefined ? (values.quick ? 100 : 500) : positiveInteger(values.samples, '--samples');
  if (samples < 2) throw new Error('--samples must be at least 2 (a covariance needs 2 images)');
  return {
    tables: only,
    models: values.models === undefined ? undefined : commaList(values.models, '--models'),
    checkpoints,
    recipeCs,
    samples,
    batch: positiveInteger(values.batch, '--batch'),
    seed,
    backend: values.backend,
    out: values.out ?? join(repositoryRoot, 'bench', 'results', ...(values.quick ? ['quick'] : []), `quality-${slug}.json`),
    force: values.force,
    quick: values.quick,
    dryRun: values['dry-run'],
    help: values.help,
  };
}

/**
 * A configuration's key in `cells`: the same configuration in two tables is measured once. The
 * schedule part is `c<c>` for the power schedule, `k<k>` for a constant one (Table 4).
 *
 * @param {Pick<QualityConfiguration, 'model' | 'fill' | 'c' | 'k' | 'auto' | 'sampler' | 'steps' | 'eta'>} config
 * @returns {string}
 */
export function configKey(config) {
  const sampler = config.sampler === 'ddim' ? `ddim${config.steps}-eta${config.eta}` : `${config.sampler}${config.steps}`;
  const schedule = config.auto !== undefined ? `auto${config.auto}` : config.c === null ? `k${config.k}` : `c${config.c}`;
  return `${config.model}|${config.fill}|${schedule}|${sampler}`;
}

/**
 * Every configuration of the chosen tables, for the models given; each lists the tables it belongs to.
 *
 * @param {Pick<QualityOptions, 'tables' | 'quick' | 'recipeCs' | 'recipeModels'>} options
 * @param {string[]} models the shipped models to score
 * @returns {KeyedConfiguration[]}
 */
export function configurations(options, models) {
  /** @type {Map<string, KeyedConfiguration>} */
  const byKey = new Map();
  /** @type {(table: string, config: QualityConfiguration) => void} */
  const add = (table, config) => {
    const key = configKey(config);
    const existing = byKey.get(key);
    if (existing) {
      if (!existing.tables.includes(table)) existing.tables.push(table);
    } else byKey.set(key, { ...config, key, tables: [table] });
  };
  const curvatures = options.quick ? [0, 2] : cs;
  if (options.tables.includes('table1')) {
    for (const row of table1Rows) {
      if (!models.includes(row.model)) continue;
      for (const [f, { fill, trainedFor }] of row.fills.entries()) {
        for (const c of curvatures) {
          // At c = 0 nothing is skipped, so every fill computes the same images: one cell, under the row's first fill.
          if (c === 0 && f > 0) continue;
          add('table1', { model: row.model, fill, trainedFor: c === 0 ? true : trainedFor, c, ...table1Sampler });
        }
      }
    }
  }
  if (options.tables.includes('table3')) {
    const ddimSteps = options.quick ? [10] : table3.ddimSteps;
    const etas = options.quick ? [0, 1] : table3.etas;
    const dpmSteps = options.quick ? [10] : table3.dpmSteps;
    for (const row of table3.rows) {
      if (!models.includes(row.model)) continue;
      const trainedFor = row.model !== 'mnist-full' || row.c === 0;
      for (const steps of ddimSteps) for (const eta of etas) add('table3', { ...row, trainedFor, sampler: 'ddim', steps, eta });
      for (const steps of dpmSteps) add('table3', { ...row, trainedFor, sampler: 'dpm-solver', steps, eta: null });
    }
  }
  if (options.tables.includes('table4')) {
    for (const row of table4.rows) {
      if (!models.includes(row.model)) continue;
      // The baseline: the same model at full depth (Table 1's c = 0 cell, measured once).
      add('table4', { model: row.model, fill: 'zero', trainedFor: true, c: 0, ...table1Sampler });
      for (const m of options.quick ? row.intervals.slice(0, 1) : row.intervals) {
        add('table4', { model: row.model, fill: `cache:${m}`, trainedFor: false, c: null, k: row.k, ...table1Sampler });
      }
    }
  }
  if (options.tables.includes('table5')) {
    for (const row of table5.rows) {
      if (!models.includes(row.model)) continue;
      add('table5', { model: row.model, fill: 'zero', trainedFor: true, c: 0, ...table1Sampler });
      const { family } = row;
      if (family.kind === 'cache') {
        for (const m of options.quick ? family.intervals.slice(0, 1) : family.intervals) add('table5', { model: row.model, fill: `cache:${m}`, trainedFor: false, c: null, k: family.k, ...table1Sampler });
      } else {
        for (const c of options.quick ? family.cs.slice(1, 2) : family.cs) add('table5', { model: row.model, fill: row.fill, trainedFor: true, c, ...table1Sampler });
      }
      for (const auto of options.quick ? row.budgets.slice(0, 1) : row.budgets) {
        add('table5', { model: row.model, fill: row.fill, trainedFor: row.model !== 'mnist-full', c: null, k: null, auto, ...table1Sampler });
      }
    }
  }
  if (options.tables.includes('recipes')) {
    for (const row of recipeBaselines) {
      if (!models.includes(row.model)) continue;
      for (const c of curvatures) add('recipes', { model: row.model, fill: c === 0 ? 'zero' : row.fill, trainedFor: c === 0 || row.model !== 'mnist-full', c, ...table1Sampler });
    }
    for (const checkpoint of options.recipeModels ?? []) {
      for (const c of options.quick ? curvatures : options.recipeCs) {
        add('recipes', { model: checkpoint.label, checkpoint: checkpoint.dir, fill: checkpoint.fill, trainedFor: true, c, ...table1Sampler });
      }
    }
  }
  return [...byKey.values()];
}

/**
 * Reads a --checkpoint's model.json with core's manifest reader (its training record checked and
 * typed): the fill it was trained with and its weights identity (the training record, as for
 * shipped models). Throws naming the directory when it is not a levelskip checkpoint.
 *
 * @param {{ readCheckpointManifest: typeof import('@levelskip/core').readCheckpointManifest }} core the built @levelskip/core
 * @param {{ label: string, dir: string }} checkpoint
 * @returns {import('./lib/types.js').RecipeModel}
 */
export function describeCheckpoint(core, { label, dir }) {
  const path = join(dir, 'model.json');
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`--checkpoint ${label}: cannot read ${path} (${/** @type {NodeJS.ErrnoException} */ (error).code}); pass a directory written by saveCheckpoint or train`);
  }
  let manifest;
  try {
    ({ manifest } = core.readCheckpointManifest(text, path));
  } catch (error) {
    throw new Error(`--checkpoint ${label}: ${/** @type {Error} */ (error).message}; pass a directory written by saveCheckpoint or train`, { cause: error });
  }
  const t = manifest.training ?? {};
  if (t.fill === undefined) throw new Error(`--checkpoint ${label}: ${path} has no training.fill; the recipes table scores models with the fill they were trained with`);
  // The record's fields the recipes table describes a checkpoint by.
  const { scheme, initFrom, teacher, mix, schedule, fill, steps, plannedSteps, images, batchSize, lr, seed, durationMs } = t;
  const described = { scheme, initFrom, teacher, mix, schedule, fill, steps, plannedSteps, images, batchSize, lr, seed, durationMs };
  const training = Object.fromEntries(Object.entries(described).filter(([, value]) => value !== undefined));
  return { label, dir, fill, weights: weightsIdentity(manifest), training };
}

/**
 * A path for messages: relative inside the repository, absolute outside it.
 *
 * @type {(path: string) => string}
 */
const shown = (path) => {
  const inside = relative(repositoryRoot, path);
  return inside.startsWith('..') ? path : inside;
};
/**
 * A line on stderr.
 *
 * @param {string} message
 */
const log = (message) => process.stderr.write(`${message}\n`);

/**
 * The shipped weights a cell was measured with; a cell of other weights is stale.
 *
 * @param {{ training?: Partial<import('@levelskip/core').TrainingRecord> }} info a model.json manifest or a catalogue entry
 * @returns {WeightsIdentity}
 */
export function weightsIdentity(info) {
  return { steps: info.training?.steps ?? null, images: info.training?.images ?? null, durationMs: info.training?.durationMs ?? null };
}

/**
 * The weights each available model of a catalogue has now (model name → `weightsIdentity`).
 *
 * @param {ReadonlyArray<{ name: string, available: boolean, training?: Partial<import('@levelskip/core').TrainingRecord> }>} catalogue
 * @returns {Map<string, WeightsIdentity>}
 */
export function shippedIdentities(catalogue) {
  return new Map(catalogue.filter((m) => m.available).map((m) => [m.name, weightsIdentity(m)]));
}

/**
 * Whether a cell's weights (`a`, undefined for a cell not measured yet) are the model's now (`b`).
 *
 * @param {WeightsIdentity | undefined} a
 * @param {WeightsIdentity} b
 * @returns {boolean}
 */
export function sameWeights(a, b) {
  return a !== undefined && a.steps === b.steps && a.images === b.images && a.durationMs === b.durationMs;
}

/**
 * The catalogue models the flags ask for, split into those installed (scored) and those not
 * (listed as missing), and the --checkpoint models read from their model.json.
 *
 * @param {QualityOptions} options
 * @param {import('./lib/types.js').CorePackage} core
 * @param {import('./lib/types.js').PretrainedPackage} pretrained
 * @returns {{ models: import('@levelskip/pretrained').PretrainedInfo[], missing: string[], recipeModels: import('./lib/types.js').RecipeModel[] }}
 */
function selectModels(options, core, pretrained) {
  const catalogue = pretrained.listPretrained();
  const known = catalogue.map((m) => m.name);
  for (const name of options.models ?? []) {
    if (!known.includes(name)) throw new Error(`--models: unknown model "${name}"; known: ${known.join(', ')}`);
  }
  const wanted = options.models ?? known;
  const missing = catalogue.filter((m) => wanted.includes(m.name) && !m.available).map((m) => m.name);
  const models = catalogue.filter(/** @returns {m is import('@levelskip/pretrained').PretrainedInfo} */ (m) => wanted.includes(m.name) && m.available);
  const recipeModels = options.checkpoints.map((checkpoint) => describeCheckpoint(core, checkpoint));
  for (const r of recipeModels) if (known.includes(r.label)) throw new Error(`--checkpoint: the label ${r.label} is a catalogue model's name; choose another`);
  return { models, missing, recipeModels };
}

/**
 * The results file (read to resume, or fresh) with this invocation's session added, written at once.
 *
 * @param {QualityOptions} options
 * @param {import('./lib/types.js').Machine} machine
 * @param {string[]} argv
 * @returns {{ doc: QualityDocument, session: QualitySession }}
 */
function openResults(options, machine, argv) {
  const config = { quick: options.quick, samples: options.samples, batch: options.batch, seed: options.seed, backend: options.backend };
  /** @type {QualityDocument} */
  const doc = readResults(options.out, () => ({ schema: qualitySchema, machine, config, sessions: [], cells: {} }), qualitySchema);
  checkCompatible(doc, options.out, { machine, config }, ['quick', 'samples', 'batch', 'seed', 'backend']);
  /** @type {QualitySession} */
  const session = {
    id: doc.sessions.length + 1,
    startedAt: new Date().toISOString(),
    status: 'running',
    argv,
    loadAverageStart: loadAverage(),
    versions: runtimeVersions(),
    git: gitInfo(),
  };
  doc.sessions.push(session);
  writeResults(options.out, doc);
  return { doc, session };
}

/**
 * The `levelskip eval` flags that score configuration `c` (the CLI's planEval).
 *
 * @param {KeyedConfiguration} c
 * @param {QualityOptions} options
 * @returns {import('@levelskip/cli').EvalFlags}
 */
function evalFlags(c, options) {
  return {
    ...(c.checkpoint === undefined ? { model: c.model } : { checkpoint: c.checkpoint }),
    backend: options.backend,
    sampler: c.sampler,
    steps: String(c.steps),
    ...(c.eta === null ? {} : { eta: String(c.eta) }),
    // Every table is measured without x0 clipping, whatever a model.json recommends (the CLI
    // applies a recommended clip when no flag says otherwise).
    ...(c.sampler === 'ddim' || c.sampler === 'ddpm' ? { clipSample: false } : {}),
    ...(c.auto !== undefined ? { schedule: `auto:${c.auto}` } : c.c === null ? { kTable: `0:1=${c.k}` } : { c: String(c.c) }),
    fill: c.fill,
    samples: String(options.samples),
    batch: String(options.batch),
    seed: String(options.seed),
    progress: Boolean(process.stderr.isTTY),
    json: true,
  };
}

/**
 * Scores configuration `c` as `levelskip eval` does, timing it, and returns its cell.
 *
 * @param {import('./lib/types.js').CliPackage} cli
 * @param {KeyedConfiguration} c
 * @param {{ options: QualityOptions, session: QualitySession, identities: Map<string, WeightsIdentity> }} run
 * @returns {Promise<import('./lib/types.js').QualityCell>}
 */
async function scoreConfiguration(cli, c, { options, session, identities }) {
  const io = { stdout: { write: () => true }, stderr: process.stderr, env: process.env };
  const loadBefore = loadAverage();
  const cpuBefore = cpuSample();
  const cellStarted = performance.now();
  const summary = await cli.runEval(cli.planEval(evalFlags(c, options)), io);
  const cpu = otherCpu(cpuBefore, cpuSample());
  const { key: _key, tables: cellTables, ...configuration } = c;
  return {
    ...configuration,
    tables: cellTables,
    // Every scored model has an identity: the catalogue's and the --checkpoint ones.
    weights: /** @type {WeightsIdentity} */ (identities.get(c.model)),
    fdLenet: summary.fdLenet,
    floor: summary.floor,
    recognisable: summary.recognisable,
    realRecognisable: summary.realRecognisable,
    ...(c.checkpoint === undefined ? {} : { checkpoint: shown(c.checkpoint), training: options.recipeModels?.find((r) => r.label === c.model)?.training }),
    samplerDescription: summary.sampler,
    schedule: summary.schedule,
    backendName: summary.backend,
    predictedFractionSaved: summary.predictedFractionSaved,
    kHistogram: histogram(summary.ks),
    sampleMs: summary.sampleMs,
    msPerImage: summary.sampleMs / options.samples,
    wallMs: performance.now() - cellStarted,
    loadAverage: [loadBefore[0], loadAverage()[0]],
    ...(cpu ?? {}),
    session: session.id,
    measuredAt: new Date().toISOString(),
  };
}

/**
 * Runs the quality suite with the given command-line arguments.
 *
 * @param {string[]} argv
 */
export async function runQuality(argv) {
  const machine = machineInfo();
  const options = parseQualityArgs(argv, machineSlug(machine));
  if (options.help) {
    console.log(usage);
    return;
  }
  const [core, pretrained, cli] = await Promise.all([loadPackage('core'), loadPackage('pretrained'), loadPackage('cli')]);
  const { models, missing, recipeModels } = selectModels(options, core, pretrained);
  options.recipeModels = recipeModels;
  const configs = configurations(options, models.map((m) => m.name));
  if (missing.length > 0) log(`[quality] not shipped yet, not scored: ${missing.join(', ')}`);
  if (options.dryRun) {
    for (const c of configs) console.log(`${c.key}  (${c.tables.join(', ')})`);
    console.log(`${configs.length} configurations × ${options.samples} images`);
    return;
  }
  if (configs.length === 0) throw new Error('nothing to measure: no shipped model matches --models/--only');

  const { doc, session } = openResults(options, machine, argv);
  const identities = shippedIdentities(models);
  for (const r of recipeModels) identities.set(r.label, r.weights);
  const todo = configs.filter((c) => options.force || !sameWeights(doc.cells[c.key]?.weights, /** @type {WeightsIdentity} */ (identities.get(c.model))));
  const stepsOf = (/** @type {KeyedConfiguration} */ c) => c.steps * Math.ceil(options.samples / options.batch);
  const totalSteps = todo.reduce((s, c) => s + stepsOf(c), 0);
  log(`[quality] ${configs.length} configurations, ${configs.length - todo.length} already measured, ${todo.length} to run (${options.samples} images each) → ${shown(options.out)}`);
  const started = performance.now();
  let stepsDone = 0;
  try {
    for (const [i, c] of todo.entries()) {
      const cell = await scoreConfiguration(cli, c, { options, session, identities });
      stepsDone += stepsOf(c);
      doc.cells[c.key] = cell;
      writeResults(options.out, doc);
      const elapsed = performance.now() - started;
      const eta = stepsDone > 0 ? ((totalSteps - stepsDone) * elapsed) / stepsDone : 0;
      log(`[quality] ${i + 1}/${todo.length} ${c.key}: FD-LeNet ${cell.fdLenet.toFixed(2)} (floor ${cell.floor?.mean.toFixed(2) ?? 'n/a'}), ${cell.msPerImage.toFixed(1)} ms/image${cell.otherCores !== undefined ? `, other CPU ${cell.otherCores} cores` : ''}; eta ${(eta / 60_000).toFixed(1)} min`);
    }
    session.status = 'complete';
  } catch (error) {
    session.status = `failed: ${error instanceof Error ? error.message : String(error)}`;
    throw error;
  } finally {
    session.finishedAt = new Date().toISOString();
    session.loadAverageEnd = loadAverage();
    session.missing = missing;
    writeResults(options.out, doc);
  }
  log(`[quality] done in ${((performance.now() - started) / 60_000).toFixed(1)} min; \`pnpm bench report\` renders the tables and the Pareto chart`);
}

/**
 * Steps at each depth k = 0 .. max.
 *
 * @param {readonly number[]} ks
 * @returns {number[]}
 */
function histogram(ks) {
  /** @type {number[]} */
  const counts = [];
  for (const k of ks) counts[k] = (counts[k] ?? 0) + 1;
  return Array.from(counts, (v) => v ?? 0);
}
