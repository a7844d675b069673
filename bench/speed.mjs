// @ts-check
/**
 * `pnpm bench speed`: the paper's Table 2 (Giladi et al., time saved by skipping levels,
 * measured against FLOP-predicted) with levelskip's backends and a PyTorch CPU peer.
 *
 * For each model (core's presets mnistSmall, ddpmCifar10, mnistMultistage, mnistOde2; random
 * weights: timing does not depend on training), backend, batch and fill it measures
 * - predict() per depth k: interleaved rounds, medians (the per-step cost the DDPM-1000
 *   equivalent and the DDIM-50 equivalent are priced from). A multi-decoder U-Net
 *   (mnistMultistage: one shared encoder, a decoder per timestep stage) is timed per stage and
 *   k, at a timestep inside each stage's t-interval, since each stage's decoder costs differently;
 * - real DDIM-50 sample() runs at c = 0 and each c, alternating in order, for the models in
 *   --sample-models (default: all but ddpmCifar10);
 * - once per runtime, a plain large conv and matmul (peak GFLOP/s, bench/peak.mjs);
 * - PyTorch parity (the peer must compute what levelskip-onnx computes, to 1e-3; per decoder
 *   stage for a multi-decoder U-Net) before the peer's timings. Models the peer cannot run (see
 *   `peerUnsupported`) get no PyTorch cells; the reason is recorded in the session's `unavailable`.
 * Every finished cell is written to the results file at once; cells already there are skipped
 * (resume) unless --force. Derived tables (bench/speed-tables.mjs) are stored with the cells.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseSpeedArgs, speedUsage } from './lib/args.mjs';
import { cpuSample, debianPackage, gitInfo, loadAverage, machineInfo, machineSlug, otherCpu, runtimeVersions } from './lib/machine.mjs';
import { cellKey, checkCompatible, readResults, speedSchema, writeResults } from './lib/results-file.mjs';
import { timeInterleaved } from './lib/timing.mjs';
import { probeTorch, runTorchPeer } from './lib/torch-peer.mjs';
import { loadOnnxRuntime, loadPackage, loadTfjs, repositoryRoot } from './lib/workspace.mjs';
import { onnxPeak, peakShapes, tfjsPeak } from './peak.mjs';
import { deriveSpeedTables, modelContext, scheduleKs, specForFill } from './speed-tables.mjs';

/** @typedef {import('./lib/types.js').SpeedOptions} SpeedOptions */
/** @typedef {import('./lib/types.js').SpeedBackend} SpeedBackend */
/** @typedef {import('./lib/types.js').SpeedDocument} SpeedDocument */
/** @typedef {import('./lib/types.js').SpeedSession} SpeedSession */
/** @typedef {import('./lib/types.js').PlannedCell} PlannedCell */
/** @typedef {import('./lib/types.js').PlannedModelCell} PlannedModelCell */
/** @typedef {import('./lib/types.js').PlannedTimedCell} PlannedTimedCell */
/** @typedef {import('./lib/types.js').CorePackage} CorePackage */
/** @typedef {import('./lib/types.js').SamplersPackage} SamplersPackage */
/** @typedef {import('./lib/types.js').ModelContext} ModelContext */
/** @typedef {import('./lib/types.js').NamedTensors} NamedTensors */
/** @typedef {import('./lib/types.js').AnyDenoiser} AnyDenoiser */
/** @typedef {import('./lib/types.js').PeakResult} PeakResult */
/** @typedef {import('./lib/types.js').OtherCpu} OtherCpu */
/** @typedef {import('./lib/types.js').PeerJob} PeerJob */
/** @typedef {import('./lib/types.js').Timing} Timing */

/**
 * Diffusion timestep of the per-k predict() inputs of single-decoder models (cost does not depend
 * on it). A multi-decoder model's cost does, through the stage t selects: each of its stages is
 * timed at the middle of its t-interval (modelContext's `stages[s].timestep`).
 */
const predictTimestep = 500;
const parityTolerance = 1e-3;
const weightOptions = { seed: 0, jitter: 0.1 };
/** The tfjs engine of each tfjs backend id. */
const tfjsEngines = /** @type {const} */ ({ 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu', 'tfjs-node': 'node' });

/**
 * A line on stderr.
 *
 * @param {string} message
 */
const log = (message) => process.stderr.write(`${message}\n`);
/**
 * A path for messages: relative inside the repository, absolute outside it.
 *
 * @type {(path: string) => string}
 */
const shown = (path) => {
  const inside = relative(repositoryRoot, path);
  return inside.startsWith('..') ? path : inside;
};
/** @type {(ms: number) => string} */
const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
/**
 * Time saved against the c = 0 run as a signed percentage: −23% is faster, +2% slower.
 *
 * @type {(ms: number, fullMs: number) => string}
 */
const savedText = (ms, fullMs) => {
  const percent = Math.round((1 - ms / fullMs) * 100);
  return `${percent >= 0 ? '−' : '+'}${Math.abs(percent)}%`;
};

/**
 * A results file with no session and no cell yet.
 *
 * @param {import('./lib/types.js').Machine} machine
 * @param {SpeedOptions} options
 * @returns {SpeedDocument}
 */
function freshDocument(machine, options) {
  return {
    schema: speedSchema,
    machine,
    config: {
      threads: options.threads,
      quick: options.quick,
      cs: [...options.cs].sort((a, b) => a - b),
      sampler: 'ddim(steps=50, eta=0, spacing=leading)',
      predictTimestep,
      weights: `core randomWeights(spec, ${JSON.stringify(weightOptions)})`,
      parityTolerance,
      peak: peakShapes,
    },
    sessions: [],
    cells: {},
    derived: null,
  };
}

/**
 * Threads a backend computes with (tfjs-wasm in Node is the single-threaded SIMD build).
 *
 * @param {string} backend
 * @param {SpeedOptions} options
 * @returns {number | null} null: its own thread pools
 */
function threadsOf(backend, options) {
  if (backend === 'onnx' || backend === 'torch') return options.threads;
  if (backend === 'tfjs-node') return null; // libtensorflow's own thread pools
  return 1;
}

/**
 * Why the PyTorch peer cannot run a model (null: it can). scripts/dev/torch-unet-peer.py runs the
 * reference U-Net of scripts/dev/torch-reference-unet.py: resnet and ode2 blocks, attention, side
 * paths, multi-decoder stages (timed per stage × k, cache kept per stage, parity one batch per
 * stage). That U-Net's group norms use ε = 1e-5, so a spec with another normEps is the one thing
 * it cannot compute (the peer refuses such a checkpoint when loading it).
 *
 * @param {Pick<ModelContext, 'spec'>} context
 * @returns {string | null}
 */
export function peerUnsupported(context) {
  if (Math.abs(context.spec.normEps - 1e-5) > 1e-12) {
    return `the PyTorch peer's reference U-Net (scripts/dev/torch-reference-unet.py) uses group-norm ε = 1e-5; this spec has normEps ${context.spec.normEps}`;
  }
  return null;
}

/**
 * Every unit of work the flags ask for, in run order; `peerSkipped` holds the models the PyTorch peer cannot run.
 *
 * @param {SpeedOptions} options
 * @param {Set<string>} [peerSkipped]
 * @returns {PlannedCell[]}
 */
function planCells(options, peerSkipped = new Set()) {
  /** @type {PlannedCell[]} */
  const plan = [];
  if (options.parts.includes('peak')) for (const backend of options.backends) plan.push({ kind: 'peak', backend, key: cellKey.peak(backend) });
  for (const model of options.models) {
    const peer = !peerSkipped.has(model);
    if (peer && options.backends.includes('torch') && (options.parts.includes('parity') || options.parts.includes('predict') || options.parts.includes('sample'))) {
      plan.push({ kind: 'parity', model, backend: 'torch', key: cellKey.parity(model) });
    }
    for (const backend of options.backends.filter((b) => peer || b !== 'torch')) {
      for (const fill of options.fills) {
        for (const batch of options.batches) {
          if (options.parts.includes('predict')) plan.push({ kind: 'predict', model, backend, fill, batch, key: cellKey.predict(model, backend, batch, fill) });
          if (options.parts.includes('sample') && options.sampleModels.includes(model)) {
            plan.push({ kind: 'sample', model, backend, fill, batch, key: cellKey.sample(model, backend, batch, fill, 'ddim50') });
          }
        }
      }
    }
  }
  return plan;
}

/** Progress lines on stderr: `[speed <done>/<total>] …`. */
class Progress {
  /** @param {number} total cells to measure */
  constructor(total) {
    this.total = total;
    this.done = 0;
  }

  /** @param {string} message a line about the current cell */
  line(message) {
    log(`[speed ${this.done}/${this.total}] ${message}`);
  }

  /** @param {string} message the line of a finished cell (counted) */
  finish(message) {
    this.done++;
    this.line(message);
  }
}

/**
 * Deterministic NCHW input.
 *
 * @param {CorePackage} core
 * @param {import('./lib/types.js').UNetSpec} spec
 * @param {number} batch
 * @param {number} seed
 * @returns {{ shape: number[], data: Float32Array }}
 */
function inputOf(core, spec, batch, seed) {
  const shape = [batch, spec.inChannels, spec.imageSize, spec.imageSize];
  return { shape, data: new core.SeededRng(seed).normal(shape.reduce((a, b) => a * b, 1)) };
}

/**
 * predict() per k on one denoiser; for the cache fill also the plain full network as baseline.
 * A multi-decoder model: per stage and k, at the stage's timestep (entries carry `stage`; the
 * cache fill's baselines are per stage too), all in the same interleaved rounds.
 *
 * @param {object} what
 * @param {CorePackage} what.core
 * @param {AnyDenoiser} what.denoiser
 * @param {ModelContext} what.context
 * @param {import('./lib/types.js').UNetSpec} what.spec
 * @param {number} what.batch
 * @param {string} what.fill
 * @param {import('./lib/types.js').TimingOptions} what.timing
 * @param {Progress} what.progress
 * @param {string} what.label names the cell in progress lines and errors
 * @returns {Promise<import('./lib/types.js').PredictMeasurement>}
 */
async function measurePredict({ core, denoiser, context, spec, batch, fill, timing, progress, label }) {
  const { ops } = denoiser;
  const input = inputOf(core, spec, batch, 0);
  const x = ops.fromFloat32(input.data, input.shape);
  const fillStrategy = core.parseFill(fill);
  /** @type {Array<import('@levelskip/core').FeatureCache<unknown>>} */
  const caches = [];
  const levels = denoiser.levels;
  const timestepOf = (/** @type {number} */ stage) => (context.multiStage ? context.stages[stage].timestep : predictTimestep);
  /** @type {(stage: number, k: number, options: Omit<import('@levelskip/core').PredictOptions<unknown>, 'k'>) => () => Promise<void>} */
  const call = (stage, k, options) => async () => {
    const out = await denoiser.predict(x, timestepOf(stage), { k, ...options });
    await ops.toFloat32(out);
    ops.dispose(out);
  };
  try {
    /** @type {Array<() => Promise<void>>} */
    const candidates = [];
    /** @type {Array<{ baseline: true, stage: number } | { baseline?: undefined, stage: number, k: number }>} */
    const labels = [];
    for (const { stage } of context.stages) {
      if (fill === 'cache') {
        candidates.push(call(stage, 0, {}));
        labels.push({ baseline: true, stage });
      }
      for (let k = 0; k < levels; k++) {
        if (fill === 'cache') {
          // The features a skipped step reads, stored by a full-depth step of the same stage, as in a sampling run.
          const cache = denoiser.createFeatureCache();
          caches.push(cache);
          await call(stage, 0, { fill: fillStrategy, cache })();
          if (k > 0 && !cache.has(stage, levels - 1 - k)) throw new Error(`${label}: the feature cache holds no features for stage ${stage}, k = ${k} after a full-depth step`);
          candidates.push(call(stage, k, { fill: fillStrategy, cache }));
        } else {
          candidates.push(call(stage, k, { fill: fillStrategy }));
        }
        labels.push({ stage, k });
      }
    }
    const results = await timeInterleaved(candidates, {
      ...timing,
      onRound: (round, elapsed) => {
        if (elapsed > 20_000) progress.line(`${label}: round ${round}, ${(elapsed / 1000).toFixed(0)} s`);
      },
    });
    /** @type {import('./lib/types.js').KTiming[]} */
    const ks = [];
    /** @type {import('./lib/types.js').StageTiming[]} */
    const baselines = [];
    results.forEach((result, i) => {
      const entry = labels[i];
      if (entry.baseline) baselines.push({ stage: entry.stage, ...result });
      else ks.push({ ...(context.multiStage ? { stage: entry.stage } : {}), k: entry.k, ...result });
    });
    if (!context.multiStage) {
      const baseline = baselines.length > 0 ? (({ stage: _stage, ...timed }) => timed)(baselines[0]) : undefined;
      return { timestep: predictTimestep, ks, ...(baseline ? { baseline } : {}) };
    }
    return { stages: context.stages, ks, ...(baselines.length > 0 ? { baselines } : {}) };
  } finally {
    for (const cache of caches) cache.dispose();
    ops.dispose(x);
  }
}

/**
 * ", other CPU 0.03 cores" for a progress line (empty where it was not measured).
 *
 * @param {OtherCpu | null | undefined} cpu
 * @returns {string}
 */
function otherCpuText(cpu) {
  return cpu ? `, other CPU ${cpu.otherCores} cores` : '';
}

/**
 * One line of per-k medians: `k0 … · k1 …`, per stage for a multi-decoder model.
 *
 * @param {import('./lib/types.js').KTiming[]} ks
 * @returns {string}
 */
function formatKs(ks) {
  const stages = [...new Set(ks.map((e) => e.stage))];
  const line = (/** @type {import('./lib/types.js').KTiming[]} */ entries) => entries.map((e) => `k${e.k} ${fmt(e.ms)}`).join(' · ');
  if (stages.length === 1 && stages[0] === undefined) return line(ks);
  return stages.map((stage) => `stage ${stage}: ${line(ks.filter((e) => e.stage === stage))}`).join(' | ');
}

/**
 * " (no cache: 13.7 | 10.1)" for a cache-fill predict cell's progress line: its full network
 * without a feature cache, per stage (empty for the other fills).
 *
 * @param {{ baseline?: Timing | null, baselines?: Timing[] }} measurement
 * @returns {string}
 */
function noCacheText(measurement) {
  const noCache = measurement.baseline ? [measurement.baseline] : (measurement.baselines ?? []);
  return noCache.length > 0 ? ` (no cache: ${noCache.map((b) => fmt(b.ms)).join(' | ')})` : '';
}

/**
 * "c0 686 ms · c2 361 ms (−47%)" for a sample cell's progress line: each schedule's median and the
 * time saved against the first (c = 0).
 *
 * @param {Array<{ c: number, ms: number }>} schedules
 * @returns {string}
 */
function schedulesText(schedules) {
  const t0 = schedules[0].ms;
  return schedules.map((s) => `c${s.c} ${fmt(s.ms)} ms${s.c === 0 ? '' : ` (${savedText(s.ms, t0)})`}`).join(' · ');
}

/**
 * Real DDIM-50 sample() runs at c = 0 (the full network, no fill, no cache) and each c, alternating.
 *
 * @param {object} what
 * @param {CorePackage} what.core
 * @param {SamplersPackage} what.samplers
 * @param {AnyDenoiser} what.denoiser
 * @param {number} what.batch
 * @param {string} what.fill
 * @param {number[]} what.cs curvatures besides c = 0
 * @param {import('./lib/types.js').SpeedTiming} what.timing
 * @param {Progress} what.progress
 * @param {string} what.label names the cell in progress lines
 * @returns {Promise<{ sampler: string, steps: number, schedules: Array<Timing & { c: number }> }>}
 */
async function measureSample({ core, samplers, denoiser, batch, fill, cs, timing, progress, label }) {
  const sampler = samplers.ddim({ steps: 50 });
  const fillStrategy = core.parseFill(fill);
  const schedules = [0, ...cs];
  const candidates = schedules.map((c) => async () => {
    await samplers.sample({ denoiser, sampler, batch, seed: 1, ...(c === 0 ? {} : { skip: core.powerSchedule({ c }), fill: fillStrategy }) });
  });
  const results = await timeInterleaved(candidates, {
    warmupRounds: timing.warmupRounds,
    minRounds: timing.sampleRounds,
    minMs: 0,
    onRound: (round, elapsed) => progress.line(`${label}: round ${round} done (${(elapsed / 1000).toFixed(1)} s)`),
  });
  return { sampler: sampler.description, steps: sampler.timesteps.length, schedules: schedules.map((c, i) => ({ c, ...results[i] })) };
}

/**
 * Timesteps at fractions of a decoder stage's t-interval, each checked to select that stage. The
 * fractions give 999 / 420 (x) and 130 / 870 (the cache fill's warm-up) for a single decoder; per
 * stage they spread the batch over the stage, since a batch's timesteps must share one stage.
 *
 * @param {CorePackage} core
 * @param {ModelContext} context
 * @param {number} stage
 * @param {number[]} fractions of the stage's t-interval
 * @returns {number[]}
 */
function stageTimesteps(core, context, stage, fractions) {
  const T = context.spec.trainTimesteps;
  const { tStart, tEnd } = context.stages[stage];
  return fractions.map((f) => {
    // Floor: t/T stays below tEnd (the interval is half-open), as stageTimestep in speed-tables.mjs.
    const timestep = Math.min(T - 1, Math.floor(T * (tStart + f * (tEnd - tStart))));
    if (core.stageForTime(context.arch, timestep / T) !== stage) {
      throw new Error(`parity timestep ${timestep} does not select decoder stage ${stage} (t ∈ [${tStart}, ${tEnd})) of ${context.name}; the stage is too narrow for the parity batch`);
    }
    return timestep;
  });
}

/**
 * ε from levelskip-onnx for the parity cases the PyTorch peer checks: per decoder stage (one for a
 * single decoder), a batch of two with timesteps inside that stage, and for the cache fill a
 * warm-up batch of the same stage (features are cached per stage).
 *
 * @param {object} what
 * @param {CorePackage} what.core
 * @param {import('./lib/types.js').BackendOnnxPackage} what.backendOnnx
 * @param {ModelContext} what.context
 * @param {NamedTensors} what.weights
 * @param {NamedTensors} what.sideWeights the side-path model's (interpolate)
 * @param {number} what.threads
 * @returns {Promise<{ inputs: Record<string, import('./lib/types.js').EncodedTensor>, runs: Array<import('./lib/types.js').PeerParityRun & { model?: 'side' }> }>}
 */
async function parityCases({ core, backendOnnx, context, weights, sideWeights, threads }) {
  const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: threads });
  /** @type {(data: Float32Array, shape: number[]) => import('./lib/types.js').EncodedTensor} */
  const encode = (data, shape) => ({ shape, float32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });
  const x = inputOf(core, context.spec, 2, 7);
  const x2 = inputOf(core, context.spec, 2, 8);
  /** @type {Array<import('./lib/types.js').PeerParityRun & { model?: 'side' }>} */
  const runs = [];
  try {
    for (const [fill, spec, w] of /** @type {Array<[string, import('./lib/types.js').UNetSpec, NamedTensors]>} */ ([
      ['zero', context.spec, weights],
      ['duplicate', context.spec, weights],
      ['interpolate', context.sideSpec, sideWeights],
      ['cache', context.spec, weights],
      ['mean', context.spec, weights],
    ])) {
      const denoiser = await backend.createDenoiser(spec, w);
      const { ops } = denoiser;
      const tx = ops.fromFloat32(x.data, x.shape);
      const tx2 = ops.fromFloat32(x2.data, x2.shape);
      try {
        for (const { stage } of context.stages) {
          const timesteps = stageTimesteps(core, context, stage, [0.999, 0.42]);
          const warmTimesteps = stageTimesteps(core, context, stage, [0.13, 0.87]);
          for (let k = fill === 'zero' ? 0 : 1; k < context.levels; k++) {
            /** @type {import('@levelskip/core').FeatureCache<import('onnxruntime-node').Tensor> | undefined} */
            let cache;
            if (fill === 'cache') {
              cache = denoiser.createFeatureCache();
              ops.dispose(await denoiser.predict(tx2, warmTimesteps, { k: 0, fill: core.cacheFill, cache }));
            }
            const out = await denoiser.predict(tx, timesteps, { k, fill: core.parseFill(fill), ...(cache ? { cache } : {}) });
            const eps = await ops.toFloat32(out);
            ops.dispose(out);
            cache?.dispose();
            runs.push({
              ...(context.multiStage ? { stage } : {}),
              k,
              fill,
              input: 'x',
              timesteps,
              ...(fill === 'cache' ? { warmup: { input: 'x2', timesteps: warmTimesteps } } : {}),
              expected: encode(eps, x.shape),
              ...(fill === 'interpolate' ? { model: 'side' } : {}),
            });
          }
        }
      } finally {
        ops.dispose([tx, tx2]);
        denoiser.dispose();
      }
    }
  } finally {
    backend.dispose();
  }
  return { inputs: { x: encode(x.data, x.shape), x2: encode(x2.data, x2.shape) }, runs };
}

/**
 * The cells a run measures: every cell the flags ask for (`plan`), less those the results file
 * already holds (unless --force), plus the peaks whenever model cells are timed; and the models the
 * PyTorch peer cannot run (peerUnsupported), which get no PyTorch cells, with the reason.
 *
 * @param {SpeedOptions} options
 * @param {SpeedDocument} doc
 * @param {CorePackage} core
 * @param {SamplersPackage} samplers
 * @returns {{ plan: PlannedCell[], pending: PlannedCell[], peerSkipped: Map<string, string> }}
 */
function planRun(options, doc, core, samplers) {
  /** @type {Map<string, string>} */
  const peerSkipped = new Map();
  if (options.backends.includes('torch')) {
    for (const model of options.models) {
      const reason = peerUnsupported(modelContext(core, samplers, model));
      if (reason !== null) {
        peerSkipped.set(model, reason);
        log(`[speed] PyTorch peer skipped for ${model}: ${reason}`);
      }
    }
  }
  const plan = planCells(options, new Set(peerSkipped.keys()));
  // A failed parity check is redone: the peer's timings count only after it passes.
  const measured = plan.filter((p) => {
    const stored = doc.cells[p.key];
    return options.force || stored === undefined || (p.kind === 'parity' && !(/** @type {import('./lib/types.js').ParityCell} */ (stored).passed));
  });
  // Every session that times model cells measures the peaks again, first: machines of one name can
  // differ in speed from day to day (2× in onnxruntime's conv peak between two VMs here), so achieved GFLOP/s is read against
  // the peaks of the session that timed it (session.peaks), never against another session's.
  const timesModels = measured.some((p) => p.kind === 'predict' || p.kind === 'sample');
  const pending = plan.filter((p) => (p.kind === 'peak' && timesModels) || measured.includes(p));
  return { plan, pending, peerSkipped };
}

/**
 * Adds this invocation's session to the document.
 *
 * @param {SpeedDocument} doc
 * @param {readonly string[]} argv
 * @param {Map<string, string>} peerSkipped models the PyTorch peer cannot run, and why
 * @returns {SpeedSession}
 */
function openSession(doc, argv, peerSkipped) {
  /** @type {SpeedSession} */
  const session = {
    id: doc.sessions.length,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    argv: [...argv],
    loadAverageStart: loadAverage(),
    loadAverageEnd: null,
    versions: runtimeVersions(),
    torch: null,
    openblasPthread: debianPackage('libopenblas0-pthread'),
    git: gitInfo(),
    // <backend>: { conv, matmul } GFLOP/s measured at this session's start (see `timesModels` in planRun).
    peaks: {},
    // <backend>: reason the whole backend was unavailable; <backend>|<model>: only that model's cells.
    unavailable: Object.fromEntries([...peerSkipped].map(([model, reason]) => [`torch|${model}`, reason])),
  };
  doc.sessions.push(session);
  return session;
}

/**
 * What the steps of one `pnpm bench speed` invocation share: its options and packages, the results
 * document and this session, the cells to measure, and the actions every step uses.
 *
 * @typedef {object} SpeedRun
 * @property {SpeedOptions} options
 * @property {CorePackage} core
 * @property {SamplersPackage} samplers
 * @property {SpeedDocument} doc
 * @property {SpeedSession} session
 * @property {PlannedCell[]} pending the cells this run measures, in run order
 * @property {Progress} progress
 * @property {string} temporary a folder for the PyTorch peer's checkpoints and job files, removed at the end
 * @property {() => void} save derives the tables and writes the results file (atomically)
 * @property {(key: string, cell: import('./lib/types.js').UnstampedCell) => void} store stamps a finished cell with the session and the time, and saves
 * @property {() => boolean} torchAvailable whether the PyTorch peer can run (probed once; when not, the reason is recorded and logged)
 */

/**
 * @param {Pick<SpeedRun, 'options' | 'core' | 'samplers' | 'doc' | 'session' | 'pending'>} parts
 * @returns {SpeedRun}
 */
function createRun({ options, core, samplers, doc, session, pending }) {
  const save = () => {
    doc.derived = deriveSpeedTables(doc, { core, samplers });
    writeResults(options.out, doc);
  };
  /** @type {ReturnType<typeof probeTorch> | undefined} */
  let torch;
  const torchAvailable = () => {
    if (torch === undefined) {
      torch = probeTorch(options.python);
      if (!torch.available) {
        session.unavailable.torch = torch.reason;
        log(`[speed] PyTorch peer unavailable, its cells are skipped: ${torch.reason}`);
      }
    }
    return torch.available;
  };
  return {
    options,
    core,
    samplers,
    doc,
    session,
    pending,
    progress: new Progress(pending.length),
    temporary: mkdtempSync(join(tmpdir(), 'levelskip-bench-')),
    save,
    store: (key, cell) => {
      doc.cells[key] = { ...cell, session: session.id, measuredAt: new Date().toISOString() };
      save();
    },
    torchAvailable,
  };
}

/**
 * The run's first lines: the machine, its load and how many cells are left to measure.
 *
 * @param {SpeedRun} run
 * @param {import('./lib/types.js').Machine} machine
 * @param {number} planned every cell the flags ask for
 */
function logStart({ options, session, pending }, machine, planned) {
  log(
    `[speed] ${machine.cpuModel}, ${machine.cores} cores, load ${session.loadAverageStart.join(' ')}; ${pending.length} of ${planned} cells to measure ` +
      `(${planned - pending.length} already in ${shown(options.out)})${options.quick ? '; QUICK smoke run: figures are not results' : ''}`,
  );
  if (session.loadAverageStart[0] > machine.cores * 0.25 && !options.quick) {
    log(`[speed] warning: load average ${session.loadAverageStart[0]} on ${machine.cores} cores; timings on a busy machine are not comparable`);
  }
}

/**
 * Ends the session (its status already set): records the time and load, writes the file and removes
 * the temporary folder.
 *
 * @param {SpeedRun} run
 */
function closeSession({ session, save, temporary }) {
  session.finishedAt = new Date().toISOString();
  session.loadAverageEnd = loadAverage();
  save();
  rmSync(temporary, { recursive: true, force: true });
}

/**
 * Ctrl-C / SIGTERM: the cells measured so far are already saved; record the session as
 * interrupted (not "running") and leave no temporary files. A rerun resumes with the rest.
 * Node runs the handler only when the event loop is free, and a tfjs-wasm cell runs as one
 * chain of promises, so it can take effect only after the current cell (minutes for tfjs at
 * batch 16); a second Ctrl-C, with no handler left, stops at once (the session stays "running").
 *
 * @param {SpeedRun} run
 * @param {NodeJS.Signals} signal
 */
function interrupt(run, signal) {
  run.session.status = `interrupted (${signal}): rerun the same command to measure the remaining cells`;
  closeSession(run);
  log(`[speed] ${run.session.status}`);
  process.exit(130);
}

/**
 * Runs the speed suite with the given command-line arguments.
 *
 * @param {readonly string[]} argv
 * @returns {Promise<{ doc: SpeedDocument, path: string } | undefined>} the results document and its file (undefined for --help)
 */
export async function runSpeed(argv) {
  const machine = machineInfo();
  const options = parseSpeedArgs(argv, machineSlug(machine));
  if (options.help) {
    console.log(speedUsage);
    return;
  }
  const [core, samplers] = await Promise.all([loadPackage('core'), loadPackage('samplers')]);
  const doc = readResults(options.out, () => freshDocument(machine, options));
  checkCompatible(doc, options.out, { machine, config: options });
  const { plan, pending, peerSkipped } = planRun(options, doc, core, samplers);
  if (pending.length === 0) {
    log(`[speed] all ${plan.length} cells are already in ${shown(options.out)}; nothing to measure (--force re-measures them)`);
    return { doc, path: options.out };
  }
  doc.config.cs = [...new Set([...doc.config.cs, ...options.cs])].sort((a, b) => a - b);
  const session = openSession(doc, argv, peerSkipped);
  const run = createRun({ options, core, samplers, doc, session, pending });
  logStart(run, machine, plan.length);
  const onSignal = (/** @type {NodeJS.Signals} */ signal) => interrupt(run, signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    run.save();
    const backends = await loadBackends(run);
    await measurePeaks(run, backends);
    for (const model of options.models) await measureModel(run, backends, model);
    session.status = 'complete';
  } catch (error) {
    session.status = `failed: ${/** @type {Error} */ (error).message.split('\n')[0]}`;
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    closeSession(run);
    log(`[speed] ${session.status}; results in ${shown(options.out)}; render docs/results.md with \`pnpm bench report\``);
  }
  return { doc, path: options.out };
}

/**
 * The backend packages and a factory of the backends the cells run on.
 *
 * @typedef {object} Backends
 * @property {import('./lib/types.js').BackendOnnxPackage} backendOnnx
 * @property {(id: SpeedBackend) => Promise<import('./lib/types.js').SpeedBackendInstance | undefined>} create
 *   a backend, or undefined when it cannot start here (the reason is recorded in the session and logged)
 */

/**
 * Loads backend-onnx (the parity reference and the peak's graph builder) and, when a tfjs cell is
 * pending, backend-tfjs.
 *
 * @param {SpeedRun} run
 * @returns {Promise<Backends>}
 */
async function loadBackends({ options, session, pending }) {
  const backendOnnx = await loadPackage('backend-onnx');
  const backendTfjs = pending.some((p) => p.backend.startsWith('tfjs')) ? await loadPackage('backend-tfjs') : undefined;
  /** @type {Backends['create']} */
  const create = async (id) => {
    try {
      if (id === 'onnx') return await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: options.threads });
      // Loaded whenever a tfjs cell is pending, which is the only way to get here with a tfjs id.
      return await /** @type {import('./lib/types.js').BackendTfjsPackage} */ (backendTfjs).createTfjsBackend({ engine: tfjsEngines[/** @type {keyof typeof tfjsEngines} */ (id)] });
    } catch (error) {
      const { message } = /** @type {Error} */ (error);
      session.unavailable[id] = message;
      log(`[speed] backend ${id} unavailable, its cells are skipped: ${message.replace(/\s*\n\s*/g, ' ')}`);
      return undefined;
    }
  };
  return { backendOnnx, create };
}

/**
 * The peak cells: a plain large conv and matmul through each runtime (bench/peak.mjs; PyTorch's
 * through the peer), stored with the session's `peaks`.
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 */
async function measurePeaks(run, backends) {
  for (const cell of run.pending.filter((p) => p.kind === 'peak')) {
    const started = performance.now();
    const cpuBefore = cpuSample();
    const measured = cell.backend === 'onnx' ? await onnxPeakOf(run, backends) : cell.backend === 'torch' ? await torchPeak(run) : await tfjsPeakOf(run, backends, cell.backend);
    if (measured === undefined) {
      run.progress.done++;
      continue;
    }
    const { result } = measured;
    const cpu = cell.backend === 'torch' ? measured.cpu : otherCpu(cpuBefore, cpuSample());
    run.store(cell.key, { kind: 'peak', backend: cell.backend, threads: threadsOf(cell.backend, run.options), ...result, ...cpu });
    run.session.peaks[cell.backend] = { conv: result.conv.gflops, matmul: result.matmul.gflops };
    run.progress.finish(
      `peak ${cell.backend}: conv ${result.conv.gflops} GFLOP/s, matmul ${result.matmul.gflops} GFLOP/s (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
}

/**
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @returns {Promise<{ result: PeakResult, cpu?: undefined }>}
 */
async function onnxPeakOf({ options }, { backendOnnx }) {
  return { result: await onnxPeak({ ort: loadOnnxRuntime(), GraphBuilder: backendOnnx.GraphBuilder, threads: options.threads, timing: options.timing }) };
}

/**
 * The peak on a tfjs engine; undefined when the engine cannot start here.
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @param {SpeedBackend} id
 * @returns {Promise<{ result: PeakResult, cpu?: undefined } | undefined>}
 */
async function tfjsPeakOf({ options }, backends, id) {
  // A tfjs id: a tfjs backend.
  const backend = /** @type {import('./lib/types.js').TfjsBackendInstance | undefined} */ (await backends.create(id));
  if (backend === undefined) return undefined;
  try {
    const tf = loadTfjs();
    if (tf.getBackend() !== backend.tfBackend) throw new Error(`tfjs runs ${tf.getBackend()}, expected ${backend.tfBackend}: bench/ resolved a second copy of @tensorflow/tfjs`);
    return { result: await tfjsPeak({ tf, timing: options.timing }) };
  } finally {
    backend.dispose();
  }
}

/**
 * PyTorch's peak, through the peer, with the other CPU use the peer reports with it; undefined when
 * the peer cannot run here.
 *
 * @param {SpeedRun} run
 * @returns {Promise<{ result: PeakResult, cpu: OtherCpu | null | undefined } | undefined>}
 */
async function torchPeak(run) {
  if (!run.torchAvailable()) return undefined;
  /** @type {PeakResult | undefined} */
  let result;
  /** @type {OtherCpu | null | undefined} */
  let cpu;
  await runTorchPeer({
    python: run.options.python,
    directory: run.temporary,
    job: { threads: run.options.threads, timing: { ...run.options.timing, slowRoundMs: 10_000 }, models: {}, parity: [], predict: [], sample: [], peak: peakShapes },
    onMessage: (message, peerCpu) => {
      if (message.type === 'info') recordTorchInfo(run.session, message);
      if (message.type === 'peak') {
        result = { conv: message.conv, matmul: message.matmul };
        cpu = peerCpu;
      }
    },
  });
  // The peer prints its peak before it exits 0 (runTorchPeer rejects otherwise).
  return { result: /** @type {PeakResult} */ (result), cpu };
}

/**
 * The PyTorch peer's versions and threads, for the session.
 *
 * @param {SpeedSession} session
 * @param {Extract<import('./lib/types.js').PeerMessage, { type: 'info' }>} message
 */
function recordTorchInfo(session, message) {
  session.torch = { torch: message.torch, numpy: message.numpy, python: message.python, threads: message.threads, interopThreads: message.interopThreads, mkldnn: message.mkldnn, blas: message.blas };
}

/**
 * A model's random weights (and its side-path variant's when the interpolate fill is timed).
 *
 * @typedef {object} ModelUnderTest
 * @property {ModelContext} context
 * @property {NamedTensors} weights
 * @property {NamedTensors | undefined} sideWeights
 */

/**
 * Every pending cell of one model: levelskip's backends, then the PyTorch peer (parity first, a
 * precondition of its timings, then its cells).
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @param {string} model
 */
async function measureModel(run, backends, model) {
  const { core, samplers, options, progress } = run;
  const modelCells = run.pending.filter(/** @returns {p is PlannedModelCell} */ (p) => p.kind !== 'peak' && p.model === model);
  if (modelCells.length === 0) return;
  const context = modelContext(core, samplers, model);
  const weights = core.randomWeights(context.spec, weightOptions);
  const sideWeights = options.fills.includes('interpolate') ? core.randomWeights(context.sideSpec, weightOptions) : undefined;
  /** @type {ModelUnderTest} */
  const underTest = { context, weights, sideWeights };
  for (const backendId of options.backends.filter((b) => b !== 'torch')) {
    const cells = modelCells.filter(/** @returns {p is PlannedTimedCell} */ (p) => p.backend === backendId);
    if (cells.length > 0) await measureBackendCells(run, backends, underTest, backendId, cells);
  }
  const torchCells = modelCells.filter((p) => p.backend === 'torch');
  if (torchCells.length > 0 && run.torchAvailable()) await measureTorchCells(run, backends, underTest, torchCells);
  else if (torchCells.length > 0) progress.done += torchCells.length;
}

/**
 * One model's cells on one of levelskip's backends: a denoiser per fill (prepared for every k where
 * the backend builds variants ahead of time), its predict and sample cells in turn.
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @param {ModelUnderTest} underTest
 * @param {SpeedBackend} backendId
 * @param {PlannedTimedCell[]} cells
 */
async function measureBackendCells(run, backends, underTest, backendId, cells) {
  const { context } = underTest;
  const backend = await backends.create(backendId);
  if (backend === undefined) {
    run.progress.done += cells.length;
    return;
  }
  try {
    for (const fill of run.options.fills) {
      const fillCells = cells.filter((p) => p.fill === fill);
      if (fillCells.length === 0) continue;
      const spec = specForFill(context, fill);
      // The interpolate fill's cells exist only when --fills has it, and then sideWeights do too.
      const denoiser = await backend.createDenoiser(spec, /** @type {NamedTensors} */ (fill === 'interpolate' ? underTest.sideWeights : underTest.weights));
      try {
        if (typeof denoiser.prepare === 'function' && fill !== 'cache') {
          await denoiser.prepare({ ks: Array.from({ length: context.levels }, (_, k) => k), fills: [run.core.parseFill(fill)] });
        }
        for (const cell of fillCells) await measureCell(run, { context, denoiser, spec, cell });
      } finally {
        denoiser.dispose();
      }
    }
  } finally {
    backend.dispose();
  }
}

/**
 * Measures and stores one predict or sample cell of levelskip's backends.
 *
 * @param {SpeedRun} run
 * @param {{ context: ModelContext, denoiser: AnyDenoiser, spec: import('./lib/types.js').UNetSpec, cell: PlannedTimedCell }} what
 */
async function measureCell(run, { context, denoiser, spec, cell }) {
  const { core, samplers, options, progress } = run;
  const { model, backend, batch, fill } = cell;
  const label = `${cell.kind} ${model} ${backend} b${batch} ${fill}`;
  const started = performance.now();
  const cpuBefore = cpuSample();
  const common = { model, backend, backendName: denoiser.backend, batch, fill, sidePaths: spec.sidePaths, threads: threadsOf(backend, options) };
  if (cell.kind === 'predict') {
    const result = await measurePredict({ core, denoiser, context, spec, batch, fill, timing: options.timing, progress, label });
    const cpu = otherCpu(cpuBefore, cpuSample());
    run.store(cell.key, { kind: 'predict', ...common, ...result, ...cpu });
    progress.finish(`${label}: ${formatKs(result.ks)} ms${noCacheText(result)}, ${result.ks[0].runs} rounds, ${((performance.now() - started) / 1000).toFixed(1)} s${otherCpuText(cpu)}`);
  } else {
    const result = await measureSample({ core, samplers, denoiser, batch, fill, cs: options.cs, timing: options.timing, progress, label });
    const schedules = result.schedules.map((s) => ({ ...s, kHistogram: histogramOf(scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : fill).effective, context.levels) }));
    const cpu = otherCpu(cpuBefore, cpuSample());
    run.store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: result.sampler, steps: result.steps, seed: 1, schedules, ...cpu });
    progress.finish(`${label}: ${schedulesText(schedules)}${otherCpuText(cpu)}`);
  }
}

/**
 * The PyTorch peer's cells of one model: the checkpoints and the job (parity cases from
 * levelskip-onnx, predict and sample items), then its answers stored as they arrive.
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @param {ModelUnderTest} underTest
 * @param {PlannedModelCell[]} torchCells
 */
async function measureTorchCells(run, backends, underTest, torchCells) {
  const model = underTest.context.name;
  const { job, items, parity } = await torchJob(run, backends, underTest, torchCells);
  await runTorchPeer({ python: run.options.python, directory: run.temporary, job, onMessage: torchMessageHandler(run, underTest.context, job, items) });
  if (parity && run.doc.cells[cellKey.parity(model)]?.session !== run.session.id) throw new Error(`the PyTorch peer returned no parity result for ${model}`);
}

/**
 * Writes the model's checkpoints (the side-path variant's too when interpolate or parity needs it)
 * and the peer's job for `torchCells`.
 *
 * @param {SpeedRun} run
 * @param {Backends} backends
 * @param {ModelUnderTest} underTest
 * @param {PlannedModelCell[]} torchCells
 * @returns {Promise<{ job: PeerJob, items: Map<string, PlannedModelCell>, parity: boolean }>}
 */
async function torchJob({ core, options, temporary }, { backendOnnx }, { context, weights, sideWeights }, torchCells) {
  const model = context.name;
  const directories = { base: join(temporary, `${model}-base`), side: join(temporary, `${model}-side`) };
  await core.saveCheckpoint(directories.base, { spec: context.spec, weights });
  const torchFills = new Set(torchCells.map((p) => (p.kind === 'parity' ? undefined : p.fill)));
  const needsSide = torchFills.has('interpolate') || torchCells.some((p) => p.kind === 'parity');
  const side = sideWeights ?? (needsSide ? core.randomWeights(context.sideSpec, weightOptions) : undefined);
  if (side) await core.saveCheckpoint(directories.side, { spec: context.sideSpec, weights: side });
  const parity = torchCells.some((p) => p.kind === 'parity');
  /** @type {PeerJob} */
  const job = { threads: options.threads, timing: { ...options.timing, slowRoundMs: 10_000 }, models: directories, parity: [], predict: [], sample: [], peak: null };
  if (parity) {
    // Parity checks interpolate on the side-path model, so `side` exists here.
    const cases = await parityCases({ core, backendOnnx, context, weights, sideWeights: /** @type {NamedTensors} */ (side), threads: options.threads });
    // Interpolate runs on the side-path model: one parity entry per checkpoint.
    for (const id of ['base', 'side']) {
      const runs = cases.runs.filter((r) => (r.model === 'side') === (id === 'side')).map(({ model: _model, ...r }) => r);
      job.parity.push({ model: id, name: `${model}${id === 'side' ? ' (sidePaths)' : ''}`, tolerance: parityTolerance, inputs: cases.inputs, runs });
    }
  }
  /** @type {Map<string, PlannedModelCell>} */
  const items = new Map();
  for (const cell of torchCells) {
    if (cell.kind === 'predict') {
      // A multi-decoder U-Net: every stage × k at the stage's timestep, as levelskip's cells time it.
      const where = context.multiStage ? { stages: context.stages.map(({ stage, timestep }) => ({ stage, timestep })) } : { timestep: predictTimestep };
      job.predict.push({ key: cell.key, model: cell.fill === 'interpolate' ? 'side' : 'base', batch: cell.batch, fill: cell.fill, ks: Array.from({ length: context.levels }, (_, k) => k), ...where });
    } else if (cell.kind === 'sample') {
      const schedules = [0, ...options.cs].map((c) => ({ c, ks: scheduleKs(core, context, 'ddim50', c, 'zero').nominal }));
      job.sample.push({ key: cell.key, model: cell.fill === 'interpolate' ? 'side' : 'base', batch: cell.batch, fill: cell.fill, timesteps: context.timesteps.ddim50, schedules, rounds: options.timing.sampleRounds });
    }
    items.set(cell.key, cell);
  }
  return { job, items, parity };
}

/**
 * Stores the PyTorch peer's answers as they arrive: its versions, the parity cell (when every
 * parity entry has answered, or at once when one failed: the peer stops there and exits 3), and
 * its predict and sample cells, each checked against what levelskip asked for and computes.
 *
 * @param {SpeedRun} run
 * @param {ModelContext} context
 * @param {PeerJob} job
 * @param {Map<string, PlannedModelCell>} items the job's cells by key
 * @returns {(message: import('./lib/types.js').PeerMessage, cpu: OtherCpu | null) => void}
 */
function torchMessageHandler(run, context, job, items) {
  const { options, session } = run;
  const model = context.name;
  /** @type {Array<Extract<import('./lib/types.js').PeerMessage, { type: 'parity' }>>} */
  const parityResults = [];
  let started = performance.now();
  return (message, cpu) => {
    if (message.type === 'info') {
      recordTorchInfo(session, message);
      return;
    }
    if (message.type === 'parity') {
      parityResults.push(message);
      if (parityResults.length === job.parity.length || !message.passed) storeTorchParity(run, model, parityResults);
      return;
    }
    if (message.type === 'peak') throw new Error(`the PyTorch peer sent a peak for ${model}, whose job asks for none`);
    const cell = /** @type {PlannedTimedCell | undefined} */ (items.get(message.key));
    if (cell === undefined) throw new Error(`the PyTorch peer answered for unknown cell ${message.key}`);
    const common = { model, backend: 'torch', backendName: `torch-${session.torch?.torch ?? 'unknown'}-cpu`, batch: cell.batch, fill: cell.fill, sidePaths: cell.fill === 'interpolate', threads: options.threads, ...cpu };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    started = performance.now();
    if (message.type === 'predict') storeTorchPredict(run, context, cell, message, common, `${seconds} s${otherCpuText(cpu)}`);
    else storeTorchSample(run, context, cell, message, common, otherCpuText(cpu));
  };
}

/**
 * The parity cell, from every parity entry the peer answered.
 *
 * @param {SpeedRun} run
 * @param {string} model
 * @param {Array<Extract<import('./lib/types.js').PeerMessage, { type: 'parity' }>>} parityResults
 */
function storeTorchParity(run, model, parityResults) {
  const cases = parityResults.flatMap((r) => r.cases.map((c) => ({ ...c, sidePaths: r.model === 'side' })));
  const maxAbsDiff = Math.max(...parityResults.map((r) => r.maxAbsDiff));
  const passed = parityResults.every((r) => r.passed);
  run.store(cellKey.parity(model), { kind: 'parity', model, backend: 'torch', against: 'onnx-cpu', tolerance: parityTolerance, passed, maxAbsDiff, cases });
  run.progress.finish(`parity ${model} torch vs levelskip-onnx: max |Δε| = ${maxAbsDiff.toExponential(2)} over ${cases.length} cases, ${passed ? 'passed' : 'FAILED'}`);
}

/**
 * A PyTorch predict cell, in the same shape as levelskip's (measurePredict): per stage for a
 * multi-decoder U-Net. The peer must have timed exactly the (stage, k) asked for.
 *
 * @param {SpeedRun} run
 * @param {ModelContext} context
 * @param {PlannedTimedCell} cell
 * @param {Extract<import('./lib/types.js').PeerMessage, { type: 'predict' }>} message
 * @param {import('./lib/types.js').TimedCellFields} common
 * @param {string} tail the progress line's end: seconds and other CPU use
 */
function storeTorchPredict(run, context, cell, message, common, tail) {
  const timed = message.ks.map((e) => `${e.stage ?? 0}|${e.k}`).join();
  const asked = context.stages.flatMap(({ stage }) => Array.from({ length: context.levels }, (_, k) => `${context.multiStage ? stage : 0}|${k}`)).join();
  if (timed !== asked) throw new Error(`the PyTorch peer timed (stage|k) ${timed} for ${cell.key}, expected ${asked}`);
  if (context.multiStage) {
    run.store(cell.key, { kind: 'predict', ...common, stages: context.stages, ks: message.ks, ...(message.baselines ? { baselines: message.baselines } : {}) });
  } else {
    run.store(cell.key, { kind: 'predict', ...common, timestep: predictTimestep, ks: message.ks, ...(message.baseline ? { baseline: message.baseline } : {}) });
  }
  run.progress.finish(`predict ${context.name} torch b${cell.batch} ${cell.fill}: ${formatKs(message.ks)} ms${noCacheText(message)}, ${tail}`);
}

/**
 * A PyTorch sample cell. The peer picks each step's decoder stage and applies the cache rule
 * itself; both must agree with core's.
 *
 * @param {SpeedRun} run
 * @param {ModelContext} context
 * @param {PlannedTimedCell} cell
 * @param {Extract<import('./lib/types.js').PeerMessage, { type: 'sample' }>} message
 * @param {import('./lib/types.js').TimedCellFields} common
 * @param {string} tail the progress line's end: other CPU use
 */
function storeTorchSample(run, context, cell, message, common, tail) {
  const { core } = run;
  const expectedStages = scheduleKs(core, context, 'ddim50', 0, 'zero').stages;
  if (message.stages.join() !== expectedStages.join()) throw new Error(`PyTorch peer ran stages ${message.stages.join()} for ${cell.key}, expected ${expectedStages.join()}`);
  const schedules = message.schedules.map(({ effectiveKs, ...s }) => {
    const expected = scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : cell.fill).effective;
    if (effectiveKs.join() !== expected.join()) throw new Error(`PyTorch peer ran ks ${effectiveKs.join()} for ${cell.key} c=${s.c}, expected ${expected.join()}`);
    return { ...s, kHistogram: histogramOf(effectiveKs, context.levels) };
  });
  run.store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: 'torch DDIM(eta=0) loop, same timesteps and ks', steps: context.timesteps.ddim50.length, seed: 1, schedules });
  run.progress.finish(`sample ${context.name} torch b${cell.batch} ${cell.fill}: ${schedulesText(schedules)}${tail}`);
}

/**
 * Steps at each depth k = 0 .. levels-1.
 *
 * @param {readonly number[]} ks
 * @param {number} levels
 * @returns {number[]}
 */
function histogramOf(ks, levels) {
  const counts = new Array(levels).fill(0);
  for (const k of ks) counts[k]++;
  return counts;
}
