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

/**
 * Diffusion timestep of the per-k predict() inputs of single-decoder models (cost does not depend
 * on it). A multi-decoder model's cost does, through the stage t selects: each of its stages is
 * timed at the middle of its t-interval (modelContext's `stages[s].timestep`).
 */
const predictTimestep = 500;
const parityTolerance = 1e-3;
const weightOptions = { seed: 0, jitter: 0.1 };
const tfjsEngines = { 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu', 'tfjs-node': 'node' };

const log = (message) => process.stderr.write(`${message}\n`);
/** A path for messages: relative inside the repository, absolute outside it. */
const shown = (path) => {
  const inside = relative(repositoryRoot, path);
  return inside.startsWith('..') ? path : inside;
};
const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
/** Time saved against the c = 0 run as a signed percentage: −23% is faster, +2% slower. */
const savedText = (ms, fullMs) => {
  const percent = Math.round((1 - ms / fullMs) * 100);
  return `${percent >= 0 ? '−' : '+'}${Math.abs(percent)}%`;
};

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

/** Threads a backend computes with (tfjs-wasm in Node is the single-threaded SIMD build). */
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
 */
export function peerUnsupported(context) {
  if (Math.abs(context.spec.normEps - 1e-5) > 1e-12) {
    return `the PyTorch peer's reference U-Net (scripts/dev/torch-reference-unet.py) uses group-norm ε = 1e-5; this spec has normEps ${context.spec.normEps}`;
  }
  return null;
}

/** Every unit of work the flags ask for, in run order; `peerSkipped` holds the models the PyTorch peer cannot run. */
function planCells(options, peerSkipped = new Set()) {
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

class Progress {
  constructor(total) {
    this.total = total;
    this.done = 0;
  }

  line(message) {
    log(`[speed ${this.done}/${this.total}] ${message}`);
  }

  finish(message) {
    this.done++;
    this.line(message);
  }
}

/** Deterministic NCHW input. */
function inputOf(core, spec, batch, seed) {
  const shape = [batch, spec.inChannels, spec.imageSize, spec.imageSize];
  return { shape, data: new core.SeededRng(seed).normal(shape.reduce((a, b) => a * b, 1)) };
}

/**
 * predict() per k on one denoiser; for the cache fill also the plain full network as baseline.
 * A multi-decoder model: per stage and k, at the stage's timestep (entries carry `stage`; the
 * cache fill's baselines are per stage too), all in the same interleaved rounds.
 */
async function measurePredict({ core, denoiser, context, spec, batch, fill, timing, progress, label }) {
  const { ops } = denoiser;
  const input = inputOf(core, spec, batch, 0);
  const x = ops.fromFloat32(input.data, input.shape);
  const fillStrategy = core.parseFill(fill);
  const caches = [];
  const levels = denoiser.levels;
  const timestepOf = (stage) => (context.multiStage ? context.stages[stage].timestep : predictTimestep);
  const call = (stage, k, options) => async () => {
    const out = await denoiser.predict(x, timestepOf(stage), { k, ...options });
    await ops.toFloat32(out);
    ops.dispose(out);
  };
  try {
    const candidates = [];
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
    const ks = [];
    const baselines = [];
    results.forEach((result, i) => {
      const { baseline, stage, k } = labels[i];
      if (baseline) baselines.push({ stage, ...result });
      else ks.push({ ...(context.multiStage ? { stage } : {}), k, ...result });
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

/** ", other CPU 0.03 cores" for a progress line (empty where it was not measured). */
function otherCpuText(cpu) {
  return cpu ? `, other CPU ${cpu.otherCores} cores` : '';
}

/** One line of per-k medians: `k0 … · k1 …`, per stage for a multi-decoder model. */
function formatKs(ks) {
  const stages = [...new Set(ks.map((e) => e.stage))];
  const line = (entries) => entries.map((e) => `k${e.k} ${fmt(e.ms)}`).join(' · ');
  if (stages.length === 1 && stages[0] === undefined) return line(ks);
  return stages.map((stage) => `stage ${stage}: ${line(ks.filter((e) => e.stage === stage))}`).join(' | ');
}

/** Real DDIM-50 sample() runs at c = 0 (the full network, no fill, no cache) and each c, alternating. */
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
 */
async function parityCases({ core, backendOnnx, context, weights, sideWeights, threads }) {
  const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: threads });
  const encode = (data, shape) => ({ shape, float32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });
  const x = inputOf(core, context.spec, 2, 7);
  const x2 = inputOf(core, context.spec, 2, 8);
  const runs = [];
  try {
    for (const [fill, spec, w] of [
      ['zero', context.spec, weights],
      ['duplicate', context.spec, weights],
      ['interpolate', context.sideSpec, sideWeights],
      ['cache', context.spec, weights],
    ]) {
      const denoiser = await backend.createDenoiser(spec, w);
      const { ops } = denoiser;
      const tx = ops.fromFloat32(x.data, x.shape);
      const tx2 = ops.fromFloat32(x2.data, x2.shape);
      try {
        for (const { stage } of context.stages) {
          const timesteps = stageTimesteps(core, context, stage, [0.999, 0.42]);
          const warmTimesteps = stageTimesteps(core, context, stage, [0.13, 0.87]);
          for (let k = fill === 'zero' ? 0 : 1; k < context.levels; k++) {
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

/** Runs the speed suite with the given command-line arguments. */
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
  // Models the PyTorch peer cannot run (peerUnsupported) get no PyTorch cells, with the reason recorded.
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
  const measured = plan.filter((p) => options.force || doc.cells[p.key] === undefined || (p.kind === 'parity' && !doc.cells[p.key].passed));
  // Every session that times model cells measures the peaks again, first: machines of one name can
  // differ in speed from day to day (2× in onnxruntime's conv peak between two VMs here), so achieved GFLOP/s is read against
  // the peaks of the session that timed it (session.peaks), never against another session's.
  const timesModels = measured.some((p) => p.kind === 'predict' || p.kind === 'sample');
  const pending = plan.filter((p) => (p.kind === 'peak' && timesModels) || measured.includes(p));
  if (pending.length === 0) {
    log(`[speed] all ${plan.length} cells are already in ${shown(options.out)}; nothing to measure (--force re-measures them)`);
    return { doc, path: options.out };
  }
  doc.config.cs = [...new Set([...doc.config.cs, ...options.cs])].sort((a, b) => a - b);

  const session = {
    id: doc.sessions.length,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    argv,
    loadAverageStart: loadAverage(),
    loadAverageEnd: null,
    versions: runtimeVersions(),
    torch: null,
    openblasPthread: debianPackage('libopenblas0-pthread'),
    git: gitInfo(),
    // <backend>: { conv, matmul } GFLOP/s measured at this session's start (see `timesModels`).
    peaks: {},
    // <backend>: reason the whole backend was unavailable; <backend>|<model>: only that model's cells.
    unavailable: Object.fromEntries([...peerSkipped].map(([model, reason]) => [`torch|${model}`, reason])),
  };
  doc.sessions.push(session);

  const save = () => {
    doc.derived = deriveSpeedTables(doc, { core, samplers });
    writeResults(options.out, doc);
  };
  const store = (key, cell) => {
    doc.cells[key] = { ...cell, session: session.id, measuredAt: new Date().toISOString() };
    save();
  };

  log(
    `[speed] ${machine.cpuModel}, ${machine.cores} cores, load ${session.loadAverageStart.join(' ')}; ${pending.length} of ${plan.length} cells to measure ` +
      `(${plan.length - pending.length} already in ${shown(options.out)})${options.quick ? '; QUICK smoke run: figures are not results' : ''}`,
  );
  if (session.loadAverageStart[0] > machine.cores * 0.25 && !options.quick) {
    log(`[speed] warning: load average ${session.loadAverageStart[0]} on ${machine.cores} cores; timings on a busy machine are not comparable`);
  }
  const progress = new Progress(pending.length);
  const temporary = mkdtempSync(join(tmpdir(), 'levelskip-bench-'));
  // Ctrl-C / SIGTERM: the cells measured so far are already saved; record the session as
  // interrupted (not "running") and leave no temporary files. A rerun resumes with the rest.
  // Node runs the handler only when the event loop is free, and a tfjs-wasm cell runs as one
  // chain of promises, so it can take effect only after the current cell (minutes for tfjs at
  // batch 16); a second Ctrl-C, with no handler left, stops at once (the session stays "running").
  const onSignal = (signal) => {
    session.status = `interrupted (${signal}): rerun the same command to measure the remaining cells`;
    session.finishedAt = new Date().toISOString();
    session.loadAverageEnd = loadAverage();
    save();
    rmSync(temporary, { recursive: true, force: true });
    log(`[speed] ${session.status}`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
  const torchInfo = (message) => {
    session.torch = { torch: message.torch, numpy: message.numpy, python: message.python, threads: message.threads, interopThreads: message.interopThreads, mkldnn: message.mkldnn, blas: message.blas };
  };

  try {
    save();
    const backendOnnx = await loadPackage('backend-onnx');
    const backendTfjs = pending.some((p) => p.backend.startsWith('tfjs')) ? await loadPackage('backend-tfjs') : undefined;

    const createBackend = async (id) => {
      try {
        if (id === 'onnx') return await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: options.threads });
        return await backendTfjs.createTfjsBackend({ engine: tfjsEngines[id] });
      } catch (error) {
        session.unavailable[id] = error.message;
        log(`[speed] backend ${id} unavailable, its cells are skipped: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
        return undefined;
      }
    };

    // Peaks.
    for (const cell of pending.filter((p) => p.kind === 'peak')) {
      const started = performance.now();
      const cpuBefore = cpuSample();
      let result;
      let cpu;
      if (cell.backend === 'onnx') {
        result = await onnxPeak({ ort: loadOnnxRuntime(), GraphBuilder: backendOnnx.GraphBuilder, threads: options.threads, timing: options.timing });
      } else if (cell.backend === 'torch') {
        if (!torchAvailable()) {
          progress.done++;
          continue;
        }
        await runTorchPeer({
          python: options.python,
          directory: temporary,
          job: { threads: options.threads, timing: { ...options.timing, slowRoundMs: 10_000 }, models: {}, parity: [], predict: [], sample: [], peak: peakShapes },
          onMessage: (message, peerCpu) => {
            if (message.type === 'info') torchInfo(message);
            if (message.type === 'peak') {
              result = { conv: message.conv, matmul: message.matmul };
              cpu = peerCpu;
            }
          },
        });
      } else {
        const backend = await createBackend(cell.backend);
        if (backend === undefined) {
          progress.done++;
          continue;
        }
        try {
          const tf = loadTfjs();
          if (tf.getBackend() !== backend.tfBackend) throw new Error(`tfjs runs ${tf.getBackend()}, expected ${backend.tfBackend}: bench/ resolved a second copy of @tensorflow/tfjs`);
          result = await tfjsPeak({ tf, timing: options.timing });
        } finally {
          backend.dispose();
        }
      }
      if (cell.backend !== 'torch') cpu = otherCpu(cpuBefore, cpuSample());
      store(cell.key, { kind: 'peak', backend: cell.backend, threads: threadsOf(cell.backend, options), ...result, ...cpu });
      session.peaks[cell.backend] = { conv: result.conv.gflops, matmul: result.matmul.gflops };
      progress.finish(
        `peak ${cell.backend}: conv ${result.conv.gflops} GFLOP/s, matmul ${result.matmul.gflops} GFLOP/s (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }

    for (const model of options.models) {
      const modelCells = pending.filter((p) => p.model === model && p.kind !== 'peak');
      if (modelCells.length === 0) continue;
      const context = modelContext(core, samplers, model);
      const weights = core.randomWeights(context.spec, weightOptions);
      const sideWeights = options.fills.includes('interpolate') ? core.randomWeights(context.sideSpec, weightOptions) : undefined;
      const weightsForFill = (fill) => (fill === 'interpolate' ? sideWeights : weights);

      for (const backendId of options.backends.filter((b) => b !== 'torch')) {
        const cells = modelCells.filter((p) => p.backend === backendId);
        if (cells.length === 0) continue;
        const backend = await createBackend(backendId);
        if (backend === undefined) {
          progress.done += cells.length;
          continue;
        }
        try {
          for (const fill of options.fills) {
            const fillCells = cells.filter((p) => p.fill === fill);
            if (fillCells.length === 0) continue;
            const spec = specForFill(context, fill);
            const denoiser = await backend.createDenoiser(spec, weightsForFill(fill));
            try {
              if (typeof denoiser.prepare === 'function' && fill !== 'cache') {
                await denoiser.prepare({ ks: Array.from({ length: context.levels }, (_, k) => k), fills: [fill] });
              }
              for (const cell of fillCells) {
                const label = `${cell.kind} ${model} ${backendId} b${cell.batch} ${fill}`;
                const started = performance.now();
                const cpuBefore = cpuSample();
                const common = { model, backend: backendId, backendName: denoiser.backend, batch: cell.batch, fill, sidePaths: spec.sidePaths, threads: threadsOf(backendId, options) };
                if (cell.kind === 'predict') {
                  const result = await measurePredict({ core, denoiser, context, spec, batch: cell.batch, fill, timing: options.timing, progress, label });
                  const cpu = otherCpu(cpuBefore, cpuSample());
                  store(cell.key, { kind: 'predict', ...common, ...result, ...cpu });
                  const noCache = result.baseline ? [result.baseline] : (result.baselines ?? []);
                  progress.finish(
                    `${label}: ${formatKs(result.ks)} ms${noCache.length > 0 ? ` (no cache: ${noCache.map((b) => fmt(b.ms)).join(' | ')})` : ''}, ` +
                      `${result.ks[0].runs} rounds, ${((performance.now() - started) / 1000).toFixed(1)} s${otherCpuText(cpu)}`,
                  );
                } else {
                  const result = await measureSample({ core, samplers, denoiser, batch: cell.batch, fill, cs: options.cs, timing: options.timing, progress, label });
                  const schedules = result.schedules.map((s) => ({ ...s, kHistogram: histogramOf(scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : fill).effective, context.levels) }));
                  const cpu = otherCpu(cpuBefore, cpuSample());
                  store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: result.sampler, steps: result.steps, seed: 1, schedules, ...cpu });
                  const t0 = schedules[0].ms;
                  progress.finish(`${label}: ${schedules.map((s) => `c${s.c} ${fmt(s.ms)} ms${s.c === 0 ? '' : ` (${savedText(s.ms, t0)})`}`).join(' · ')}${otherCpuText(cpu)}`);
                }
              }
            } finally {
              denoiser.dispose();
            }
          }
        } finally {
          backend.dispose();
        }
      }

      // The PyTorch peer: parity first (a precondition of its timings), then its cells.
      const torchCells = modelCells.filter((p) => p.backend === 'torch');
      if (torchCells.length > 0 && torchAvailable()) {
        const directories = { base: join(temporary, `${model}-base`), side: join(temporary, `${model}-side`) };
        await core.saveCheckpoint(directories.base, { spec: context.spec, weights });
        const torchFills = new Set(torchCells.map((p) => p.fill));
        const needsSide = torchFills.has('interpolate') || torchCells.some((p) => p.kind === 'parity');
        const side = sideWeights ?? (needsSide ? core.randomWeights(context.sideSpec, weightOptions) : undefined);
        if (side) await core.saveCheckpoint(directories.side, { spec: context.sideSpec, weights: side });
        const parityCell = torchCells.find((p) => p.kind === 'parity');
        const job = { threads: options.threads, timing: { ...options.timing, slowRoundMs: 10_000 }, models: directories, parity: [], predict: [], sample: [], peak: null };
        if (parityCell) {
          const cases = await parityCases({ core, backendOnnx, context, weights, sideWeights: side, threads: options.threads });
          // Interpolate runs on the side-path model: one parity entry per checkpoint.
          for (const id of ['base', 'side']) {
            const runs = cases.runs.filter((r) => (r.model === 'side') === (id === 'side')).map(({ model: _model, ...r }) => r);
            job.parity.push({ model: id, name: `${model}${id === 'side' ? ' (sidePaths)' : ''}`, tolerance: parityTolerance, inputs: cases.inputs, runs });
          }
        }
        const items = new Map();
        for (const cell of torchCells) {
          const modelId = cell.fill === 'interpolate' ? 'side' : 'base';
          if (cell.kind === 'predict') {
            // A multi-decoder U-Net: every stage × k at the stage's timestep, as levelskip's cells time it.
            const where = context.multiStage ? { stages: context.stages.map(({ stage, timestep }) => ({ stage, timestep })) } : { timestep: predictTimestep };
            job.predict.push({ key: cell.key, model: modelId, batch: cell.batch, fill: cell.fill, ks: Array.from({ length: context.levels }, (_, k) => k), ...where });
          } else if (cell.kind === 'sample') {
            const schedules = [0, ...options.cs].map((c) => ({ c, ks: scheduleKs(core, context, 'ddim50', c, 'zero').nominal }));
            job.sample.push({ key: cell.key, model: modelId, batch: cell.batch, fill: cell.fill, timesteps: context.timesteps.ddim50, schedules, rounds: options.timing.sampleRounds });
          }
          items.set(cell.key, cell);
        }
        const parityResults = [];
        let started = performance.now();
        await runTorchPeer({
          python: options.python,
          directory: temporary,
          job,
          onMessage: (message, cpu) => {
            if (message.type === 'info') {
              torchInfo(message);
              return;
            }
            if (message.type === 'parity') {
              parityResults.push(message);
              // Stored when complete, or at once when failed (the peer stops there and exits 3).
              if (parityResults.length === job.parity.length || !message.passed) {
                const cases = parityResults.flatMap((r) => r.cases.map((c) => ({ ...c, sidePaths: r.model === 'side' })));
                const maxAbsDiff = Math.max(...parityResults.map((r) => r.maxAbsDiff));
                const passed = parityResults.every((r) => r.passed);
                store(cellKey.parity(model), { kind: 'parity', model, backend: 'torch', against: 'onnx-cpu', tolerance: parityTolerance, passed, maxAbsDiff, cases });
                progress.finish(`parity ${model} torch vs levelskip-onnx: max |Δε| = ${maxAbsDiff.toExponential(2)} over ${cases.length} cases, ${passed ? 'passed' : 'FAILED'}`);
              }
              return;
            }
            const cell = items.get(message.key);
            if (cell === undefined) throw new Error(`the PyTorch peer answered for unknown cell ${message.key}`);
            const common = { model, backend: 'torch', backendName: `torch-${session.torch?.torch ?? 'unknown'}-cpu`, batch: cell.batch, fill: cell.fill, sidePaths: cell.fill === 'interpolate', threads: options.threads, ...cpu };
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            started = performance.now();
            if (message.type === 'predict') {
              // The same cell shape as levelskip's predict cells (measurePredict): per stage for a multi-decoder U-Net.
              const timed = message.ks.map((e) => `${e.stage ?? 0}|${e.k}`).join();
              const asked = context.stages.flatMap(({ stage }) => Array.from({ length: context.levels }, (_, k) => `${context.multiStage ? stage : 0}|${k}`)).join();
              if (timed !== asked) throw new Error(`the PyTorch peer timed (stage|k) ${timed} for ${cell.key}, expected ${asked}`);
              const noCache = message.baseline ? [message.baseline] : (message.baselines ?? []);
              if (context.multiStage) {
                store(cell.key, { kind: 'predict', ...common, stages: context.stages, ks: message.ks, ...(message.baselines ? { baselines: message.baselines } : {}) });
              } else {
                store(cell.key, { kind: 'predict', ...common, timestep: predictTimestep, ks: message.ks, ...(message.baseline ? { baseline: message.baseline } : {}) });
              }
              progress.finish(
                `predict ${model} torch b${cell.batch} ${cell.fill}: ${formatKs(message.ks)} ms${noCache.length > 0 ? ` (no cache: ${noCache.map((b) => fmt(b.ms)).join(' | ')})` : ''}, ${seconds} s${otherCpuText(cpu)}`,
              );
            } else if (message.type === 'sample') {
              // The peer picks each step's decoder stage itself; it must agree with core's stageForTime.
              const expectedStages = scheduleKs(core, context, 'ddim50', 0, 'zero').stages;
              if (message.stages.join() !== expectedStages.join()) throw new Error(`PyTorch peer ran stages ${message.stages.join()} for ${cell.key}, expected ${expectedStages.join()}`);
              const schedules = message.schedules.map(({ effectiveKs, ...s }) => {
                // The peer applies the cache rule itself; it must agree with ours.
                const expected = scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : cell.fill).effective;
                if (effectiveKs.join() !== expected.join()) throw new Error(`PyTorch peer ran ks ${effectiveKs.join()} for ${cell.key} c=${s.c}, expected ${expected.join()}`);
                return { ...s, kHistogram: histogramOf(effectiveKs, context.levels) };
              });
              store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: 'torch DDIM(eta=0) loop, same timesteps and ks', steps: context.timesteps.ddim50.length, seed: 1, schedules });
              const t0 = schedules[0].ms;
              progress.finish(`sample ${model} torch b${cell.batch} ${cell.fill}: ${schedules.map((s) => `c${s.c} ${fmt(s.ms)} ms${s.c === 0 ? '' : ` (${savedText(s.ms, t0)})`}`).join(' · ')}${otherCpuText(cpu)}`);
            }
          },
        });
        if (parityCell && doc.cells[cellKey.parity(model)]?.session !== session.id) throw new Error(`the PyTorch peer returned no parity result for ${model}`);
      } else if (torchCells.length > 0) {
        progress.done += torchCells.length;
      }
    }
    session.status = 'complete';
  } catch (error) {
    session.status = `failed: ${error.message.split('\n')[0]}`;
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.finishedAt = new Date().toISOString();
    session.loadAverageEnd = loadAverage();
    save();
    rmSync(temporary, { recursive: true, force: true });
    log(`[speed] ${session.status}; results in ${shown(options.out)}; render docs/results.md with \`pnpm bench report\``);
  }
  return { doc, path: options.out };
}

function histogramOf(ks, levels) {
  const counts = new Array(levels).fill(0);
  for (const k of ks) counts[k]++;
  return counts;
}
