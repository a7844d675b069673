// @ts-check
/**
 * `pnpm bench overhead`: where the time of a sampling run goes, and how far the time saved by
 * skipping falls short of what the per-depth cost of predict() predicts (issue 26, "Sampling with
 * no overhead").
 *
 * For each shipped model (`--models`, default mnist-full and mnist-zero-c2, via
 * @levelskip/pretrained), batch size and backend, with the model's recommended sampler (DDIM-50,
 * η = 1, clipping), it times
 * - predict() at each depth k, steady state (a burst of calls at one k) and the first call after
 *   another depth (an ONNX Runtime session switch), with the zero fill and with the cache fill
 *   (k = 0 there also stores the deep features), in every round just before its sample() runs,
 *   so both see the same machine; medians over rounds. These are the costs of the measured-cost
 *   time model (core's `predictedTimeSaved(..., { cost: 'measured', costs })`);
 * - real sample() runs at c = 0, at c (default 2, zero fill) and with `cache:m` (default m = 3,
 *   constant k = N − 1, DeepCache-style), in interleaved rounds, each run with a
 *   `TimingProfile` (core's `createTimingRecorder`): Σ predict() per k, the sampler's arithmetic,
 *   the noise, the finiteness read-backs, and inside predict the ONNX Runtime call, its session
 *   switches, and the feature cache's store and load. Wall time is measured around sample();
 * - ONNX only: what the cache fill's extra graph outputs cost (the same full-depth graph run
 *   fetching ε alone and fetching ε and the features; onnxruntime-node copies every output into
 *   a new ArrayBuffer).
 * With `--baseline <checkout>`, the same sample() runs and predict() costs of another checkout's
 * built packages (core, samplers, backend-onnx) run interleaved with this one's, so before/after
 * figures come from one run on one machine state.
 *
 * Output: a table per cell on stdout, and the JSON in bench/results/overhead-<machine>.json
 * (schema `levelskip-bench-overhead/1`: `cells[<model>|<backend>|b<batch>]` (`|eta<η>` added with
 * `--eta`), each with `costs` (per k: `zero`, `cache`, and `zeroFirst`, `cacheFirst` after a switch),
 * `runs` per variant and schedule (medians over rounds), and `derived`: overhead ratios and time
 * saved measured against the FLOP and the measured-cost predictions, each computed within a round
 * (a run against the same round's c = 0 run) and then the median over rounds; `best`: the same
 * from each candidate's fastest run and the fastest round's costs, the least disturbed figures on
 * a shared machine; `perRound`: every run's wall time and Σ predict()). Timing is never asserted
 * by tests.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cpuSample, gitInfo, loadAverage, machineInfo, machineSlug, otherCpu, runtimeVersions } from './lib/machine.mjs';
import { checkCompatible, readResults, writeResults } from './lib/results-file.mjs';
import { median, roundMs } from './lib/timing.mjs';
import { loadOnnxRuntime, loadPackage, repositoryRoot } from './lib/workspace.mjs';

export const overheadSchema = 'levelskip-bench-overhead/1';
/** Diffusion timestep of the per-k predict() inputs (the cost does not depend on it for single-decoder models). */
const predictTimestep = 500;
const backendIds = ['onnx', 'tfjs-wasm'];

export const overheadUsage = `usage: pnpm bench overhead [flags]

Where a sampling run's time goes: predict() per k, the sampler, noise, read-backs, ONNX Runtime
session switches and the feature cache; sample() wall time against Σ predict(); time saved
against the FLOP and the measured-cost predictions.

  --models <list>        shipped models (default: mnist-full,mnist-zero-c2)
  --batches <list>       batch sizes (default: 1,16,50)
  --backends <list>      ${backendIds.join(',')} (default: onnx; tfjs = tfjs-wasm)
  --tfjs-batches <list>  batch sizes for tfjs-wasm (default: 1,16)
  --c <c>                the power schedule's curvature (zero fill; default 2)
  --eta <η>              DDIM's η (default: the model's recommended sampling, η = 1 for every
                         shipped model; η = 0 draws no step noise)
  --cache-interval <m>   the cache:m row (constant k = N − 1; default 3)
  --rounds <n>           timed rounds (default 7, after one warm-up round); each times the per-k
                         costs, then one sample() run per variant and schedule
  --cost-calls <n>       per-k predict() timing: each round, per (fill, k), one call after another
                         graph then this many timed calls (default 3)
  --threads <n>          onnxruntime intra-op threads (default 2)
  --baseline <dir>       also time another checkout's built packages, interleaved (its
                         packages/{core,samplers,backend-onnx}/dist must exist)
  --out <file>           results (default: bench/results/overhead-<machine>.json)
  --quick                smoke check: 1 round, 1 timed call per cost (figures are not results)
  --help                 this text`;

/**
 * @typedef {object} OverheadOptions
 * @property {string[]} models
 * @property {number[]} batches
 * @property {string[]} backends
 * @property {number[]} tfjsBatches
 * @property {number} c
 * @property {number | undefined} eta
 * @property {number} cacheInterval
 * @property {number} rounds
 * @property {number} costCalls
 * @property {number} threads
 * @property {string | undefined} baseline
 * @property {string} out
 * @property {boolean} quick
 * @property {boolean} help
 */

/** @param {string} value @param {string} flag @returns {number[]} */
function integers(value, flag, min = 1) {
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: "${s}" is not an integer ≥ ${min}`);
    return n;
  });
}

/**
 * Parses the flags; throws with the fix for anything malformed.
 * @param {string[]} argv
 * @param {string} slug the machine's file-name label
 * @returns {OverheadOptions}
 */
export function parseOverheadArgs(argv, slug) {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      batches: { type: 'string' },
      backends: { type: 'string' },
      'tfjs-batches': { type: 'string' },
      c: { type: 'string' },
      eta: { type: 'string' },
      'cache-interval': { type: 'string' },
      rounds: { type: 'string' },
      'cost-calls': { type: 'string' },
      threads: { type: 'string' },
      baseline: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const backends = (values.backends ?? 'onnx').split(',').map((b) => (b.trim() === 'tfjs' ? 'tfjs-wasm' : b.trim()));
  for (const b of backends) if (!backendIds.includes(b)) throw new Error(`--backends: unknown backend "${b}"; use ${backendIds.join(', ')}`);
  const c = Number(values.c ?? '2');
  if (!(Number.isFinite(c) && c > 0)) throw new Error(`--c: "${values.c}" is not a positive number`);
  const eta = values.eta === undefined ? undefined : Number(values.eta);
  if (eta !== undefined && !(eta >= 0 && eta <= 1)) throw new Error(`--eta: "${values.eta}" is not a number in [0, 1]`);
  const one = (/** @type {string | undefined} */ value, /** @type {string} */ flag, /** @type {number} */ fallback) => (value === undefined ? fallback : integers(value, flag)[0] ?? fallback);
  return {
    models: (values.models ?? 'mnist-full,mnist-zero-c2').split(',').map((m) => m.trim()).filter((m) => m.length > 0),
    batches: integers(values.batches ?? '1,16,50', '--batches'),
    backends,
    tfjsBatches: integers(values['tfjs-batches'] ?? '1,16', '--tfjs-batches'),
    c,
    eta,
    cacheInterval: one(values['cache-interval'], '--cache-interval', 3),
    rounds: quick ? 1 : one(values.rounds, '--rounds', 7),
    costCalls: quick ? 1 : one(values['cost-calls'], '--cost-calls', 3),
    threads: one(values.threads, '--threads', 2),
    baseline: values.baseline === undefined ? undefined : resolve(values.baseline),
    out: values.out ?? join(repositoryRoot, 'bench', 'results', ...(quick ? ['quick'] : []), `overhead-${slug}.json`),
    quick,
    help: values.help ?? false,
  };
}

/**
 * @typedef {object} ProfileSpan
 * @property {string} phase
 * @property {number} ms
 * @property {number} [step]
 * @property {number} [k]
 * @property {string} [graph]
 * @property {boolean} [switched]
 */

/**
 * @typedef {object} RunBreakdown one sample() run, in ms
 * @property {number} wallMs sample()'s wall time
 * @property {number} predictMs Σ predict() (timed around each call)
 * @property {{ k: number, calls: number, ms: number }[]} predictByK
 * @property {number} outsidePredictMs wallMs − predictMs
 * @property {number} outsideFraction wallMs / predictMs − 1
 * @property {Record<string, number> | undefined} phases Σ ms per profile phase (runs with a profile)
 * @property {number | undefined} switchedRuns runtime calls that followed another graph
 * @property {number | undefined} switchPenaltyMs Σ over those calls of (ms − the median of that graph's other calls)
 * @property {number | undefined} predictOtherMs Σ predict() − runtime calls − cache store and load: the denoiser's own host work
 * @property {number | undefined} setupMs wall time outside the step loop's spans (validation, the initial noise)
 */

/**
 * What one sample() run spent where, from its wall time, its per-call predict() timings and, when
 * it had one, its profile spans. Pure: the figures come in, the sums go out.
 * @param {{ wallMs: number, predicts: { k: number, ms: number }[], spans?: readonly ProfileSpan[] }} run
 * @returns {RunBreakdown}
 */
export function breakdown({ wallMs, predicts, spans }) {
  const predictMs = predicts.reduce((sum, p) => sum + p.ms, 0);
  /** @type {Map<number, { k: number, calls: number, ms: number }>} */
  const byK = new Map();
  for (const p of predicts) {
    const entry = byK.get(p.k) ?? { k: p.k, calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += p.ms;
    byK.set(p.k, entry);
  }
  const predictByK = [...byK.values()].sort((a, b) => a.k - b.k);
  const base = { wallMs, predictMs, predictByK, outsidePredictMs: wallMs - predictMs, outsideFraction: wallMs / predictMs - 1 };
  if (spans === undefined) return { ...base, phases: undefined, switchedRuns: undefined, switchPenaltyMs: undefined, predictOtherMs: undefined, setupMs: undefined };
  /** @type {Record<string, number>} */
  const phases = {};
  for (const s of spans) phases[s.phase] = (phases[s.phase] ?? 0) + s.ms;
  // A switch's penalty: the call's time less the median of the same graph's calls that did not switch.
  const runs = spans.filter((s) => s.phase === 'run');
  /** @type {Map<string, number[]>} */
  const steady = new Map();
  for (const s of runs) if (!s.switched) steady.set(s.graph ?? '', [...(steady.get(s.graph ?? '') ?? []), s.ms]);
  let switchPenaltyMs = 0;
  let switchedRuns = 0;
  for (const s of runs) {
    if (!s.switched) continue;
    switchedRuns++;
    const same = steady.get(s.graph ?? '');
    if (same !== undefined && same.length > 0) switchPenaltyMs += s.ms - median(same);
  }
  const inside = (phases.run ?? 0) + (phases.cacheStore ?? 0) + (phases.cacheLoad ?? 0);
  const loop = (phases.predict ?? 0) + (phases.sampler ?? 0) + (phases.noise ?? 0) + (phases.check ?? 0);
  // A backend that records no spans of its own inside predict (tfjs) leaves those figures unknown.
  if (runs.length === 0) return { ...base, phases, switchedRuns: undefined, switchPenaltyMs: undefined, predictOtherMs: undefined, setupMs: wallMs - loop };
  return { ...base, phases, switchedRuns, switchPenaltyMs, predictOtherMs: (phases.predict ?? predictMs) - inside, setupMs: wallMs - loop };
}

/**
 * Element-wise medians of several runs' breakdowns (each figure's own median; ratios are the
 * median of the runs' ratios, not a ratio of medians).
 * @param {RunBreakdown[]} runs
 */
export function medianBreakdown(runs) {
  const pick = (/** @type {(r: RunBreakdown) => number | undefined} */ f) => {
    const values = runs.map(f).filter((v) => v !== undefined);
    return values.length === 0 ? undefined : roundMs(median(/** @type {number[]} */ (values)));
  };
  const ks = [...new Set(runs.flatMap((r) => r.predictByK.map((e) => e.k)))].sort((a, b) => a - b);
  const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases ?? {})))];
  return {
    runs: runs.length,
    wallMs: pick((r) => r.wallMs),
    wallTimesMs: runs.map((r) => roundMs(r.wallMs)),
    predictMs: pick((r) => r.predictMs),
    outsidePredictMs: pick((r) => r.outsidePredictMs),
    outsideFraction: pick((r) => r.outsideFraction),
    predictByK: ks.map((k) => ({
      k,
      calls: runs[0]?.predictByK.find((e) => e.k === k)?.calls ?? 0,
      ms: pick((r) => r.predictByK.find((e) => e.k === k)?.ms),
    })),
    phases: phaseNames.length === 0 ? undefined : Object.fromEntries(phaseNames.map((p) => [p, pick((r) => r.phases?.[p])])),
    switchedRuns: pick((r) => r.switchedRuns),
    switchPenaltyMs: pick((r) => r.switchPenaltyMs),
    predictOtherMs: pick((r) => r.predictOtherMs),
    setupMs: pick((r) => r.setupMs),
  };
}

/**
 * A denoiser that times each predict() call (ms and k) into `calls`; everything else is the
 * wrapped denoiser's. Works for any variant's denoiser (the baseline's has no profile hook).
 * @param {any} denoiser
 */
function timedDenoiser(denoiser) {
  /** @type {{ k: number, ms: number }[]} */
  const calls = [];
  const wrapped = {
    specificationVersion: denoiser.specificationVersion,
    spec: denoiser.spec,
    levels: denoiser.levels,
    backend: denoiser.backend,
    ops: denoiser.ops,
    createFeatureCache: () => denoiser.createFeatureCache(),
    dispose: () => denoiser.dispose(),
    /** @param {any} x @param {any} t @param {any} options */
    async predict(x, t, options) {
      const began = performance.now();
      const out = await denoiser.predict(x, t, options);
      calls.push({ k: options?.k ?? 0, ms: performance.now() - began });
      return out;
    },
  };
  return { wrapped, calls };
}

/**
 * @typedef {{ label: string, fill: 'none' | 'zero' | 'cache', c?: number, interval?: number }} ScheduleCase
 */

/**
 * The schedules a cell compares: c = 0 (full depth), the power schedule at c with the zero fill,
 * and constant k = N − 1 with cache:m (DeepCache-style, as `pnpm start`'s third row).
 * @param {{ c: number, cacheInterval: number }} options
 * @returns {ScheduleCase[]}
 */
export function schedulesOf(options) {
  return [
    { label: 'c=0', fill: 'none' },
    { label: `c=${options.c}`, fill: 'zero', c: options.c },
    { label: `cache:${options.cacheInterval}`, fill: 'cache', interval: options.cacheInterval },
  ];
}

/**
 * A schedule case's `skip` and `fill`, built by a variant's own core (each checkout's objects).
 * @param {any} core @param {ScheduleCase} schedule @param {number} levels
 * @returns {{ skip?: any, fill?: any }}
 */
export function scheduleOptions(core, schedule, levels) {
  if (schedule.fill === 'none') return {};
  if (schedule.fill === 'zero') return { skip: core.powerSchedule({ c: schedule.c }), fill: core.parseFill('zero') };
  return { skip: core.constantSchedule(levels - 1), fill: core.cacheFillEvery(schedule.interval) };
}

/**
 * One round of steady-state and first-after-a-switch predict() costs per depth, zero and cache
 * fill: every (fill, k) once, order reversed on odd rounds: one call whose time is the "first"
 * figure (it follows another graph), then `calls` timed calls (the steady figure).
 * @param {{ core: any, denoiser: any, batch: number, round: number, calls: number, cacheFill: any }} args
 */
async function measurePredictCosts({ core, denoiser, batch, round, calls, cacheFill }) {
  const { ops, levels, spec } = denoiser;
  const shape = [batch, spec.inChannels, spec.imageSize, spec.imageSize];
  const x = ops.fromFloat32(new core.SeededRng(0).normal(batch * spec.inChannels * spec.imageSize * spec.imageSize), shape);
  const cache = denoiser.createFeatureCache();
  const zero = core.parseFill('zero');
  /** @type {{ fill: string, k: number, first: number[], steady: number[] }[]} */
  const variants = [];
  for (const fill of ['zero', 'cache']) for (let k = 0; k < levels; k++) variants.push({ fill, k, first: [], steady: [] });
  const call = async (/** @type {{ fill: string, k: number }} */ v) => {
    const began = performance.now();
    const out = await denoiser.predict(x, predictTimestep, v.fill === 'zero' ? { k: v.k, fill: zero } : { k: v.k, fill: cacheFill, cache });
    await ops.toFloat32(out);
    ops.dispose(out);
    return performance.now() - began;
  };
  try {
    // The cache holds every level's features after one full-depth step.
    await call({ fill: 'cache', k: 0 });
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      v.first.push(await call(v));
      for (let i = 0; i < calls; i++) v.steady.push(await call(v));
    }
  } finally {
    cache.dispose();
    ops.dispose(x);
  }
  const row = (/** @type {string} */ fill, /** @type {'first' | 'steady'} */ which) => variants.filter((v) => v.fill === fill).map((v) => median(v[which]));
  return { zero: row('zero', 'steady'), cache: row('cache', 'steady'), zeroFirst: row('zero', 'first'), cacheFirst: row('cache', 'first') };
}

/**
 * Per-k costs over rounds: each figure's median.
 * @param {{ zero: number[], cache: number[], zeroFirst: number[], cacheFirst: number[] }[]} rounds
 */
function medianCosts(rounds) {
  return reduceCosts(rounds, median);
}

/**
 * Per-k costs over rounds: each figure's `reduce` (median, or min: on a shared machine load only
 * ever slows a call down, so the fastest round is the least disturbed).
 * @param {{ zero: number[], cache: number[], zeroFirst: number[], cacheFirst: number[] }[]} rounds
 * @param {(values: number[]) => number} reduce
 */
function reduceCosts(rounds, reduce) {
  const field = (/** @type {'zero' | 'cache' | 'zeroFirst' | 'cacheFirst'} */ f) => (rounds[0]?.[f] ?? []).map((_, k) => roundMs(reduce(rounds.map((r) => /** @type {number} */ (r[f][k])))));
  return { zero: field('zero'), zeroFirst: field('zeroFirst'), cache: field('cache'), cacheFirst: field('cacheFirst') };
}

/**
 * The least disturbed figures of a cell: each candidate's fastest run (wall and Σ predict) and
 * the fastest round's per-k costs, through `deriveFigures`; the `…Best` twins of the medians.
 * @param {{ core: any, spec: any, levels: number, schedules: ScheduleCase[], timesteps: readonly number[], rounds: any[][], costRounds: Record<string, any[]> }} args
 */
export function bestFigures({ core, spec, levels, schedules, timesteps, rounds, costRounds }) {
  const first = rounds[0] ?? [];
  const runs = first.map((/** @type {any} */ r, /** @type {number} */ i) => {
    const all = rounds.map((round) => round[i]);
    const wallMs = Math.min(...all.map((x) => x.wallMs));
    const predictMs = Math.min(...all.map((x) => x.predictMs));
    return { variant: r.variant, schedule: r.schedule, wallMs, predictMs, outsideFraction: wallMs / predictMs - 1 };
  });
  const costs = Object.fromEntries(Object.entries(costRounds).map(([name, list]) => [name, reduceCosts(list, (v) => Math.min(...v))]));
  return { costs, derived: deriveFigures({ core, spec, levels, schedules, timesteps, runs, costs }) };
}

/**
 * ONNX only: what storing the cache fill's features costs a full-depth step. The plain full-depth
 * graph, and the cache-writing one fetching ε alone and fetching ε and every feature map
 * (onnxruntime-node copies each output into a new ArrayBuffer), interleaved, medians.
 * @param {{ backendOnnx: any, core: any, spec: any, weights: any, batch: number, threads: number, rounds: number }} args
 */
async function measureCacheOutputs({ backendOnnx, core, spec, weights, batch, threads, rounds }) {
  const ort = loadOnnxRuntime();
  /** @type {Parameters<ReturnType<typeof loadOnnxRuntime>['InferenceSession']['create']>[1]} */
  const options = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
    intraOpNumThreads: threads,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  const graph = backendOnnx.buildUNetGraph(spec, weights, { kind: 'fused', stage: 0, k: 0, fill: 'none', cacheOutputs: true });
  const plainGraph = backendOnnx.buildUNetGraph(spec, weights, { kind: 'fused', stage: 0, k: 0, fill: 'none', cacheOutputs: false });
  const session = await ort.InferenceSession.create(graph.bytes, options);
  const plain = await ort.InferenceSession.create(plainGraph.bytes, options);
  try {
    const size = batch * spec.inChannels * spec.imageSize * spec.imageSize;
    const x = new ort.Tensor('float32', new core.SeededRng(0).normal(size), [batch, spec.inChannels, spec.imageSize, spec.imageSize]);
    const t = new ort.Tensor('float32', new Float32Array(batch).fill(predictTimestep), [batch]);
    const outputs = graph.outputs.map((/** @type {{ name: string }} */ o) => o.name);
    /** @type {{ session: any, fetch: string[], times: number[] }[]} */
    const candidates = [
      { session, fetch: outputs, times: [] },
      { session, fetch: ['eps'], times: [] },
      { session: plain, fetch: ['eps'], times: [] },
    ];
    let bytes = 0;
    for (let r = 0; r < rounds * 3 + 2; r++) {
      for (const c of r % 2 === 0 ? candidates : [...candidates].reverse()) {
        const began = performance.now();
        const out = await c.session.run({ x, t }, c.fetch);
        const ms = performance.now() - began;
        if (r >= 2) c.times.push(ms);
        if (c.fetch === outputs) bytes = Object.values(out).reduce((sum, o) => sum + /** @type {any} */ (o).data.byteLength, 0);
      }
    }
    const [all, eps, full] = candidates.map((c) => roundMs(median(c.times)));
    return { withCacheOutputsMs: all, epsOnlyMs: eps, plainGraphMs: full, outputBytes: bytes };
  } finally {
    await session.release();
    await plain.release();
  }
}

/**
 * A variant of the code under test: this checkout's packages, or a baseline's.
 * @typedef {object} Variant
 * @property {string} name
 * @property {any} core
 * @property {any} samplers
 * @property {any} backendOnnx
 * @property {boolean} profiles whether its sample() takes a `profile`
 */

/**
 * Imports this checkout's packages, and the baseline's when asked.
 * @param {OverheadOptions} options
 * @returns {Promise<Variant[]>}
 */
async function loadVariants(options) {
  /** @type {Variant[]} */
  const variants = [];
  const load = async (/** @type {string} */ name, /** @type {string} */ root) => {
    const [core, samplers, backendOnnx] = await Promise.all([loadPackage('core', root), loadPackage('samplers', root), loadPackage('backend-onnx', root)]);
    return { name, core, samplers, backendOnnx, profiles: typeof core.createTimingRecorder === 'function' };
  };
  variants.push(await load('current', repositoryRoot));
  if (options.baseline !== undefined) {
    for (const p of ['core', 'samplers', 'backend-onnx']) {
      if (!existsSync(join(options.baseline, 'packages', p, 'dist', 'index.js'))) {
        throw new Error(`--baseline ${options.baseline}: packages/${p}/dist/index.js is missing; build the baseline checkout first (pnpm install && pnpm build there)`);
      }
    }
    variants.push(await load('baseline', options.baseline));
  }
  return variants;
}

/**
 * The sample() runs of one cell: every (variant, schedule) once per round, in an order reversed
 * on odd rounds, after one untimed warm-up round.
 * `beforeRound(round)` runs first in each timed round (the per-k costs, so that they are measured
 * under the same machine state as the runs).
 * @param {{ entries: { variant: Variant, denoiser: any }[], schedules: ScheduleCase[], batch: number, rounds: number, sampling: any, log: (m: string) => void, label: string, beforeRound: (round: number) => Promise<void> }} args
 */
async function measureSampleRuns({ entries, schedules, batch, rounds, sampling, log, label, beforeRound }) {
  /** @type {{ variant: string, schedule: string, sampler: any, runs: RunBreakdown[], run: () => Promise<RunBreakdown> }[]} */
  const candidates = [];
  for (const { variant, denoiser } of entries) {
    const sampler = variant.samplers.ddim({ steps: sampling.steps, eta: sampling.eta, clipSample: sampling.clip });
    const timed = timedDenoiser(denoiser);
    for (const schedule of schedules) {
      const skipAndFill = scheduleOptions(variant.core, schedule, denoiser.levels);
      candidates.push({
        variant: variant.name,
        schedule: schedule.label,
        sampler,
        runs: [],
        async run() {
          timed.calls.length = 0;
          const profile = variant.profiles ? variant.core.createTimingRecorder() : undefined;
          const began = performance.now();
          await variant.samplers.sample({ denoiser: timed.wrapped, sampler, batch, seed: 1, ...skipAndFill, ...(profile ? { profile } : {}) });
          const wallMs = performance.now() - began;
          return breakdown({ wallMs, predicts: [...timed.calls], spans: profile?.spans });
        },
      });
    }
  }
  const started = performance.now();
  for (let round = -1; round < rounds; round++) {
    if (round >= 0) await beforeRound(round);
    const order = round % 2 === 0 ? candidates : [...candidates].reverse();
    for (const c of order) {
      const result = await c.run();
      if (round >= 0) c.runs.push(result);
    }
    log(`${label}: ${round < 0 ? 'warm-up' : `round ${round + 1}/${rounds}`} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  return {
    medians: candidates.map((c) => ({ variant: c.variant, schedule: c.schedule, sampler: c.sampler.description, ...medianBreakdown(c.runs) })),
    // Round by round, for figures that pair runs of the same round (time saved against c = 0).
    perRound: Array.from({ length: rounds }, (_, r) =>
      candidates.map((c) => {
        const run = /** @type {RunBreakdown} */ (c.runs[r]);
        return { variant: c.variant, schedule: c.schedule, wallMs: run.wallMs, predictMs: run.predictMs, outsideFraction: run.outsideFraction };
      }),
    ),
  };
}

/**
 * Overhead ratios and time saved, measured against the FLOP model and the measured-cost model,
 * for each variant and schedule (each variant's saving against its own c = 0 run and costs).
 * @param {{ core: any, spec: any, levels: number, schedules: ScheduleCase[], timesteps: readonly number[], runs: any[], costs: Record<string, any> }} args
 */
export function deriveFigures({ core, spec, levels, schedules, timesteps, runs, costs }) {
  return runs.map((r) => {
    const full = runs.find((o) => o.variant === r.variant && o.schedule === schedules[0]?.label);
    const schedule = schedules.find((s) => s.label === r.schedule);
    const figures = { variant: r.variant, schedule: r.schedule, outsideFraction: r.outsideFraction };
    if (schedule === undefined || schedule.fill === 'none' || full === undefined) return figures;
    const { skip, fill } = scheduleOptions(core, schedule, levels);
    const flops = core.predictedTimeSaved(spec, skip, timesteps, { fill });
    const own = costs[r.variant];
    const measuredCost =
      own === undefined
        ? undefined
        : core.predictedTimeSaved(spec, skip, timesteps, {
            fill,
            cost: 'measured',
            costs: {
              ks: schedule.fill === 'cache' ? own.cache : own.zero,
              // A step at another depth than the step before runs another session: priced at its first-call cost.
              ...(own.zeroFirst === undefined ? {} : { afterSwitch: schedule.fill === 'cache' ? own.cacheFirst : own.zeroFirst }),
              full: own.zero[0],
            },
          });
    const saved = 1 - r.wallMs / full.wallMs;
    // Time saved on Σ predict() alone: what the model calls saved, whatever happens around them.
    const savedPredict = 1 - r.predictMs / full.predictMs;
    return {
      ...figures,
      savedMeasured: round4(saved),
      savedPredictOnly: round4(savedPredict),
      savedFlopPredicted: round4(flops.fractionSaved),
      savedCostPredicted: measuredCost === undefined ? undefined : round4(measuredCost.fractionSaved),
      ratioToFlop: round4(saved / flops.fractionSaved),
      ratioToCost: measuredCost === undefined ? undefined : round4(saved / measuredCost.fractionSaved),
    };
  });
}

/**
 * `deriveFigures` round by round (each round's runs against that round's c = 0 run, so a slow
 * spell of the machine hits both sides of a ratio; the per-k costs are the medians over all
 * rounds, steadier than one round's), then each figure's median over rounds.
 * @param {{ core: any, spec: any, levels: number, schedules: ScheduleCase[], timesteps: readonly number[], rounds: any[][], costs: Record<string, any> }} args
 */
export function deriveFiguresOverRounds({ core, spec, levels, schedules, timesteps, rounds, costs }) {
  const each = rounds.map((runs) => deriveFigures({ core, spec, levels, schedules, timesteps, runs, costs }));
  return (each[0] ?? []).map((/** @type {Record<string, any>} */ first, i) => {
    /** @type {Record<string, any>} */
    const out = { variant: first.variant, schedule: first.schedule };
    for (const [key, value] of Object.entries(first)) {
      if (typeof value !== 'number') continue;
      const values = each.map((figures) => /** @type {Record<string, any>} */ (figures[i])[key]).filter((v) => typeof v === 'number');
      out[key] = round4(median(values));
    }
    return out;
  });
}

/** @param {number} v */
const round4 = (v) => Math.round(v * 1e4) / 1e4;
/** @param {number | undefined} ms */
const fmt = (ms) => (ms === undefined ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
/** @param {number | undefined} f */
const pct = (f) => (f === undefined ? '—' : `${(f * 100).toFixed(1)} %`);

/**
 * The cell as text tables: per-k costs, the breakdown per variant and schedule, time saved.
 * @param {any} cell
 */
export function formatCell(cell) {
  const lines = [];
  lines.push(`\n${cell.model} · ${cell.backend} · batch ${cell.batch} · ${cell.sampler}${cell.otherCpu ? ` · other CPU ${cell.otherCpu.otherCores} cores` : ''}`);
  for (const [variant, c] of Object.entries(cell.costs)) {
    lines.push(`  predict() ms per call, ${variant}: k       ${c.zero.map((/** @type {number} */ _, /** @type {number} */ k) => String(k).padStart(7)).join('')}`);
    lines.push(`    zero fill, steady                 ${c.zero.map((/** @type {number} */ v) => fmt(v).padStart(7)).join('')}`);
    lines.push(`    zero fill, first after a switch   ${c.zeroFirst.map((/** @type {number} */ v) => fmt(v).padStart(7)).join('')}`);
    lines.push(`    cache fill, steady (k0 stores)    ${c.cache.map((/** @type {number} */ v) => fmt(v).padStart(7)).join('')}`);
  }
  if (cell.cacheOutputs) {
    const o = cell.cacheOutputs;
    lines.push(
      `  cache outputs: the cache-writing full-depth graph ${fmt(o.withCacheOutputsMs)} ms fetching ε + ${((o.outputBytes ?? 0) / 2 ** 20).toFixed(1)} MiB of features, ${fmt(o.epsOnlyMs)} ms fetching ε alone; the plain graph ${fmt(o.plainGraphMs)} ms`,
    );
  }
  const header = ['variant', 'schedule', 'wall ms', 'Σ predict', 'outside', 'sampler', 'noise', 'check', 'setup', 'ORT run', 'switches', 'switch ms', 'cache st', 'cache ld', 'predict other'];
  lines.push(`  ${header.map((h, i) => (i < 2 ? h.padEnd(10) : h.padStart(9))).join(' ')}`);
  for (const r of cell.runs) {
    const p = r.phases ?? {};
    const row = [r.variant, r.schedule, fmt(r.wallMs), fmt(r.predictMs), pct(r.outsideFraction), fmt(p.sampler), fmt(p.noise), fmt(p.check), fmt(r.setupMs), fmt(p.run), r.switchedRuns === undefined ? '—' : String(r.switchedRuns), fmt(r.switchPenaltyMs), fmt(p.cacheStore), fmt(p.cacheLoad), fmt(r.predictOtherMs)];
    lines.push(`  ${row.map((h, i) => (i < 2 ? h.padEnd(10) : h.padStart(9))).join(' ')}`);
  }
  lines.push(`  time saved: median over rounds of each run against its round's c = 0 run (costs: medians); best: fastest runs and costs`);
  lines.push(`  ${['variant', 'schedule', 'saved', 'on Σpredict', 'FLOP pred', 'cost pred', 'meas/FLOP', 'meas/cost', 'best saved', 'best cost', 'best m/c'].map((h, i) => (i < 2 ? h.padEnd(10) : h.padStart(11))).join(' ')}`);
  for (const d of cell.derived) {
    if (d.savedMeasured === undefined) continue;
    const b = cell.best?.derived.find((/** @type {any} */ x) => x.variant === d.variant && x.schedule === d.schedule) ?? {};
    const row = [
      d.variant,
      d.schedule,
      pct(d.savedMeasured),
      pct(d.savedPredictOnly),
      pct(d.savedFlopPredicted),
      pct(d.savedCostPredicted),
      d.ratioToFlop?.toFixed(3) ?? '—',
      d.ratioToCost?.toFixed(3) ?? '—',
      pct(b.savedMeasured),
      pct(b.savedCostPredicted),
      b.ratioToCost?.toFixed(3) ?? '—',
    ];
    lines.push(`  ${row.map((h, i) => (i < 2 ? h.padEnd(10) : h.padStart(11))).join(' ')}`);
  }
  return lines.join('\n');
}

/**
 * One cell: a model, a backend and a batch size, every variant interleaved.
 * @param {{ options: OverheadOptions, variants: Variant[], pretrained: any, model: string, backend: string, batch: number, log: (m: string) => void }} args
 */
async function measureCell({ options, variants, pretrained, model, backend, batch, log }) {
  const { spec, weights, info } = await pretrained.loadPretrained(model);
  const sampling = { steps: info.sampling?.steps ?? 50, eta: options.eta ?? info.sampling?.eta ?? 1, clip: info.sampling?.clip ?? true };
  const current = variants[0];
  if (current === undefined) throw new Error('no variant to measure');
  const cpuBefore = cpuSample();
  /** @type {{ variant: Variant, denoiser: any, dispose: () => void }[]} */
  const entries = [];
  try {
    for (const variant of backend === 'onnx' ? variants : [current]) {
      let created;
      if (backend === 'onnx') {
        const b = await variant.backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: options.threads });
        created = { denoiser: await b.createDenoiser(spec, weights), dispose: () => b.dispose?.() };
      } else {
        const backendTfjs = await loadPackage('backend-tfjs');
        const b = await backendTfjs.createTfjsBackend({ engine: 'wasm' });
        created = { denoiser: await b.createDenoiser(spec, weights), dispose: () => b.dispose?.() };
      }
      const { denoiser } = created;
      const levels = denoiser.levels;
      const cacheFill = variant.core.cacheFillEvery(options.cacheInterval);
      // Every depth and fill the runs use, at their batch size, before anything is timed.
      await denoiser.prepare?.({ ks: Array.from({ length: levels }, (_, k) => k), fills: [variant.core.parseFill('zero'), cacheFill], batch });
      entries.push({ variant, denoiser, dispose: () => { denoiser.dispose(); created.dispose(); } });
    }
    const levels = entries[0]?.denoiser.levels ?? 0;
    if (current.core.describeArchitecture(spec).decoders.length !== 1) throw new Error(`${model}: multi-decoder models are not supported by this benchmark (costs would be per stage)`);
    const label = `${model} ${backend} b${batch}`;
    /** @type {Record<string, any[]>} */
    const costRounds = {};
    // Each round: every variant's per-k costs (variant order alternating), then the sample() runs.
    const beforeRound = async (/** @type {number} */ round) => {
      for (const { variant, denoiser } of round % 2 === 0 ? entries : [...entries].reverse()) {
        const result = await measurePredictCosts({ core: variant.core, denoiser, batch, round, calls: options.costCalls, cacheFill: variant.core.cacheFillEvery(options.cacheInterval) });
        (costRounds[variant.name] ??= []).push(result);
      }
    };
    const schedules = schedulesOf(options);
    const { medians: runs, perRound } = await measureSampleRuns({ entries, schedules, batch, rounds: options.rounds, sampling, log, label, beforeRound });
    const costs = Object.fromEntries(Object.entries(costRounds).map(([name, list]) => [name, medianCosts(list)]));
    const cacheOutputs =
      backend === 'onnx' ? await measureCacheOutputs({ backendOnnx: current.backendOnnx, core: current.core, spec, weights, batch, threads: options.threads, rounds: Math.max(options.rounds, 2) }) : undefined;
    const timesteps = current.samplers.ddim({ steps: sampling.steps }).timesteps;
    const derived = deriveFiguresOverRounds({ core: current.core, spec, levels, schedules, timesteps, rounds: perRound, costs });
    const best = bestFigures({ core: current.core, spec, levels, schedules, timesteps, rounds: perRound, costRounds });
    const cpu = otherCpu(cpuBefore, cpuSample());
    const perRoundShort = perRound.map((list) => list.map((r) => ({ variant: r.variant, schedule: r.schedule, wallMs: roundMs(r.wallMs), predictMs: roundMs(r.predictMs) })));
    const costRoundsShort = Object.fromEntries(Object.entries(costRounds).map(([name, list]) => [name, list.map((c) => Object.fromEntries(Object.entries(c).map(([f, row]) => [f, row.map(roundMs)])))]));
    return { model, backend, batch, sampler: runs[0]?.sampler, sampling, costs, costRounds: costRoundsShort, cacheOutputs, runs, perRound: perRoundShort, derived, best, otherCpu: cpu, measuredAt: new Date().toISOString() };
  } finally {
    for (const e of entries) e.dispose();
  }
}

/**
 * `pnpm bench overhead [flags]`.
 * @param {string[]} argv
 */
export async function runOverhead(argv) {
  const machine = machineInfo();
  const options = parseOverheadArgs(argv, machineSlug(machine));
  if (options.help) {
    console.log(overheadUsage);
    return;
  }
  const log = (/** @type {string} */ m) => process.stderr.write(`[overhead] ${m}\n`);
  const config = { threads: options.threads, quick: options.quick };
  /** @type {{ schema: string, machine: any, config: any, sessions: any[], cells: Record<string, any> }} */
  const doc = readResults(options.out, () => ({ schema: overheadSchema, machine, config, sessions: [], cells: {} }), overheadSchema);
  checkCompatible(doc, options.out, { machine, config });
  doc.sessions.push({ startedAt: new Date().toISOString(), git: gitInfo(), runtimes: runtimeVersions(), loadAverage: loadAverage(), baseline: options.baseline ?? null, argv });
  const variants = await loadVariants(options);
  const pretrained = await loadPackage('pretrained');
  for (const model of options.models) {
    for (const backend of options.backends) {
      for (const batch of backend === 'onnx' ? options.batches : options.batches.filter((b) => options.tfjsBatches.includes(b))) {
        const cell = await measureCell({ options, variants, pretrained, model, backend, batch, log });
        console.log(formatCell(cell));
        doc.cells[`${model}|${backend}|b${batch}${options.eta === undefined ? '' : `|eta${options.eta}`}`] = cell;
        writeResults(options.out, doc);
      }
    }
  }
  const inside = relative(repositoryRoot, options.out);
  log(`results in ${inside.startsWith('..') ? options.out : inside}`);
}
