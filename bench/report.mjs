// @ts-check
/**
 * `pnpm bench report`: renders docs/results.md from every results file in bench/results/*.json
 * (not sub-folders: bench/results/quick/ holds smoke runs and is left out).
 *
 *   node bench/run.mjs report [--results <dir>] [--out <file>]
 *
 * Each file is rendered by the renderer of its `schema`; files of an unknown schema are listed,
 * not rendered. The quality benchmark adds its renderer to `renderers` below.
 *
 * ## Speed results schema `levelskip-bench-speed/1` (bench/results/speed-<machine>.json)
 *
 * Times are milliseconds of wall time; "timing" objects are
 *   { ms: median, runs: timed runs, minMs, maxMs, timesMs: [every timed run] }.
 *
 * {
 *   schema: 'levelskip-bench-speed/1',
 *   machine: { cpuModel, cores, memoryGiB, platform, arch, hostname },
 *   config: {
 *     threads,            // intra-op threads of onnxruntime and PyTorch (tfjs-wasm in Node: 1)
 *     quick,              // true: a smoke run, figures are not results
 *     cs: [1, 2, 3, 5],   // power-schedule curvatures timed besides the c = 0 baseline
 *     sampler,            // 'ddim(steps=50, eta=0, spacing=leading)'
 *     predictTimestep,    // timestep of the per-k predict() inputs of single-decoder models
 *     weights,            // how the random weights were drawn
 *     parityTolerance,    // max |Δε| allowed between the PyTorch peer and levelskip-onnx
 *     peak: { conv: { batch, channels, size, kernel }, matmul: { n } },
 *   },
 *   sessions: [{          // one per invocation; cells name the session that measured them
 *     id, startedAt, finishedAt, status: 'running' | 'complete' | 'failed: …', argv,
 *     loadAverageStart: [1, 5, 15 min], loadAverageEnd,
 *     versions: { node, onnxruntimeNode, tfjs, tfjsBackendWasm, tfjsNode },
 *     torch: { torch, numpy, python, threads, interopThreads, mkldnn, blas } | null,
 *     openblasPthread: { name, installed, version },   // Debian libopenblas0-pthread
 *     git: { commit, dirty },
 *     peaks: { <backend>: { conv, matmul } },   // GFLOP/s measured at the start of every session that times
 *                                              // model cells (absent before 2026-12-04); a cell's achieved
 *                                              // GFLOP/s is read against its own session's peaks
 *     peaksFrom?: id,     // a session from before that, whose peaks were measured by session `id` on the same
 *                         // machine (set by hand, with the reason in peaksFromReason)
 *     unavailable: {      // what was asked for but not measured, and why
 *       <backend>: reason,                 // the whole backend (e.g. no torch, no tfjs-node)
 *       '<backend>|<model>': reason,       // only that model's cells (e.g. the PyTorch peer on a spec it cannot build)
 *     },
 *   }],
 *   cells: {              // keyed as in bench/lib/results-file.mjs `cellKey`; every cell has session, measuredAt;
 *                         // timed cells (all but parity) also otherCores, stealCores: other processes' and the
 *                         // hypervisor's CPU use during the cell, in cores (bench/lib/machine.mjs otherCpu; the
 *                         // PyTorch peer's own CPU time is subtracted; absent in cells measured before 2026-12-04)
 *     'peak|<backend>': { kind: 'peak', backend, threads,
 *        conv: { batch, channels, size, kernel, flops, ...timing, gflops }, matmul: { n, flops, ...timing, gflops } },
 *     'parity|<model>': { kind: 'parity', model, backend: 'torch', against: 'onnx-cpu', tolerance, passed, maxAbsDiff,
 *        cases: [{ k, fill, maxAbsDiff, maxAbsEps, sidePaths, stage? }] },   // stage: multi-decoder models only
 *     'predict|<model>|<backend>|b<batch>|<fill>': { kind: 'predict', model, backend, backendName, batch, fill,
 *        sidePaths, threads,
 *        // single-decoder models:
 *        timestep, ks: [{ k, ...timing }],
 *        baseline?: timing,    // cache fill only: the full network without a feature cache, same rounds
 *        // multi-decoder models (spec.decoderStages): every stage timed at the middle of its t-interval
 *        stages?: [{ stage, tStart, tEnd, timestep }], ks: [{ stage, k, ...timing }],
 *        baselines?: [{ stage, ...timing }] },  // cache fill only, per stage
 *        // readers: an entry without `stage` is stage 0
 *     'sample|<model>|<backend>|b<batch>|<fill>|ddim50': { kind: 'sample', model, backend, backendName, batch, fill,
 *        sidePaths, threads, sampler: 'ddim50', samplerDescription, steps, seed,
 *        schedules: [{ c, ...timing, kHistogram: [steps at k = 0 .. N-1] }] },  // c = 0: no fill, no cache
 *   },
 *   derived: {            // recomputed from the cells on every write (bench/speed-tables.mjs)
 *     models: [{ model, block: 'resnet' | 'ode2', levels,
 *                stages: [{ stage, tStart, tEnd, timestep, gflopsFull }] }],  // one stage for a single decoder
 *     predicted: [{ model, fill, c, sampler: 'ddim50' | 'ddpm1000', predictedSaved, kHistogram,
 *                   stageHistogram? }],   // multi-decoder: steps per decoder stage
 *     perK: [{ model, backend, batch, fill, stage, timestep, k, ms, runs, gflops, speedup, flopSpeedup }],
 *     table2: [{ model, backend, batch, fill, c, sampler, source: 'sample' | 'per-k', runMs, fullMs,
 *                measuredSaved, predictedSaved, ratio }],   // per-k: runMs = Σ_i ms(stage_i, k_i), fullMs = Σ_i ms_full(stage_i)
 *     throughputVsTorch: [{ model, backend, batch, fill, c, sampler, source, backendMs, torchMs, ratio }],
 *     gflops: [{ model, backend, batch, stage, threads, gflopsFull, gflopsDeepestSkip, peakConvGflops, peakMatmulGflops,
 *                fractionOfConvPeak }],   // one row per decoder stage
 *     parity: [{ model, passed, maxAbsDiff, tolerance, cases }],
 *   },
 * }
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { builtinFillKinds } from '@levelskip/core';
import { speedSchema } from './lib/results-file.mjs';
import { loadPackage, repositoryRoot } from './lib/workspace.mjs';

/** @typedef {import('./lib/types.js').SpeedDocument} SpeedDocument */
/** @typedef {import('./lib/types.js').SpeedTables} SpeedTables */
/** @typedef {import('./lib/types.js').SpeedSession} SpeedSession */
/** @typedef {import('./lib/types.js').SpeedCell} SpeedCell */

/**
 * A path for the report: relative inside the repository, absolute outside it.
 *
 * @param {string} path
 * @returns {string}
 */
function shown(path) {
  const inside = relative(repositoryRoot, path);
  return inside.startsWith('..') ? path : inside || '.';
}
import { deriveSpeedTables, samplerIds, sessionPeak } from './speed-tables.mjs';
import { recipesSection, renderQuality, timedOnBusyMachine } from './quality-report.mjs';
import { qualitySchema } from './quality.mjs';

/** @type {Record<string, string | undefined>} */
const backendLabels = {
  onnx: 'levelskip-ORT',
  'tfjs-wasm': 'levelskip-tfjs (wasm)',
  'tfjs-cpu': 'levelskip-tfjs (cpu)',
  'tfjs-node': 'levelskip-tfjs (node)',
  torch: 'PyTorch',
};
const backendOrder = ['onnx', 'tfjs-wasm', 'tfjs-node', 'tfjs-cpu', 'torch'];
/**
 * Tables list fills in the order of core's fill registry.
 *
 * @type {string[]}
 */
const fillOrder = [...builtinFillKinds];
const samplerLabels = { ddim50: 'DDIM-50', ddpm1000: 'DDPM-1000' };

/** @type {(backend: string) => string} */
const label = (backend) => backendLabels[backend] ?? backend;
/** @type {(order: string[]) => (a: string, b: string) => number} */
const byOrder = (order) => (a, b) => order.indexOf(a) - order.indexOf(b);
/** @type {(v: number | null | undefined) => string} */
const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
/** @type {(v: number | null | undefined, digits?: number) => string} */
const num = (v, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));
/** @type {(v: number | null | undefined) => string} */
const ms = (v) => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);

/**
 * A GitHub-flavoured Markdown table; numbers right-aligned when `align` says 'r'.
 *
 * @param {unknown[]} header
 * @param {unknown[][]} rows
 * @param {string[]} [align] 'l' or 'r' per column (default: the first left, the others right)
 * @returns {string}
 */
function table(header, rows, align = header.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  if (rows.length === 0) return '_(no data)_\n';
  const line = (/** @type {unknown[]} */ cells) => `| ${cells.join(' | ')} |`;
  // A literal | ends a cell in GitHub's tables (even inside code spans): escape it.
  const cell = (/** @type {unknown} */ c) => String(c).replace(/\|/g, '\\|');
  return [line(header.map(cell)), line(align.map((a) => (a === 'r' ? '---:' : ':---'))), ...rows.map((r) => line(r.map(cell)))].join('\n') + '\n';
}

/**
 * The values without repeats, in first-seen order.
 *
 * @template T
 * @param {Iterable<T>} values
 * @returns {T[]}
 */
function unique(values) {
  return [...new Set(values)];
}

/**
 * The sessions a file's cells come from (a session whose cells were all re-measured later is none).
 *
 * @param {SpeedDocument} doc
 * @returns {SpeedSession[]}
 */
function sourceSessions(doc) {
  return doc.sessions.filter((s) => Object.values(doc.cells).some((c) => c.session === s.id));
}

/**
 * The machine, runtime versions and PyTorch peer a file was measured with.
 *
 * @param {SpeedDocument} doc
 * @returns {string}
 */
function machineSection(doc) {
  const { machine } = doc;
  const sources = sourceSessions(doc);
  const sessions = sources.length > 0 ? sources : doc.sessions;
  const last = [...sessions].reverse().find((s) => s.torch) ?? sessions[sessions.length - 1];
  const versions = unique(sessions.map((s) => JSON.stringify(s.versions)));
  /** @type {Partial<import('./lib/types.js').RuntimeVersions>} */
  const v = sessions[sessions.length - 1]?.versions ?? {};
  const torchUnavailable = sessions.map((s) => s.unavailable?.torch).find(Boolean);
  const rows = [
    ['CPU', machine.cpuModel],
    ['cores / memory', `${machine.cores} / ${machine.memoryGiB} GiB (${machine.platform} ${machine.arch})`],
    ['threads', `${doc.config.threads} for onnxruntime (intraOpNumThreads) and PyTorch (set_num_threads; OMP/OpenBLAS likewise); tfjs-wasm in Node runs its single-threaded SIMD build`],
    ['Node.js', v.node ?? '—'],
    ['onnxruntime-node', v.onnxruntimeNode ?? '—'],
    ['@tensorflow/tfjs / tfjs-backend-wasm', `${v.tfjs ?? '—'} / ${v.tfjsBackendWasm ?? '—'}${v.tfjsNode ? `; tfjs-node ${v.tfjsNode}` : ''}`],
    [
      'PyTorch peer',
      last?.torch
        ? `torch ${last.torch.torch}, numpy ${last.torch.numpy}, Python ${last.torch.python}, oneDNN ${last.torch.mkldnn ? 'on' : 'off'}, BLAS ${last.torch.blas ?? 'unknown'}`
        : `not run${torchUnavailable ? ` (${torchUnavailable})` : ''}`,
    ],
    ['libopenblas0-pthread', last?.openblasPthread?.installed ? `installed (${last.openblasPthread.version})` : 'not installed (PyTorch matmuls use another BLAS)'],
  ];
  let text = table(['', ''], rows, ['l', 'l']);
  if (versions.length > 1) text += '\n**Warning:** the sessions these cells come from ran different runtime versions; see `sessions` in the JSON.\n';
  return text;
}

/**
 * One row per session: when, status, load, other CPU use, peak, commit, cells and arguments.
 *
 * @param {SpeedDocument} doc
 * @returns {string}
 */
function sessionsSection(doc) {
  /** @type {Map<number, number>} */
  const counts = new Map();
  for (const cell of Object.values(doc.cells)) counts.set(cell.session, (counts.get(cell.session) ?? 0) + 1);
  return table(
    ['session', 'started (UTC)', 'finished', 'status', 'load avg 1/5/15 min, start → end', 'other CPU during its cells, max', 'onnxruntime conv peak', 'commit', 'cells', 'arguments'],
    doc.sessions.map((s) => [
      s.id,
      s.startedAt.replace('T', ' ').slice(0, 19),
      s.finishedAt ? s.finishedAt.replace('T', ' ').slice(11, 19) : '—',
      s.status,
      `${s.loadAverageStart.join(' / ')} → ${s.loadAverageEnd ? s.loadAverageEnd.join(' / ') : '—'}`,
      maxOtherCores(Object.values(doc.cells).filter((c) => c.session === s.id)),
      peakText(doc, s),
      s.git?.commit ? `\`${s.git.commit.slice(0, 10)}\`${s.git.dirty ? ' (uncommitted changes)' : ''}` : '—',
      counts.get(s.id) ?? 0,
      s.argv.length > 0 ? `\`${s.argv.join(' ')}\`` : '(defaults)',
    ]),
    ['r', 'l', 'l', 'l', 'l', 'r', 'r', 'l', 'r', 'l'],
  );
}

/**
 * A session's onnxruntime conv peak (the machine's speed that day), or where it comes from.
 *
 * @param {SpeedDocument} doc
 * @param {SpeedSession} session
 * @returns {string}
 */
function peakText(doc, session) {
  const peak = sessionPeak(doc, session.id, 'onnx');
  if (peak === null) return '—';
  const borrowed = session.peaks?.onnx === undefined && doc.cells['peak|onnx']?.session !== session.id;
  return `${num(peak.conv, 1)} GFLOP/s${borrowed ? ` (session ${session.peaksFrom}'s)` : ''}`;
}

/**
 * The most other work (other processes plus the hypervisor's steal, in cores) seen during any of `cells`; '—' when none recorded it.
 *
 * @param {SpeedCell[]} cells
 * @returns {string}
 */
function maxOtherCores(cells) {
  const measured = cells.filter((c) => c.otherCores !== undefined).map((c) => /** @type {number} */ (c.otherCores) + (c.stealCores ?? 0));
  return measured.length === 0 ? '—' : `${Math.max(...measured).toFixed(2)} cores`;
}

/**
 * The cells of a speed file timed while other work shared the machine: other processes or the
 * hypervisor took more than a tenth of the cores during the cell (`otherCores` + `stealCores`,
 * measured per cell); cells from before that measurement count when their session started with a
 * 1-minute load average above a quarter of the cores. Parity cells time nothing and are left out.
 *
 * @param {Pick<SpeedDocument, 'machine' | 'sessions' | 'cells'>} doc
 * @returns {string[]} the cells' keys
 */
export function busySpeedCells(doc) {
  const startLoad = new Map(doc.sessions.map((s) => [s.id, s.loadAverageStart]));
  // The quality cells' rule, with the session's starting load average standing in for a cell's own.
  return Object.entries(doc.cells)
    .filter(([, c]) => c.kind !== 'parity' && timedOnBusyMachine({ ...c, loadAverage: /** @type {number[]} */ (startLoad.get(c.session)) }, doc.machine.cores))
    .map(([key]) => key);
}

/**
 * The timed runs per predict() k and per sample() schedule, as a range over the file's cells.
 *
 * @param {SpeedDocument} doc
 * @returns {{ predict: string, sample: string }}
 */
function runCounts(doc) {
  const predictRuns = Object.values(doc.cells)
    .filter((c) => c.kind === 'predict')
    .flatMap((c) => c.ks.map((e) => e.runs));
  const sampleRuns = Object.values(doc.cells)
    .filter((c) => c.kind === 'sample')
    .flatMap((c) => c.schedules.map((s) => s.runs));
  const range = (/** @type {number[]} */ list) => (list.length === 0 ? '—' : Math.min(...list) === Math.max(...list) ? `${list[0]}` : `${Math.min(...list)}–${Math.max(...list)}`);
  return { predict: range(predictRuns), sample: range(sampleRuns) };
}

/**
 * The models of a file as the method section names them: levels, block kind, decoder stages, FLOPs.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function modelsText(derived) {
  const models = derived.models ?? [];
  if (models.length === 0) return "core's presets";
  const gflops = (/** @type {import('./lib/types.js').ModelRow['stages']} */ stages) => `${stages.map((s) => num(s.gflopsFull)).join(' / ')} GFLOPs per step at k = 0`;
  const described = models.map((m) => {
    const details = [`N = ${m.levels}`];
    if (m.block !== 'resnet') details.push(`${m.block} blocks`);
    if (m.stages.length > 1) details.push(`${m.stages.length} decoder stages, t ∈ ${m.stages.map((s) => `[${s.tStart}, ${s.tEnd})`).join(' / ')}`);
    details.push(gflops(m.stages));
    return `\`${m.model}\` (${details.join(', ')})`;
  });
  return `core's preset${models.length > 1 ? 's' : ''} ${described.join(', ')}`;
}

/**
 * The method bullet for multi-decoder U-Nets; empty when the file has none.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function multiStageText(derived) {
  const multi = (derived.models ?? []).filter((m) => m.stages.length > 1);
  if (multi.length === 0) return '';
  const timesteps = multi.map((m) => `${m.model}: ${m.stages.map((s) => s.timestep).join(', ')}`).join('; ');
  return `- **Multi-decoder U-Nets** (${multi.map((m) => `\`${m.model}\``).join(', ')}): one shared encoder and middle block, one decoder per timestep stage; predict() takes the decoder whose t-interval holds the step's t (core's \`stageForTime\`). predict() per k is timed **per stage**, at a timestep in the middle of the stage's interval (${timesteps}), every stage and k in the same interleaved rounds. Every sampler step is priced at its own stage: predicted saved = 1 − Σ FLOPs(k_i, s_i) / Σ FLOPs(0, s_i) (core's \`predictedTimeSaved\`), per-step-cost equivalents = 1 − Σ ms(s_i, k_i) / Σ ms_full(s_i). The feature cache is kept per stage, so with the cache fill the first skipping step after each stage boundary runs at full depth. The PyTorch peer does the same: it picks the decoder by the same rule, times stage × k, keeps its cache per stage, and its parity check runs one batch per stage.
`;
}

/**
 * Which backends have cells, and why the other engines levelskip supports do not.
 *
 * @param {SpeedDocument} doc
 * @returns {string}
 */
function backendsText(doc) {
  const timed = unique(Object.values(doc.cells).map((c) => c.backend)).sort(byOrder(backendOrder));
  const notes = [];
  if (!timed.includes('tfjs-node')) {
    notes.push("tfjs-node (TensorFlow's C library: its npm package downloads libtensorflow at install time, which this machine cannot; `--backends tfjs-node` times it where it is installed)");
  }
  if (!timed.includes('tfjs-cpu')) notes.push("tfjs's plain-JavaScript cpu engine (tens of times slower than wasm; only on request, `--backends tfjs-cpu`)");
  notes.push('GPU execution providers: [docs/gpu.md](gpu.md)');
  return `${timed.map(label).join(', ')}. Not timed: ${notes.join('; ')}.`;
}

/**
 * "How it was measured": models, timing, schedules, predictions, the PyTorch peer and the peaks.
 *
 * @param {SpeedDocument} doc
 * @param {SpeedTables} derived
 * @returns {string}
 */
function methodSection(doc, derived) {
  const counts = runCounts(doc);
  return `- **Models:** ${modelsText(derived)}, with random weights (${doc.config.weights}); timing does not depend on training. The interpolate fill needs learned side paths, so it runs on \`{...preset, sidePaths: true}\` (FLOPs at k = 0 are the same; the side paths' cost is counted where they run).
- **predict() per k:** one input batch at timestep ${doc.config.predictTimestep}${multiStageModels(derived).size > 0 ? ' (multi-decoder U-Nets: per stage, below)' : ''}, predict() plus reading ε back to the host; one warm-up round, then interleaved rounds over all k (order reversed every other round), median of ${counts.predict} timed runs per k. The cache fill reads features a full-depth call stored and, like a sampling step, stores decoder inputs again; its cell also times the plain full network (no cache) in the same rounds.
- **Real runs:** DDIM-50 (\`${doc.config.sampler}\`) \`sample()\` runs at c = 0 and each c ∈ {${doc.config.cs.join(', ')}}, one warm-up run of each, then ${counts.sample} timed round(s), each round running every schedule with the order alternating between rounds; medians. **c = 0 is the full network as a user runs it without skipping: no fill, no feature cache.** Time saved measured = 1 − t(c) / t(0), both from the same cell.
- **DDPM-1000 (and a DDIM-50 cross-check) as per-step-cost equivalents:** Σ over the sampler's steps of the per-k median predict() time at that step's k, against n × the full network's time. This prices the model calls only (the sampler's own arithmetic is left out) and is what DDPM-1000 would cost without timing 1000-step runs.
- **k per step:** the power schedule of Giladi et al., eq. (1), k(t) = min(N−1, ⌊N − N(1−t)^c⌋), t = timestep / T (T = 1000), N the number of levels (see Models). **Cache fill:** a step whose cut level has no cached features yet runs at full depth (with c > 0, the first step), and the prediction counts that.
- **Predicted saved** = 1 − Σ FLOPs(k_i) / (n · FLOPs(0)) from core's \`flopTable\` (2 FLOPs per multiply-accumulate of convs, linears and attention matmuls; ${(derived.models ?? []).some((m) => m.block === 'ode2') ? "an ode2 block counts its vector field's two 3×3 convs once per solver evaluation, four times per RK4 step; " : ''}interpolate adds its side paths). This is exactly core's \`predictedTimeSaved\` (checked; for the cache fill, with the first skipping step at full depth). **Ratio** = measured / predicted: 1 means every skipped FLOP became saved time.
- **PyTorch peer:** \`scripts/dev/torch-unet-peer.py\` loads the same safetensors weights into the independent PyTorch U-Net of \`scripts/dev/torch-reference-unet.py\` (float32, \`torch.inference_mode()\`, \`torch.set_num_threads(${doc.config.threads})\`), checks parity with levelskip-onnx (max |Δε| ≤ ${doc.config.parityTolerance}) before timing, times the same per-k calls and a DDIM(η = 0) loop over the same timesteps and k per step. Throughput ratio = t(PyTorch) / t(levelskip) for the same run: above 1, levelskip is faster.
- **Peak:** a plain ${doc.config.peak.conv.kernel}×${doc.config.peak.conv.kernel} convolution (${doc.config.peak.conv.channels}→${doc.config.peak.conv.channels} channels, ${doc.config.peak.conv.size}×${doc.config.peak.conv.size}, batch ${doc.config.peak.conv.batch}) and a ${doc.config.peak.matmul.n}² matmul through each runtime with the same threads and options (onnxruntime: one-node graphs with the weight as initializer; tfjs: \`tf.conv2d\` / \`tf.matMul\` with read-back; PyTorch: \`F.conv2d\` / \`torch.mm\`). Every session that times model cells measures the peaks first; achieved GFLOP/s = core's FLOPs per step × batch / median predict() time, read against the peaks of the session that timed it.
- **Backends timed:** ${backendsText(doc)}
${multiStageText(derived)}- Everything here is a benchmark, not a test: nothing asserts a time.
`;
}

/**
 * One Table 2 block: per fill a c = 0 row (the full network's time per backend), then per c the
 * predicted saving and, per backend, run time, measured saving and measured / predicted.
 *
 * @param {import('./lib/types.js').Table2Row[]} subset one model and batch (and sampler)
 * @param {string} title
 * @returns {string}
 */
function table2Block(subset, title) {
  const backends = unique(subset.map((r) => r.backend)).sort(byOrder(backendOrder));
  const header = ['fill', 'c', 'predicted', ...backends.flatMap((b) => [`${label(b)} run`, 'saved', 'ratio'])];
  const body = [];
  for (const fill of unique(subset.map((r) => r.fill)).sort(byOrder(fillOrder))) {
    body.push([fill, 0, '—', ...backends.flatMap((b) => [ms(subset.find((x) => x.backend === b && x.fill === fill)?.fullMs), '', ''])]);
    for (const c of unique(subset.filter((r) => r.fill === fill).map((r) => r.c)).sort((x, y) => x - y)) {
      const predicted = subset.find((r) => r.fill === fill && r.c === c)?.predictedSaved;
      body.push([
        fill,
        c,
        pct(predicted),
        ...backends.flatMap((b) => {
          const r = subset.find((x) => x.backend === b && x.fill === fill && x.c === c);
          return r ? [ms(r.runMs), pct(r.measuredSaved), num(r.ratio)] : ['—', '—', '—'];
        }),
      ]);
    }
  }
  return `\n**${title}**\n\n${table(header, body, header.map((_, i) => (i === 0 ? 'l' : 'r')))}`;
}

/**
 * Table 2 from real DDIM-50 runs, per model and batch.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function table2Section(derived) {
  const rows = derived.table2.filter((r) => r.source === 'sample');
  if (rows.length === 0) return '_(no real sample() runs in this file; see the per-step-cost equivalents below)_\n';
  let out = '';
  for (const model of unique(rows.map((r) => r.model))) {
    for (const batch of unique(rows.filter((r) => r.model === model).map((r) => r.batch)).sort((a, b) => a - b)) {
      out += table2Block(
        rows.filter((r) => r.model === model && r.batch === batch),
        `${model}, batch ${batch}, DDIM-50 sample() runs`,
      );
    }
  }
  return out;
}

/**
 * Table 2 as per-step-cost equivalents (Σ per-k medians), per sampler, model and batch.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function equivalentSection(derived) {
  const rows = derived.table2.filter((r) => r.source === 'per-k');
  if (rows.length === 0) return '_(no per-k timings in this file)_\n';
  let out = '';
  for (const sampler of samplerIds) {
    for (const model of unique(rows.map((r) => r.model))) {
      for (const batch of unique(rows.filter((r) => r.model === model).map((r) => r.batch)).sort((a, b) => a - b)) {
        const subset = rows.filter((r) => r.model === model && r.batch === batch && r.sampler === sampler);
        if (subset.length > 0) out += table2Block(subset, `${model}, batch ${batch}, ${samplerLabels[sampler]} (Σ per-k predict() medians)`);
      }
    }
  }
  return out;
}

/**
 * t(PyTorch) / t(levelskip) per model, batch, fill and c: real runs where both sides have them, else per-k.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function throughputSection(derived) {
  const rows = derived.throughputVsTorch;
  if (rows.length === 0) return '_(no PyTorch peer timings in this file)_\n';
  // Real runs where both sides have them, else per-step-cost equivalents.
  const keyOf = (/** @type {import('./lib/types.js').ThroughputRow} */ r) => `${r.model}|${r.batch}|${r.fill}|${r.c}`;
  const keys = unique(rows.map(keyOf));
  const backends = unique(rows.map((r) => r.backend)).sort(byOrder(backendOrder));
  const body = [];
  for (const key of keys) {
    const [model, batch, fill, c] = key.split('|');
    const cells = backends.map((b) => {
      const mine = rows.filter((r) => keyOf(r) === key && r.backend === b);
      const chosen = mine.find((r) => r.source === 'sample') ?? mine.find((r) => r.source === 'per-k');
      return chosen ? `${num(chosen.ratio)}× (${chosen.source === 'sample' ? 'runs' : 'per-k'})` : '—';
    });
    // `key` is one of the rows' keys.
    const torch = /** @type {import('./lib/types.js').ThroughputRow} */ (rows.find((r) => keyOf(r) === key && r.source === 'sample') ?? rows.find((r) => keyOf(r) === key));
    body.push([model, batch, fill, c, ms(torch.torchMs), ...cells]);
  }
  body.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]) || fillOrder.indexOf(a[2]) - fillOrder.indexOf(b[2]) || Number(a[3]) - Number(b[3]));
  return table(['model', 'batch', 'fill', 'c', 'PyTorch DDIM-50', ...backends.map((b) => `${label(b)} / PyTorch`)], body, ['l', 'r', 'l', 'r', 'r', ...backends.map(() => 'r')]);
}

/**
 * Models of the file with more than one decoder stage.
 *
 * @param {SpeedTables} derived
 * @returns {Set<string>}
 */
function multiStageModels(derived) {
  return new Set((derived.models ?? []).filter((m) => m.stages.length > 1).map((m) => m.model));
}

/**
 * Achieved GFLOP/s per model, batch, backend (and stage) beside the runtime's peak.
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function gflopsSection(derived) {
  const multi = multiStageModels(derived);
  const rows = [...derived.gflops].sort(
    (a, b) => a.model.localeCompare(b.model) || a.batch - b.batch || backendOrder.indexOf(a.backend) - backendOrder.indexOf(b.backend) || (a.stage ?? 0) - (b.stage ?? 0),
  );
  return table(
    ['model', 'batch', 'backend', 'threads', 'GFLOP/s, k = 0', 'GFLOP/s, k = N−1', 'peak conv GFLOP/s', 'peak matmul GFLOP/s', 'k = 0 / conv peak'],
    rows.map((r) => [multi.has(r.model) ? `${r.model}, stage ${r.stage}` : r.model, r.batch, label(r.backend), r.threads ?? 'own pools', num(r.gflopsFull, 1), num(r.gflopsDeepestSkip, 1), num(r.peakConvGflops, 1), num(r.peakMatmulGflops, 1), pct(r.fractionOfConvPeak)]),
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/**
 * predict() per depth k, one table per model (per stage for multi-decoder U-Nets).
 *
 * @param {SpeedTables} derived
 * @returns {string}
 */
function perKSection(derived) {
  const rows = derived.perK;
  const multi = multiStageModels(derived);
  let out = '';
  for (const model of unique(rows.map((r) => r.model))) {
    const subset = rows.filter((r) => r.model === model);
    const staged = multi.has(model);
    const backends = unique(subset.map((r) => r.backend)).sort(byOrder(backendOrder));
    const keyOf = (/** @type {import('./lib/types.js').PerKRow} */ r) => `${r.batch}|${r.fill}|${r.stage ?? 0}|${r.k}`;
    const keys = unique(subset.map(keyOf));
    const body = keys.map((key) => {
      const [batch, fill, stage, k] = key.split('|');
      // `key` is one of the subset's keys.
      const first = /** @type {import('./lib/types.js').PerKRow} */ (subset.find((r) => keyOf(r) === key));
      return [
        batch,
        fill,
        ...(staged ? [`${stage} (t = ${first.timestep})`] : []),
        k,
        `${num(first.flopSpeedup)}×`,
        ...backends.map((b) => {
          const r = subset.find((x) => x.backend === b && keyOf(x) === key);
          return r ? `${ms(r.ms)} (${num(r.speedup)}×)` : '—';
        }),
      ];
    });
    const order = (/** @type {string[]} */ row) => [Number(row[0]), fillOrder.indexOf(row[1]), ...(staged ? [parseInt(row[2], 10)] : []), Number(row[staged ? 3 : 2])];
    body.sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    });
    const header = ['batch', 'fill', ...(staged ? ['stage (timestep)'] : []), 'k', 'FLOP ratio', ...backends.map(label)];
    const note = staged
      ? "median ms per predict() per decoder stage, each stage timed at a timestep inside its t-interval; in brackets the speed-up over the same stage's full network, next to the stage's FLOP ratio"
      : "median ms per predict(); in brackets the speed-up over the cell's full network, next to the FLOP ratio";
    out += `\n**${model}** (${note})\n\n${table(header, body, header.map((h) => (h === 'fill' || h === 'stage (timestep)' ? 'l' : 'r')))}`;
  }
  return out || '_(no per-k timings in this file)_\n';
}

/**
 * The PyTorch peer's parity checks against levelskip-onnx.
 *
 * @param {SpeedDocument} doc
 * @returns {string}
 */
function paritySection(doc) {
  const cells = Object.values(doc.cells).filter((c) => c.kind === 'parity');
  if (cells.length === 0) return '_(no PyTorch parity check in this file)_\n';
  return table(
    ['model', 'cases (stage × k × fill)', 'max |Δε| vs levelskip-onnx', 'largest |ε|', 'tolerance', 'result'],
    cells.map((c) => [c.model, c.cases.length, c.maxAbsDiff.toExponential(2), num(Math.max(...c.cases.map((x) => x.maxAbsEps))), c.tolerance, c.passed ? 'passed' : '**FAILED**']),
    ['l', 'r', 'r', 'r', 'r', 'l'],
  );
}

/**
 * The Markdown section of one speed results file.
 *
 * @param {SpeedDocument} doc
 * @param {SpeedTables} derived its derived tables (speed-tables.mjs deriveSpeedTables)
 * @param {string} path the file, as the report shows it
 * @returns {string}
 */
export function renderSpeed(doc, derived, path) {
  const quick = doc.config.quick
    ? '\n> **Quick smoke run** (`--quick`): minimal repeats on a possibly busy machine. These figures show that the harness works; they are not results.\n'
    : '';
  const busy = busySpeedCells(doc);
  // Cells without their own measurement are flagged by their session: name the sessions, not every cell.
  const bySession = busy.filter((k) => doc.cells[k].otherCores === undefined);
  const flaggedSessions = unique(bySession.map((k) => doc.cells[k].session));
  const measuredBusy = busy.filter((k) => doc.cells[k].otherCores !== undefined);
  const busyParts = [
    ...(bySession.length > 0 ? [`the ${bySession.length} timed cell(s) of session(s) ${flaggedSessions.join(', ')}, which started with a 1-minute load average above a quarter of the cores (their cells predate the per-cell measurement)`] : []),
    ...(measuredBusy.length > 0 ? [`${measuredBusy.length} cell(s) during which other work took more than a tenth of the cores: ${measuredBusy.map((k) => `\`${k}\``).join(', ')}`] : []),
  ];
  const busyNote =
    busy.length > 0 && !doc.config.quick ? `\n> **Note:** timed while other work may have shared the machine: ${busyParts.join('; ')}. Compare their figures with care.\n` : '';
  const sources = sourceSessions(doc);
  const dates = unique(sources.map((s) => s.startedAt.slice(0, 10)));
  // Keys: a backend, or '<backend>|<model>' when only that model's cells were skipped.
  const unavailable = unique(
    doc.sessions.flatMap((s) =>
      Object.entries(s.unavailable ?? {}).map(([key, reason]) => {
        const [backend, model] = key.split('|');
        return `- ${label(backend)}${model ? ` on ${model}` : ''}: ${reason.replace(/\s*\n\s*/g, ' ')}`;
      }),
    ),
  );
  return `## Speed: ${doc.machine.cpuModel}, ${doc.machine.cores} cores
${quick}${busyNote}
Source: \`${path}\`, measured ${dates.join(', ')} in ${sources.length} session(s), ${Object.keys(doc.cells).length} cells.
${unavailable.length > 0 ? `\nNot measured (unavailable):\n${unavailable.join('\n')}\n` : ''}
### Machine and versions

${machineSection(doc)}
### How it was measured

${methodSection(doc, derived)}
### Table 2 with our backends: time saved, measured vs FLOP-predicted

Per model and batch: for each fill and c, the predicted fraction of time saved, then per backend the median time of one sampling run, the measured fraction saved against c = 0 and measured / predicted.
${table2Section(derived)}
### Per-step-cost equivalents: DDIM-50 and DDPM-1000

The same comparison priced from the per-k predict() medians (see "How it was measured").
${equivalentSection(derived)}
### Throughput against PyTorch (same weights, same threads)

t(PyTorch) / t(levelskip) for the same DDIM-50 run ("runs": real sampling runs on both sides; "per-k": Σ per-k medians). Above 1, levelskip is faster.

${throughputSection(derived)}
### Achieved GFLOP/s against the runtime's peak

Zero fill, per backend: core's FLOPs per step × batch / median predict() time, beside the peak the same runtime reaches on a plain large conv and matmul, measured in the same session (machines of one name differ from day to day; see *Sessions*).

${gflopsSection(derived)}
### predict() per depth k
${perKSection(derived)}
### PyTorch parity

${paritySection(doc)}
### Sessions

${sessionsSection(doc)}`;
}

/**
 * Renderers by schema: (doc, shown path, { outDirectory, assetName }) → Markdown. A renderer may
 * write assets (charts) into outDirectory, named from assetName (unique per results file).
 *
 * Each takes the parsed file, trusted to be of its schema.
 *
 * @type {Record<string, import('./lib/types.js').Renderer | undefined>}
 */
export const renderers = {
  [speedSchema]: async (doc, path) => {
    const speed = /** @type {SpeedDocument} */ (doc);
    const [core, samplers] = await Promise.all([loadPackage('core'), loadPackage('samplers')]);
    return renderSpeed(speed, deriveSpeedTables(speed, { core, samplers }), path);
  },
  [qualitySchema]: (doc, path, context) => renderQuality(/** @type {import('./lib/types.js').QualityDocument} */ (doc), path, context),
};

/**
 * Renders every results file in `resultsDirectory` into one Markdown document, its assets beside `outFile`.
 *
 * @param {string} resultsDirectory
 * @param {string} [outFile]
 * @returns {Promise<string>}
 */
export async function renderReport(resultsDirectory, outFile = join(repositoryRoot, 'docs', 'results.md')) {
  const files = existsSync(resultsDirectory)
    ? readdirSync(resultsDirectory)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const sections = [];
  const skipped = [];
  for (const file of files) {
    const path = join(resultsDirectory, file);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    const render = renderers[doc.schema];
    if (render === undefined) skipped.push(`\`${shown(path)}\` (schema ${JSON.stringify(doc.schema)})`);
    else sections.push(await render(doc, shown(path), { outDirectory: dirname(outFile), assetName: `results-${file.replace(/\.json$/, '')}` }));
  }
  const generated = new Date().toISOString().replace('T', ' ').slice(0, 16);
  return `# levelskip benchmark results

Generated by \`pnpm bench report\` (bench/report.mjs) from \`${shown(resultsDirectory)}/*.json\` on ${generated} UTC. Do not edit by hand: rerun the benchmarks (\`pnpm bench speed\`, \`pnpm bench quality\`; each has \`--help\`) and regenerate.
${sections.length === 0 ? '\n_No results yet: run `pnpm bench speed` and `pnpm bench quality`._\n' : ''}${skipped.length > 0 ? `\nNot rendered (no renderer for their schema): ${skipped.join(', ')}.\n` : ''}
${sections.join('\n')}`;
}

/**
 * Parses the report's flags; throws with the fix for anything malformed.
 *
 * @param {string[]} argv
 * @returns {{ results: string, out: string, help?: boolean }}
 */
function parseReportArgs(argv) {
  /** @type {{ results: string, out: string, help?: boolean }} */
  const options = { results: join(repositoryRoot, 'bench', 'results'), out: join(repositoryRoot, 'docs', 'results.md') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--results' || flag === '--out') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a path`);
      options[/** @type {'results' | 'out'} */ (flag.slice(2))] = value;
    } else if (flag === '--help' || flag === '-h') {
      options.help = true;
    } else {
      throw new Error(`unknown flag ${flag}; use --results <dir> (default bench/results) and --out <file> (default docs/results.md)`);
    }
  }
  return options;
}

const recipesBegin = '<!-- generated by pnpm bench report: recipes table -->';
const recipesEnd = '<!-- end of generated recipes table -->';

/**
 * Replaces the text between the recipes markers of `markdown` (the root README) with the recipes
 * table of the quality results in `resultsDirectory`, so the README's copy is generated, never
 * typed. Returns the markdown unchanged when it has no markers or there is no quality file.
 *
 * @param {string} markdown
 * @param {string} resultsDirectory
 * @returns {string}
 */
export function withRecipesTable(markdown, resultsDirectory) {
  const begin = markdown.indexOf(recipesBegin);
  const end = markdown.indexOf(recipesEnd);
  if (begin < 0 || end < begin || !existsSync(resultsDirectory)) return markdown;
  const docs = readdirSync(resultsDirectory)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => /** @type {import('./lib/types.js').QualityDocument} */ (JSON.parse(readFileSync(join(resultsDirectory, f), 'utf8'))))
    .filter((doc) => doc.schema === qualitySchema && !doc.config.quick);
  if (docs.length === 0) return markdown;
  const table = docs.map((doc) => recipesSection(doc)).join('\n');
  return `${markdown.slice(0, begin + recipesBegin.length)}\n\n${table}\n${markdown.slice(end)}`;
}

/**
 * `pnpm bench report`: writes the Markdown report atomically (and the README's recipes table).
 *
 * @param {string[]} argv
 */
export async function runReport(argv) {
  const options = parseReportArgs(argv);
  if (options.help) {
    console.log('usage: pnpm bench report [--results <dir>] [--out <file>]\nRenders every results file in <dir> (default bench/results) into <file> (default docs/results.md).');
    return;
  }
  const text = await renderReport(options.results, options.out);
  mkdirSync(dirname(options.out), { recursive: true });
  const temporary = `${options.out}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, options.out);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  process.stderr.write(`[report] wrote ${shown(options.out)}\n`);
  const readme = join(repositoryRoot, 'README.md');
  if (options.out === join(repositoryRoot, 'docs', 'results.md') && existsSync(readme)) {
    const before = readFileSync(readme, 'utf8');
    const after = withRecipesTable(before, options.results);
    if (after !== before) {
      writeFileSync(`${readme}.tmp-${process.pid}`, after);
      renameSync(`${readme}.tmp-${process.pid}`, readme);
      process.stderr.write(`[report] updated the recipes table in ${shown(readme)}\n`);
    }
  }
}
