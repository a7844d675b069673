// @ts-check
/**
 * The Markdown section of a quality results file (schema `levelskip-bench-quality/1`, written by
 * bench/quality.mjs) and its Pareto chart (SVG + PNG beside the report).
 *
 * ## Quality results schema `levelskip-bench-quality/1` (bench/results/quality-<machine>.json)
 *
 * {
 *   schema: 'levelskip-bench-quality/1',
 *   machine: { cpuModel, cores, memoryGiB, platform, arch, hostname },
 *   config: { quick, samples, batch, seed, backend },   // one file holds one of each
 *   sessions: [{ id, startedAt, finishedAt, status, argv, loadAverageStart, loadAverageEnd, versions, git, missing: [models not shipped] }],
 *   cells: {   // keyed `<model>|<fill>|<c<c> | k<k>>|<ddim<steps>-eta<η> | dpm-solver<steps>>` (bench/quality.mjs configKey)
 *     '<key>': { model, fill (e.g. zero, cache:3), trainedFor, c (null for a constant-k or auto schedule), k (constant-k cells only),
 *                auto (auto-schedule cells only: the fraction of the time to save, `--schedule auto:<auto>`; key part `auto<auto>`),
 *                sampler: 'ddim' | 'dpm-solver', steps, eta (null for dpm-solver), tables: ['table1' | 'table3' | 'table4' | 'table5'],
 *                weights: { steps, images, durationMs },           // the model's training record when measured
 *                fdLenet, floor: { mean, min, max, blocks, count },  // floor: n held-out real digits vs the same reference
 *                samplerDescription, schedule, backendName, predictedFractionSaved, kHistogram: [steps at k = 0..],
 *                sampleMs (all n images), msPerImage, wallMs, loadAverage: [1-min before, after],
 *                otherCores, stealCores,  // other processes' and the hypervisor's CPU use during the cell, in cores (bench/lib/machine.mjs otherCpu; absent in older files)
 *                session, measuredAt },
 *   },
 * }
 */
import { readFileSync, writeFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chartToPixels, chartToSvg, layoutChart, paretoFrontier } from './lib/chart.mjs';
import { cs, recipeBaselines, sameWeights, shippedIdentities, table1Rows, table1Sampler, table3, table4, table5 } from './quality.mjs';
import { median } from './lib/timing.mjs';
import { loadPackage, repositoryRoot } from './lib/workspace.mjs';

/** @typedef {import('./lib/types.js').QualityDocument} QualityDocument */
/** @typedef {import('./lib/types.js').QualityCell} QualityCell */

/** @type {(v: number | null | undefined, digits?: number) => string} */
const num = (v, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));
/** @type {(v: number | null | undefined) => string} */
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

/**
 * A GitHub-flavoured Markdown table, the first column left-aligned and the others right-aligned.
 *
 * @param {unknown[]} header
 * @param {unknown[][]} rows
 * @returns {string}
 */
function table(header, rows) {
  if (rows.length === 0) return '_(no data)_\n';
  const line = (/** @type {unknown[]} */ cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? ':---' : '---:'))), ...rows.map(line)].join('\n') + '\n';
}

/** @typedef {Pick<import('./lib/types.js').QualityConfiguration, 'sampler' | 'steps' | 'eta'>} SamplerFields */
/** @typedef {Pick<import('./lib/types.js').QualityConfiguration, 'model' | 'fill' | 'c' | 'k' | 'auto'> & SamplerFields} ConfigurationFields */
/** @type {(x: SamplerFields) => boolean} */
const isTable1Sampler = (x) => x.sampler === table1Sampler.sampler && x.steps === table1Sampler.steps && x.eta === table1Sampler.eta;
/** @type {(c: SamplerFields) => string} */
const samplerLabel = (c) => (c.sampler === 'ddim' ? `DDIM-${c.steps} η=${c.eta}` : `DPM-Solver++ ${c.steps}`);
/** @type {(c: ConfigurationFields) => string} */
const scheduleLabel = (c) => (c.auto !== undefined && c.auto !== null ? `auto:${c.auto}` : c.c === null ? `k=${c.k}` : `c=${c.c}`);
/**
 * A configuration in words: `mnist-full zero c=2 DDIM-50 η=1`.
 *
 * @type {(c: ConfigurationFields) => string}
 */
export const configLabel = (c) => `${c.model} ${c.fill} ${scheduleLabel(c)} ${samplerLabel(c)}`;

/**
 * Writes a file atomically (temporary file + rename).
 *
 * @param {string} path
 * @param {string | Uint8Array} data
 */
function writeAtomic(path, data) {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Table 1 analogue: FD-LeNet per model / fill and c, then the time per image with the time saved.
 *
 * @param {QualityDocument} doc
 * @returns {string}
 */
function table1Section(doc) {
  const cells = Object.values(doc.cells);
  /** @type {(model: string, fill: string, c: number) => QualityCell | undefined} */
  const find = (model, fill, c) => cells.find((x) => x.model === model && x.c === c && isTable1Sampler(x) && (c === 0 || x.fill === fill));
  const rows = [];
  const times = [];
  for (const row of table1Rows) {
    for (const { fill, trainedFor } of row.fills) {
      const found = cs.map((c) => find(row.model, fill, c));
      if (found.every((x) => x === undefined)) continue;
      const name = `${row.model} / ${fill}${trainedFor ? '' : ' (not trained for it)'}`;
      rows.push([name, ...found.map((x) => num(x?.fdLenet))]);
      const base = found[0];
      times.push([
        name,
        ...found.map((x, i) => {
          if (x === undefined) return '—';
          if (cs[i] === 0) return `${num(x.msPerImage)} ms`;
          const measured = base === undefined ? null : 1 - x.msPerImage / base.msPerImage;
          const caveat = base === undefined ? '' : timeCaveat(x, base, doc.machine.cores);
          return `${num(x.msPerImage)} ms (${pct(measured)}${caveat === '' ? '' : `, ${caveat}`} / ${pct(x.predictedFractionSaved)})`;
        }),
      ]);
    }
  }
  if (rows.length === 0) return '_(Table 1 not measured in this file)_\n';
  return `FD-LeNet (lower is better), DDIM-50 η = 1 (stochastic, DDPM-like; the paper's Table 1 samples with DDPM), by power-schedule curvature c (c = 0: every level at every step). At c = 0 nothing is skipped, so the fills of one model share that cell.

${table(['model / fill', ...cs.map((c) => `c = ${c}`)], rows)}
Sampling time per image on this machine (batch ${doc.config.batch}, ${doc.config.backend}), with the time saved against the same model's c = 0, measured / FLOP-predicted; a measured saving says "other run" where the two cells were timed in different runs of the bench, and "busy machine" where either was timed while other work shared the cores:

${table(['model / fill', ...cs.map((c) => `c = ${c}`)], times)}`;
}

/**
 * Table 3 analogue: FD-LeNet by sampler and step count, per row of `table3`.
 *
 * @param {QualityDocument} doc
 * @returns {string}
 */
export function table3Section(doc) {
  const cells = Object.values(doc.cells).filter((x) => x.tables.includes('table3') || isTable1Sampler(x));
  const blocks = [];
  for (const row of table3.rows) {
    const mine = cells.filter((x) => x.model === row.model && x.fill === row.fill && x.c === row.c);
    if (mine.length === 0) continue;
    const ddim = table3.ddimSteps
      .map((steps) => {
        const byEta = table3.etas.map((eta) => mine.find((x) => x.sampler === 'ddim' && x.steps === steps && x.eta === eta));
        if (byEta.every((x) => x === undefined)) return undefined;
        // The η runs cost nearly the same (η > 0 only adds a noise draw per step): their median
        // is the row's time, steadier than any single run.
        return [`DDIM-${steps}`, ...byEta.map((x) => num(x?.fdLenet)), `${num(median(byEta.filter((x) => x !== undefined).map((x) => x.msPerImage)))} ms`];
      })
      .filter((row) => row !== undefined);
    const dpm = table3.dpmSteps
      .map((steps) => mine.find((x) => x.sampler === 'dpm-solver' && x.steps === steps))
      .filter((x) => x !== undefined)
      .map((x) => [`DPM-Solver++ ${x.steps}`, num(x.fdLenet), '', '', `${num(x.msPerImage)} ms`]);
    blocks.push(`**${row.model}, ${row.fill} fill, c = ${row.c}**\n\n${table(['sampler', ...table3.etas.map((e) => `η = ${e}`), 'time per image'], [...ddim, ...dpm])}`);
  }
  if (blocks.length === 0) return '_(Table 3 not measured in this file)_\n';
  return `FD-LeNet by sampler and step count (DDIM's η: 0 deterministic, 1 DDPM-like noise; DPM-Solver++ 2M is deterministic, its row uses the η = 0 column). A DDIM row's time per image is the median of its η runs, which cost nearly the same (η > 0 only adds a noise draw per step); each run is timed once.\n\n${blocks.join('\n')}${equalTimeSection(doc, cells)}`;
}

/**
 * The paper's Table 3 question: does skipping (a skip-trained row at its c, DDIM-n η = 1) beat the
 * full-depth row with fewer DDIM steps at equal measured time? For each skipping cell, the
 * full-depth DDIM η = 1 cell of the same session (so one machine state) that is the slowest not
 * slower than it. Cells timed on a busy machine are left out: the comparison is by time.
 *
 * @param {QualityDocument} doc
 * @param {QualityCell[]} cells
 * @returns {string}
 */
function equalTimeSection(doc, cells) {
  const full = table3.rows.find((r) => r.c === 0);
  if (full === undefined) return '';
  const quiet = (/** @type {QualityCell} */ x) => !timedOnBusyMachine(x, doc.machine.cores);
  const ddim1 = (/** @type {QualityCell} */ x) => x.sampler === 'ddim' && x.eta === 1;
  const fullCells = cells.filter((x) => x.model === full.model && x.fill === full.fill && x.c === 0 && ddim1(x) && quiet(x));
  const rows = [];
  for (const row of table3.rows.filter((r) => r.c !== 0)) {
    const mine = cells.filter((x) => x.model === row.model && x.fill === row.fill && x.c === row.c && ddim1(x) && quiet(x)).sort((a, b) => a.steps - b.steps);
    for (const x of mine) {
      const match = fullCells.filter((f) => f.session === x.session && f.msPerImage <= x.msPerImage).sort((a, b) => b.msPerImage - a.msPerImage)[0];
      if (match === undefined) continue;
      const verdict = x.fdLenet < match.fdLenet ? 'skipping' : 'fewer full-depth steps';
      rows.push([`${row.model}, c = ${row.c}, DDIM-${x.steps}`, num(x.fdLenet), `${num(x.msPerImage)} ms`, `DDIM-${match.steps}`, num(match.fdLenet), `${num(match.msPerImage)} ms`, verdict]);
    }
  }
  if (rows.length === 0) return '';
  return `\n**At equal measured time** (the paper's Table 3 question): each skip-trained DDIM-n η = 1 run beside the ${full.model} DDIM η = 1 run of the same measuring session that takes no longer per image (cells timed on a busy machine left out).\n\n${table(['skipping', 'FD-LeNet', 'time per image', `${full.model}, as fast or faster`, 'FD-LeNet', 'time per image', 'better FD-LeNet'], rows)}`;
}

/**
 * Table 4: feature caching without retraining, per model of `table4`.
 *
 * @param {QualityDocument} doc
 * @returns {string}
 */
function table4Section(doc) {
  const cells = Object.values(doc.cells);
  const blocks = [];
  for (const model of [...new Set(table4.rows.map((row) => row.model))]) {
    const base = cells.find((x) => x.model === model && x.c === 0 && isTable1Sampler(x));
    const cached = table4.rows
      .filter((row) => row.model === model)
      .flatMap((row) => row.intervals.map((m) => cells.find((x) => x.model === model && x.fill === `cache:${m}` && x.c === null && x.k === row.k && isTable1Sampler(x))))
      .filter((x) => x !== undefined);
    if (cached.length === 0) continue;
    const paper = cells.find((x) => x.model === 'mnist-zero-c2' && x.fill === 'zero' && x.c === 2 && isTable1Sampler(x));
    const saved = (/** @type {QualityCell} */ x) => (base === undefined ? null : 1 - x.msPerImage / base.msPerImage);
    /** @type {(label: string, x: QualityCell, fullSteps: number) => string[]} */
    const line = (label, x, fullSteps) => [label, String(fullSteps), num(x.fdLenet), `${num(x.msPerImage)} ms`, pct(saved(x)), pct(x.predictedFractionSaved)];
    const rows = [];
    if (base) rows.push(line(`${model}, c = 0 (every level at every step)`, base, base.steps));
    for (const x of cached) rows.push(line(`${model}, k = ${x.k}, ${x.fill}`, x, x.kHistogram[0] ?? 0));
    if (paper) rows.push([...line('mnist-zero-c2, zero fill, c = 2 (the paper\'s method, for comparison)', paper, paper.kHistogram[0] ?? 0).slice(0, 4), '—', pct(paper.predictedFractionSaved)]);
    blocks.push(table(['configuration', 'full-depth steps of 50', 'FD-LeNet', 'time per image', 'saved, measured', 'saved, FLOP-predicted'], rows));
  }
  if (blocks.length === 0) return '_(Table 4 not measured in this file)_\n';
  return `Training-free feature caching (in the spirit of DeepCache, Ma et al. 2023) on the model trained at full depth only: every step asks for the same depth k (k = 3 = N − 1: only the 32×32 level runs; k = 2: the 32×32 and 16×16 levels), and the \`cache:m\` fill runs every m-th step at full depth and hands the deep features it computed to the skipping steps in between (core's \`cacheDepths\` plans it). DDIM-50 η = 1, as Table 1. Measured saved is against the same model's c = 0 row, in this file; the paper's skip-trained model is in the last row for comparison (its time saved is against a different model, so only the prediction is shown).

${blocks.join('\n')}`;
}

/**
 * The measured cells of each Table 5 row: its model's c = 0 baseline, its family's cells and its
 * auto cells (rows without an auto cell are left out).
 *
 * @param {Pick<QualityDocument, 'cells'>} doc
 * @returns {Array<{ row: (typeof table5.rows)[number], base: QualityCell | undefined, present: QualityCell[] }>}
 */
function table5Cells(doc) {
  const cells = Object.values(doc.cells);
  const out = [];
  for (const row of table5.rows) {
    const base = cells.find((x) => x.model === row.model && x.c === 0 && isTable1Sampler(x));
    const rowFamily = row.family;
    const family =
      rowFamily.kind === 'cache'
        ? rowFamily.intervals.map((m) => cells.find((x) => x.model === row.model && x.fill === `cache:${m}` && x.c === null && x.k === rowFamily.k && isTable1Sampler(x)))
        : rowFamily.cs.map((c) => cells.find((x) => x.model === row.model && x.fill === row.fill && x.c === c && isTable1Sampler(x)));
    const autos = row.budgets.map((auto) => cells.find((x) => x.model === row.model && x.fill === row.fill && x.auto === auto && isTable1Sampler(x)));
    if (!autos.some(Boolean)) continue;
    out.push({ row, base, present: [...family, ...autos].filter((x) => x !== undefined) });
  }
  return out;
}

/**
 * A row's cells on the Pareto front by measured time (no other cell of the row, or its c = 0
 * baseline, is both faster per image and better), whether or not their times were taken on a busy machine.
 *
 * @param {QualityCell | undefined} base
 * @param {QualityCell[]} present
 * @returns {Set<QualityCell>}
 */
function frontByMeasuredTime(base, present) {
  const candidates = [...(base === undefined ? [] : [base]), ...present];
  return new Set(paretoFrontier(candidates.map((x) => ({ x: x.msPerImage, y: x.fdLenet, cell: x }))).map((p) => p.cell));
}

/**
 * What the model's calibration predicts for a Table 5 cell: the predicted error of the depths it ran
 * (core's `scheduleError`, the objective the auto schedules minimise), and whether those depths, as
 * recomputed here, have the step histogram the cell recorded (false: the cell ran another plan,
 * e.g. an auto cell measured before the planner changed, and must be re-measured).
 *
 * @typedef {{ predictedError: number, sameDepths: boolean }} Table5Prediction
 */

/**
 * The calibration's prediction for every Table 5 cell whose model ships a calibration table
 * (`packages/model-<name>/model.json`): the depths of its schedule at each DDIM step (eq. (1)'s
 * `kAt`, `cache:m`'s `cacheDepths`, or the auto plan the CLI's `--schedule auto:f` makes), scored
 * by `scheduleError` with the same sampler.
 *
 * @param {Pick<QualityDocument, 'cells'>} doc
 * @returns {Promise<Map<QualityCell, Table5Prediction>>}
 */
export async function table5Predictions(doc) {
  const core = /** @type {any} */ (await loadPackage('core'));
  /** @type {Map<QualityCell, Table5Prediction>} */
  const out = new Map();
  for (const { row, present } of table5Cells(doc)) {
    /** @type {{ calibration?: unknown }} */
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(join(repositoryRoot, 'packages', `model-${row.model}`, 'model.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.calibration === undefined) continue;
    const calibration = core.parseCalibrationTable(manifest.calibration, `${row.model} model.json`);
    const T = calibration.noiseSchedule.trainTimesteps;
    for (const x of present) {
      if (x.sampler !== 'ddim') continue;
      try {
        const sampler = { kind: 'ddim', eta: x.eta ?? 0 };
        const timesteps = Array.from({ length: x.steps }, (_, i) => Math.floor(T / x.steps) * (x.steps - 1 - i));
        /** @type {number[]} */
        const ks =
          x.auto !== undefined && x.auto !== null
            ? core.optimalSchedule(calibration, { sampler, steps: timesteps, budget: x.auto, fill: row.fill }).plan.ks
            : x.c !== null
              ? timesteps.map((t) => core.powerSchedule({ c: x.c }).kAt(t / T, calibration.levels))
              : core.cacheDepths(
                  timesteps.map(() => x.k),
                  core.parseFill(x.fill),
                );
        const histogram = Array.from({ length: calibration.levels }, (_, k) => ks.filter((d) => d === k).length);
        const prediction = core.scheduleError(calibration, { sampler, steps: timesteps, fill: row.fill, ks });
        out.set(x, { predictedError: prediction.predictedError, sameDepths: histogram.join('/') === (x.kHistogram ?? []).join('/') });
      } catch (error) {
        // A plan the table cannot score (a budget it cannot reach, a cache older than it calibrated):
        // that cell shows no prediction, and the report goes on.
        if (/** @type {{ code?: string } | null} */ (error)?.code !== 'INVALID_OPTION') throw error;
      }
    }
  }
  return out;
}

/**
 * Spearman's rank correlation of two equally long lists (average ranks for ties); undefined below 3 pairs.
 *
 * @param {number[]} xs
 * @param {number[]} ys
 * @returns {number | undefined}
 */
export function spearman(xs, ys) {
  if (xs.length < 3 || xs.length !== ys.length) return undefined;
  const ranks = (/** @type {number[]} */ v) => {
    const order = v.map((value, i) => ({ value, i })).sort((a, b) => a.value - b.value);
    const r = new Array(v.length);
    for (let a = 0; a < order.length; ) {
      let b = a;
      while (b + 1 < order.length && order[b + 1].value === order[a].value) b++;
      for (let j = a; j <= b; j++) r[order[j].i] = (a + b) / 2 + 1;
      a = b + 1;
    }
    return r;
  };
  const [rx, ry] = [ranks(xs), ranks(ys)];
  const mean = (xs.length + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) ** 2;
    syy += (ry[i] - mean) ** 2;
  }
  return sxx === 0 || syy === 0 ? undefined : sxy / Math.sqrt(sxx * syy);
}

/**
 * Table 5: calibrated schedules beside the hand-made family of their row (cache:m or eq. (1)),
 * sorted by FLOP-predicted saving, each marked when it is on the Pareto front of its row by FLOPs
 * (no other configuration of the row saves more FLOPs and scores better) and by measured time (no
 * other configuration of the row, its c = 0 baseline included, is faster per image and scores
 * better). A cell timed on a busy machine keeps its flag in every column its time enters: its
 * measured saving and its place on the front by time are only as good as that time.
 *
 * With `predictions` (`table5Predictions`), each cell also shows the error its calibration predicts
 * for its depths, and each row the rank correlation of that prediction with FD-LeNet at equal
 * budgets: how far the objective the auto schedules minimise tells which schedule samples better.
 *
 * @param {Pick<QualityDocument, 'machine' | 'cells'>} doc
 * @param {Map<QualityCell, Table5Prediction>} [predictions]
 * @returns {string}
 */
export function table5Section(doc, predictions) {
  const blocks = [];
  for (const { row, base, present } of table5Cells(doc)) {
    const front = new Set(paretoFrontier(present.map((x) => ({ x: 1 - x.predictedFractionSaved, y: x.fdLenet, cell: x }))).map((p) => p.cell));
    const frontByTime = frontByMeasuredTime(base, present);
    const busy = (/** @type {QualityCell} */ x) => timedOnBusyMachine(x, doc.machine.cores);
    const saved = (/** @type {QualityCell} */ x) => (base === undefined ? null : 1 - x.msPerImage / base.msPerImage);
    const rows = [];
    const time = (/** @type {QualityCell} */ x) => `${num(x.msPerImage)} ms${busy(x) ? ' (busy machine)' : ''}`;
    const timeFlag = (/** @type {QualityCell} */ x) => {
      const caveat = base === undefined ? '' : timeCaveat(x, base, doc.machine.cores);
      return caveat === '' ? '' : ` (${caveat})`;
    };
    if (base) rows.push([`c = 0 (full depth)`, num(base.fdLenet), time(base), '—', '—', '', '', frontByTime.has(base) ? `yes${timeFlag(base)}` : '']);
    for (const x of [...present].sort((a, b) => b.predictedFractionSaved - a.predictedFractionSaved)) {
      const label = x.auto !== undefined ? `auto:${x.auto}, ${x.fill}` : x.c === null ? `${x.fill}, k = ${x.k}` : `eq. (1), c = ${x.c}`;
      const measured = base === undefined ? '—' : `${pct(saved(x))}${timeFlag(x)}`;
      const cells = [label, num(x.fdLenet), time(x), measured, pct(x.predictedFractionSaved), (x.kHistogram ?? []).join('/'), front.has(x) ? 'yes' : '', frontByTime.has(x) ? `yes${timeFlag(x)}` : ''];
      if (predictions !== undefined) cells.splice(2, 0, predictedLabel(predictions.get(x)));
      rows.push(cells);
    }
    if (base && predictions !== undefined) rows[0]?.splice(2, 0, '0');
    const what = row.family.kind === 'cache' ? `cache:m with k = ${row.family.k}, the DeepCache family` : 'eq. (1) at c = 1, 2, 3, 5';
    const header = ['schedule', 'FD-LeNet', 'time per image', 'saved, measured', 'saved, FLOP-predicted', 'steps at k = 0/1/2/3', 'Pareto-optimal in this row (by FLOPs)', 'Pareto-optimal in this row (by measured time)'];
    if (predictions !== undefined) header.splice(2, 0, 'predicted error');
    blocks.push(`**${row.model}, ${row.fill} fill: auto vs ${what}**

${table(header, rows)}${predictions === undefined ? '' : correlationLine(present, predictions)}`);
  }
  if (blocks.length === 0) return '_(Table 5 not measured in this file: `pnpm bench quality --only table5`)_\n';
  const predictedNote =
    predictions === undefined
      ? ''
      : ` *Predicted error*: what the model's calibration table (model.json) predicts the schedule's depths add to each final sample, (Σ √(w_i · err_i))² (core's \`scheduleError\`, the objective the auto schedules minimise): a squared distance summed over the image's pixels, on the [−1, 1] scale; "plan changed" where the depths recomputed now differ from the step counts the cell ran (re-measure it).`;
  return `Calibrated schedules (\`--schedule auto:f\`, core's \`autoSchedule\`): the depth of each step (with the cache fill, also which steps refresh at full depth) chosen by dynamic programming from the model's calibration table to add the least predicted error for a time budget, beside the hand-made schedules at the same FLOP-predicted saving. DDIM-50 η = 1, as Table 1; measured saved is against the same model's c = 0 row. A measured saving, and a place on the Pareto front by measured time, carries "(busy machine)" where either cell was timed while other work shared the cores, and "(other run)" where the cell and its c = 0 row were timed in different runs of the bench: such times may differ unevenly, so that ranking is provisional (FD-LeNet does not depend on it; the ranking by FLOPs does not either).${predictedNote}

${blocks.join('\n')}`;
}

/** @param {Table5Prediction | undefined} p */
function predictedLabel(p) {
  if (p === undefined) return '—';
  return `${p.predictedError.toPrecision(3)}${p.sameDepths ? '' : ' (plan changed)'}`;
}

/**
 * Whether a row's predicted errors rank its skipping schedules as FD-LeNet does: Spearman's ρ over
 * the cells whose plan is the one measured, and at each budget, auto against the family's cell.
 *
 * @param {QualityCell[]} present
 * @param {Map<QualityCell, Table5Prediction>} predictions
 */
function correlationLine(present, predictions) {
  const scored = present.filter((x) => predictions.get(x)?.sameDepths);
  const rho = spearman(
    scored.map((x) => /** @type {Table5Prediction} */ (predictions.get(x)).predictedError),
    scored.map((x) => x.fdLenet),
  );
  if (rho === undefined) return '';
  const autos = scored.filter((x) => x.auto !== undefined && x.auto !== null);
  const pairs = autos
    .map((a) => {
      const family = scored.filter((x) => x.auto === undefined || x.auto === null);
      const partner = family.reduce((best, x) => (best === undefined || Math.abs(x.predictedFractionSaved - a.predictedFractionSaved) < Math.abs(best.predictedFractionSaved - a.predictedFractionSaved) ? x : best), /** @type {QualityCell | undefined} */ (undefined));
      if (partner === undefined) return undefined;
      const pa = /** @type {Table5Prediction} */ (predictions.get(a)).predictedError;
      const pf = /** @type {Table5Prediction} */ (predictions.get(partner)).predictedError;
      const label = partner.c === null ? partner.fill : `c = ${partner.c}`;
      return `auto:${a.auto} vs ${label}: predicted ×${pf === 0 ? '—' : (pa / pf).toFixed(2)}, FD-LeNet ×${(a.fdLenet / partner.fdLenet).toFixed(2)}`;
    })
    .filter((line) => line !== undefined);
  return `\nPredicted error against FD-LeNet in this row: Spearman ρ = ${rho.toFixed(2)} over its ${scored.length} skipping schedules${pairs.length > 0 ? `; at equal budgets, ${pairs.join('; ')}` : ''}.\n`;
}

/**
 * Table 5's Pareto chart by measured time: FD-LeNet against the sampling time per image as a
 * fraction of the same model's c = 0 (1 − the measured time saved), one colour per row's family
 * and its auto cells, each row's front by measured time circled and joined. Undefined when no row
 * has its baseline measured.
 *
 * @param {Pick<QualityDocument, 'machine' | 'cells' | 'config'>} doc
 * @returns {import('./lib/types.js').ChartSpec | undefined}
 */
export function table5ChartSpec(doc) {
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  /** @type {import('./lib/types.js').ChartSeries[]} */
  const series = [];
  /** @type {Array<{ color: string, points: Array<{ x: number, y: number }> }>} */
  const frontiers = [];
  let busyCells = 0;
  for (const { row, base, present } of table5Cells(doc)) {
    if (base === undefined) continue;
    const front = frontByMeasuredTime(undefined, present);
    const relative = (/** @type {QualityCell} */ x) => x.msPerImage / base.msPerImage;
    busyCells += present.filter((x) => timedOnBusyMachine(x, doc.machine.cores)).length + (timedOnBusyMachine(base, doc.machine.cores) ? 1 : 0);
    const label = (/** @type {QualityCell} */ x) => (x.auto !== undefined ? `a=${x.auto}` : x.c === null ? `m=${x.fill.slice('cache:'.length)}` : `c=${x.c}`);
    const family = present.filter((x) => x.auto === undefined);
    const autos = present.filter((x) => x.auto !== undefined);
    const familyName = row.family.kind === 'cache' ? `cache:m, k = ${row.family.k}` : 'eq. (1)';
    const colorOf = (/** @type {number} */ i) => palette[i % palette.length];
    for (const [name, points] of /** @type {Array<[string, QualityCell[]]>} */ ([[`${row.model} / ${familyName}`, family], [`${row.model} / auto, ${row.fill}`, autos]])) {
      if (points.length === 0) continue;
      series.push({ name, color: colorOf(series.length), points: points.map((x) => ({ x: relative(x), y: x.fdLenet, highlight: front.has(x), label: front.has(x) ? label(x) : undefined })) });
    }
    // The row's front in the colour of its auto series.
    frontiers.push({ color: series[series.length - 1]?.color ?? '#555555', points: [...front].map((x) => ({ x: relative(x), y: x.fdLenet })) });
  }
  if (series.length === 0) return undefined;
  return {
    title: `Table 5 by measured time, ${doc.config.samples} images per point${busyCells > 0 ? `, ${busyCells} cells timed busy` : ''}`,
    xLabel: 'time per image / same model at c = 0 (measured, log scale)',
    yLabel: 'FD-LeNet (log scale, lower is better)',
    series,
    frontiers,
    frontiersLegend: 'Pareto front of a row',
  };
}

/**
 * `mnist-c2-distill@3000` → ['mnist-c2-distill', 3000]; a label without a step sorts last.
 *
 * @param {string} label
 * @returns {[string, number]}
 */
function recipeOrder(label) {
  const at = label.lastIndexOf('@');
  const step = at < 0 ? Number.POSITIVE_INFINITY : Number(label.slice(at + 1));
  return [at < 0 ? label : label.slice(0, at), Number.isFinite(step) ? step : Number.POSITIVE_INFINITY];
}

/**
 * The recipes table: FD-LeNet of the --checkpoint models by c, beside the shipped baselines.
 *
 * @param {QualityDocument} doc
 * @returns {string}
 */
export function recipesSection(doc) {
  const cells = Object.values(doc.cells).filter(isTable1Sampler);
  const labels = [...new Set(cells.filter((x) => x.checkpoint !== undefined).map((x) => x.model))].sort((a, b) => {
    const [na, sa] = recipeOrder(a);
    const [nb, sb] = recipeOrder(b);
    return na < nb ? -1 : na > nb ? 1 : sa - sb;
  });
  if (labels.length === 0) return '_(no recipe checkpoints measured in this file: `pnpm bench quality --checkpoint <label>=<dir>`)_\n';
  const rows = [
    ...recipeBaselines.map((b) => ({ model: b.model, fill: b.fill, describe: 'shipped' })),
    ...labels.map((label) => {
      // A label of `labels` names a cell of `cells`.
      const sample = /** @type {QualityCell} */ (cells.find((x) => x.model === label));
      /** @type {Partial<import('@levelskip/core').TrainingRecord>} */
      const t = sample.training ?? {};
      // A schedule in its JSON form (`{ kind: 'power', c }`); a string one names no c.
      const schedule = /** @type {{ c?: number } | undefined} */ (typeof t.schedule === 'object' ? t.schedule : undefined);
      const describe = [t.initFrom ? `from ${t.initFrom}` : 'from scratch', t.teacher ? `distilled from ${t.teacher} (mix ${t.mix})` : null, `${t.scheme}${schedule?.c !== undefined ? ` c = ${schedule.c}` : ''}`, `${t.steps} steps`]
        .filter(Boolean)
        .join(', ');
      return { model: label, fill: sample.fill, describe };
    }),
  ];
  /** @type {(model: string, fill: string, c: number) => QualityCell | undefined} */
  const find = (model, fill, c) => cells.find((x) => x.model === model && x.c === c && (c === 0 || x.fill === fill));
  const real = cells.find((x) => x.realRecognisable !== undefined)?.realRecognisable;
  const body = rows
    .map((row) => {
      const found = cs.map((c) => find(row.model, row.fill, c));
      if (found.every((x) => x === undefined)) return undefined;
      const base = found[0];
      const at2 = found[cs.indexOf(2)];
      const caveat = base !== undefined && at2 !== undefined ? timeCaveat(at2, base, doc.machine.cores) : '';
      const measured = base !== undefined && at2 !== undefined && caveat === '' ? 1 - at2.msPerImage / base.msPerImage : null;
      return [
        `${row.model} / ${row.fill}`,
        row.describe,
        ...found.map((x) => num(x?.fdLenet)),
        at2?.recognisable === undefined ? '—' : pct(at2.recognisable),
        at2 === undefined ? '—' : `${caveat === '' ? pct(measured) : caveat} / ${pct(at2.predictedFractionSaved)}`,
      ];
    })
    .filter((row) => row !== undefined);
  return `FD-LeNet by power-schedule curvature c, as Table 1 (DDIM-50 η = 1, ${doc.config.samples} images), for checkpoints of the training recipes (\`packages/pretrained/scripts/recipes.mjs\`; a label \`<recipe>@<step>\` is the recipe's weights after that many steps) beside the shipped full-depth and from-scratch models. *Recognisable*: the share of the c = 2 samples the project's LeNet classifies with p > 0.9${real === undefined ? '' : ` (held-out real digits: ${pct(real)})`}; LeNet is confident on much that is not a digit, so read it beside FD-LeNet. *Saved at c = 2*: time per image at c = 2 against the same model's c = 0 in this file, measured / FLOP-predicted; "busy machine" where either cell was timed while other work shared the cores, "other run" where they were timed in different runs of the bench (its FD-LeNet is unaffected either way).

${table(['model / fill', 'training', ...cs.map((c) => `c = ${c}`), 'recognisable, c = 2', 'saved at c = 2'], body)}`;
}

/**
 * One row per scored model: what it costs (parameters, FLOPs per DDIM-50 step at full depth and
 * with its schedule, stage-aware for multi-decoder models) beside what it gives (FD-LeNet) and
 * the time it took, at c = 0 and at the c it was trained for (2 for uniform-k and full models).
 *
 * @param {QualityDocument} doc
 * @returns {Promise<string>}
 */
async function modelsSection(doc) {
  const cells = Object.values(doc.cells);
  const [core, pretrained] = await Promise.all([loadPackage('core'), loadPackage('pretrained')]);
  const entries = pretrained.catalogue.filter((e) => cells.some((c) => c.model === e.name));
  if (entries.length === 0) return '';
  /** @type {(model: string, fill: string, c: number) => QualityCell | undefined} */
  const find = (model, fill, c) => cells.find((x) => x.model === model && x.c === c && isTable1Sampler(x) && (c === 0 || x.fill === fill));
  const rows = entries.map((e) => {
    const spec = core.parseUNetSpec({ ...core.presets[e.preset], sidePaths: e.sidePaths });
    const c = e.c ?? 2;
    const full = core.predictedTimeSaved(spec, core.powerSchedule({ c: 1 }), 50, { fill: e.fill });
    const skipped = core.predictedTimeSaved(spec, core.powerSchedule({ c }), 50, { fill: e.fill });
    const at0 = find(e.name, e.fill, 0);
    const atC = find(e.name, e.fill, c);
    const mflops = (/** @type {number} */ v) => `${(v / 50 / 1e6).toFixed(0)}`;
    return [
      e.name,
      `${e.preset}${e.sidePaths ? ' + side paths' : ''}`,
      core.parameterCount(spec).toLocaleString('en-US'),
      mflops(full.fullFlops),
      `${mflops(skipped.scheduledFlops)} (c = ${c})`,
      num(at0?.fdLenet),
      num(atC?.fdLenet),
      at0 ? `${num(at0.msPerImage)} ms` : '—',
      atC ? `${num(atC.msPerImage)} ms` : '—',
    ];
  });
  return `### Models compared

Cost and quality of each scored model with DDIM-50 (η = 1): parameters, mean FLOPs per step and image at full depth and with the power schedule at the model's c (c = 2 for the models not trained for a c; for multi-decoder models each step counts its stage's decoder), FD-LeNet and sampling time per image at c = 0 and at that c.

${table(['model', 'architecture', 'parameters', 'MFLOPs / step, c = 0', 'MFLOPs / step, skipping', 'FD-LeNet, c = 0', 'FD-LeNet, skipping', 'time / image, c = 0', 'time / image, skipping'], rows)}`;
}

/**
 * Every configuration of a shipped model as a point (recipe checkpoints have their own table); one series per model / fill.
 *
 * @param {QualityDocument} doc
 * @param {number | undefined} floor the real-vs-real floor, drawn as a reference line
 * @returns {{ frontier: Array<{ x: number, y: number, cell: QualityCell }>, spec: import('./lib/types.js').ChartSpec }}
 */
function chartSpec(doc, floor) {
  const cells = Object.values(doc.cells).filter((c) => c.checkpoint === undefined);
  /** @type {Map<string, Array<{ x: number, y: number, cell: QualityCell }>>} */
  const series = new Map();
  for (const c of cells) {
    const name = c.auto !== undefined && c.auto !== null ? `${c.model} / auto, ${c.fill}` : c.c === null && c.fill.startsWith('cache:') ? `${c.model} / cache:m, k = ${c.k}` : `${c.model} / ${c.fill}`;
    if (!series.has(name)) series.set(name, []);
    /** @type {Array<{ x: number, y: number, cell: QualityCell }>} */ (series.get(name)).push({ x: c.msPerImage, y: c.fdLenet, cell: c });
  }
  const frontier = paretoFrontier(cells.map((c) => ({ x: c.msPerImage, y: c.fdLenet, cell: c })));
  const onFrontier = new Set(frontier.map((p) => p.cell));
  return {
    frontier,
    spec: {
      title: `FD-LeNet vs sampling time, MNIST, ${doc.config.samples} images per point`,
      xLabel: `sampling time per image, ms (log scale, ${doc.config.backend}, ${doc.machine.cores} cores)`,
      yLabel: 'FD-LeNet (log scale, lower is better)',
      series: [...series.entries()].map(([name, points]) => ({
        name,
        points: points.map((p) => ({ x: p.x, y: p.y, highlight: onFrontier.has(p.cell), label: onFrontier.has(p.cell) ? `${p.cell.auto !== undefined && p.cell.auto !== null ? `a=${p.cell.auto}` : p.cell.c === null ? `m=${p.cell.fill.slice('cache:'.length)}` : `c=${p.cell.c}`} ${p.cell.sampler === 'ddim' ? `D${p.cell.steps}` : `S${p.cell.steps}`}` : undefined })),
      })),
      frontier: frontier.map(({ x, y }) => ({ x, y })),
      ...(floor === undefined ? {} : { reference: { y: floor, label: `real-vs-real floor ${floor.toFixed(2)}` } }),
    },
  };
}

/**
 * Whether other work shared the machine during a cell: other processes or the hypervisor took more
 * than a tenth of the cores (measured from /proc/stat less the benchmark's own CPU time); cells
 * from before that measurement fall back to a 1-minute load average above a quarter of the cores
 * (which also counts the benchmark's own threads, so it flags more than it should).
 *
 * @param {{ otherCores?: number, stealCores?: number, loadAverage: number[] }} cell
 * @param {number} cores the machine's
 * @returns {boolean}
 */
export function timedOnBusyMachine(cell, cores) {
  if (cell.otherCores !== undefined) return cell.otherCores + (cell.stealCores ?? 0) > cores * 0.1;
  return cell.loadAverage[0] > cores * 0.25;
}

/**
 * Why the times of two cells should not be compared, or '' when they can: either was timed on a busy
 * machine, or they were timed in different runs of the bench (machines of one kind differ up to 2×
 * between sessions, and one VM drifts between days: compare times only within one run).
 *
 * @param {QualityCell} a
 * @param {QualityCell} b
 * @param {number} cores
 * @returns {'' | 'busy machine' | 'other run'}
 */
export function timeCaveat(a, b, cores) {
  if (timedOnBusyMachine(a, cores) || timedOnBusyMachine(b, cores)) return 'busy machine';
  return a.session === b.session ? '' : 'other run';
}

/**
 * Renders a quality results file. Writes the Pareto chart to `<outDirectory>/<assetName>.svg|png`
 * and links it by `assetName` (the report and its assets live in one folder). Cells measured with
 * other weights than a model has now (`currentWeights`, by default the shipped ones) are left out
 * and counted in a note: a retrained model's old scores are not its scores.
 *
 * @param {QualityDocument} fullDoc
 * @param {string} path the file, as the report shows it
 * @param {import('./lib/types.js').RenderContext} context
 * @returns {Promise<string>}
 */
export async function renderQuality(fullDoc, path, { outDirectory, assetName, currentWeights }) {
  const current = currentWeights ?? shippedIdentities((await loadPackage('pretrained')).listPretrained());
  /** @type {(c: QualityCell) => boolean} */
  const isStale = (c) => current.has(c.model) && !sameWeights(c.weights, /** @type {import('./lib/types.js').WeightsIdentity} */ (current.get(c.model)));
  const staleCells = Object.values(fullDoc.cells).filter(isStale);
  const doc = { ...fullDoc, cells: Object.fromEntries(Object.entries(fullDoc.cells).filter(([, c]) => !isStale(c))) };
  const cells = Object.values(doc.cells);
  // The sessions (and their dates) the rendered cells come from, not every session in the file:
  // cells of earlier sessions may have been re-measured or left out as stale.
  const cellSessions = new Set(cells.map((c) => c.session));
  const sessions = doc.sessions.filter((s) => cellSessions.has(s.id));
  const dates = [...new Set(sessions.map((s) => s.startedAt.slice(0, 10)))];
  const floor = cells.find((c) => c.floor)?.floor;
  const quick = doc.config.quick ? '\n> **Quick smoke run** (`--quick`): few images, few configurations. These figures show that the harness works; they are not results.\n' : '';
  const missing = [...new Set(doc.sessions.flatMap((s) => s.missing ?? []))].filter((m) => !cells.some((c) => c.model === m));
  const busy = cells.filter((c) => timedOnBusyMachine(c, doc.machine.cores));
  const staleModels = [...new Map(staleCells.map((c) => [c.model, c.weights])).entries()].map(([m, w]) => `${m} at ${w?.steps ?? '?'} training steps`);
  const staleNote =
    staleCells.length > 0
      ? `\n> **Left out:** ${staleCells.length} configuration(s) measured with earlier weights (${staleModels.join('; ')}); the models have been trained further since. \`pnpm bench quality\` re-measures them.\n`
      : '';
  const last = sessions[sessions.length - 1];
  const weights = [...new Map(cells.map((c) => [c.model, c.weights])).entries()].map(([m, w]) => `${m}: ${w.steps ?? '?'} training steps`);
  let table5Chart = '';
  const table5Spec = table5ChartSpec(doc);
  if (table5Spec !== undefined) {
    const laid = layoutChart(table5Spec);
    mkdirSync(outDirectory, { recursive: true });
    writeAtomic(join(outDirectory, `${assetName}-table5.svg`), chartToSvg(laid));
    const cli = await loadPackage('cli');
    writeAtomic(join(outDirectory, `${assetName}-table5.png`), cli.encodePng(chartToPixels(laid, cli)));
    table5Chart = `\n![Table 5: FD-LeNet vs measured time](${assetName}-table5.svg)\n\nTable 5 by measured time: each row's schedules at their sampling time per image as a fraction of the same model's c = 0 (so 0.6 is 40 % saved), circled and joined where on the row's Pareto front by measured time.${table5Spec.title.includes('timed busy') ? ' Cells timed on a busy machine are drawn at that time: the ranking by time is provisional (FD-LeNet does not depend on it).' : ''} PNG render: [${assetName}-table5.png](${assetName}-table5.png).\n`;
  }
  let chart = '_(no cells yet)_\n';
  let frontierTable = '';
  if (cells.length > 0) {
    const { spec, frontier } = chartSpec(doc, floor?.mean);
    const laid = layoutChart(spec);
    mkdirSync(outDirectory, { recursive: true });
    writeAtomic(join(outDirectory, `${assetName}.svg`), chartToSvg(laid));
    const cli = await loadPackage('cli');
    writeAtomic(join(outDirectory, `${assetName}.png`), cli.encodePng(chartToPixels(laid, cli)));
    chart = `![FD-LeNet vs sampling time](${assetName}.svg)\n\nEvery configuration above is a point; circled points are Pareto-optimal, labelled with c (or the cache interval m) and the sampler (D50: DDIM-50, S20: DPM-Solver++ 20 steps). PNG render: [${assetName}.png](${assetName}.png).\n`;
    frontierTable = `\nThe Pareto-optimal configurations (no other configuration is both faster and better):\n\n${table(
      ['configuration', 'time per image', 'FD-LeNet', 'predicted FLOPs saved'],
      frontier.map((p) => [configLabel(p.cell), `${num(p.cell.msPerImage)} ms`, num(p.cell.fdLenet), pct(p.cell.predictedFractionSaved)]),
    )}`;
  }
  return `## Quality: FD-LeNet on MNIST (${doc.machine.cores}-core ${doc.machine.cpuModel})
${quick}
Source: \`${path}\`, measured ${dates.join(', ') || '—'} in ${sessions.length} session(s), ${cells.length} configurations. Each configuration samples **${doc.config.samples} images** (batches of ${doc.config.batch}, batch i with seed ${doc.config.seed} + i, so every configuration starts from the same noise) on ${doc.config.backend}, and scores them with FD-LeNet: the Fréchet distance between LeNet features (the 84-d penultimate layer of @levelskip/metrics' classifier) of the generated images and of the MNIST reference digits. It is not Inception FID; compare it only with itself.

**Real-vs-real floor** at n = ${doc.config.samples}: ${floor ? `${floor.mean.toFixed(2)} (range ${floor.min.toFixed(2)}–${floor.max.toFixed(2)} over ${floor.blocks} disjoint blocks of ${floor.count} held-out digits)` : 'n/a'}. A score near it is as close to the data as ${doc.config.samples} real digits are.

Weights measured: ${weights.join('; ') || '—'}.${missing.length > 0 ? ` Not shipped yet, so not scored: ${missing.join(', ')}.` : ''}${last ? ` Versions: Node ${last.versions.node}, onnxruntime-node ${last.versions.onnxruntimeNode}; commit \`${last.git?.commit?.slice(0, 10) ?? '?'}\`${last.git?.dirty ? ' (uncommitted changes)' : ''}.` : ''}
${staleNote}${busy.length > 0 ? `\n> **Note:** ${busy.length} of ${cells.length} configurations were timed while other work shared the machine (other processes or the hypervisor took more than a tenth of the cores; for cells recorded before that was measured, a 1-minute load average above a quarter of the cores): their times per image may be inflated; FD-LeNet does not depend on it.\n` : ''}
${await modelsSection(doc)}
### Table 1 analogue: fills and skip schedules

${table1Section(doc)}
### Table 3 analogue: samplers and step counts

${table3Section(doc)}
### Table 4, beyond the paper: feature caching without retraining

${table4Section(doc)}
### Table 5, beyond the paper: calibrated schedules

${table5Section(doc, await table5Predictions(doc))}${table5Chart}
### Recipes: fine-tuning and distillation for c = 2

${recipesSection(doc)}
### Quality vs time

${chart}${frontierTable}`;
}
