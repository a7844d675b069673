/**
 * `pnpm bench speed`: the paper's Table 2 (Giladi et al., time saved by skipping levels,
 * measured against FLOP-predicted) with levelskip's backends and a PyTorch CPU peer.
 *
 * For each model (mnistSmall, ddpmCifar10; random weights: timing does not depend on training),
 * backend, batch and fill it measures
 * - predict() per depth k: interleaved rounds, medians (the per-step cost the DDPM-1000
 *   equivalent and the DDIM-50 equivalent are priced from);
 * - real DDIM-50 sample() runs at c = 0 and each c, alternating in order, for the models in
 *   --sample-models (default mnistSmall);
 * - once per runtime, a plain large conv and matmul (peak GFLOP/s, bench/peak.mjs);
 * - PyTorch parity (the peer must compute what levelskip-onnx computes, to 1e-3) before the
 *   peer's timings.
 * Every finished cell is written to the results file at once; cells already there are skipped
 * (resume) unless --force. Derived tables (bench/speed-tables.mjs) are stored with the cells.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseSpeedArgs, speedUsage } from './lib/args.mjs';
import { debianPackage, gitInfo, loadAverage, machineInfo, machineSlug, runtimeVersions } from './lib/machine.mjs';
import { cellKey, checkCompatible, readResults, speedSchema, writeResults } from './lib/results-file.mjs';
import { timeInterleaved } from './lib/timing.mjs';
import { probeTorch, runTorchPeer } from './lib/torch-peer.mjs';
import { loadOnnxRuntime, loadPackage, loadTfjs, repositoryRoot } from './lib/workspace.mjs';
import { onnxPeak, peakShapes, tfjsPeak } from './peak.mjs';
import { deriveSpeedTables, modelContext, scheduleKs, specForFill } from './speed-tables.mjs';

/** Diffusion timestep of the per-k predict() inputs (cost does not depend on it). */
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

/** Every unit of work the flags ask for, in run order. */
function planCells(options) {
  const plan = [];
  if (options.parts.includes('peak')) for (const backend of options.backends) plan.push({ kind: 'peak', backend, key: cellKey.peak(backend) });
  for (const model of options.models) {
    if (options.backends.includes('torch') && (options.parts.includes('parity') || options.parts.includes('predict') || options.parts.includes('sample'))) {
      plan.push({ kind: 'parity', model, backend: 'torch', key: cellKey.parity(model) });
    }
    for (const backend of options.backends) {
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

/** predict() per k on one denoiser; for the cache fill also the plain full network as baseline. */
async function measurePredict({ core, denoiser, spec, batch, fill, timing, progress, label }) {
  const { ops } = denoiser;
  const input = inputOf(core, spec, batch, 0);
  const x = ops.fromFloat32(input.data, input.shape);
  const fillStrategy = core.parseFill(fill);
  const caches = [];
  const levels = denoiser.levels;
  const call = (k, options) => async () => {
    const out = await denoiser.predict(x, predictTimestep, { k, ...options });
    await ops.toFloat32(out);
    ops.dispose(out);
  };
  try {
    const candidates = [];
    if (fill === 'cache') candidates.push(call(0, {}));
    for (let k = 0; k < levels; k++) {
      if (fill === 'cache') {
        // The features a skipped step reads, stored by a full-depth step, as in a sampling run.
        const cache = denoiser.createFeatureCache();
        caches.push(cache);
        await call(0, { fill: fillStrategy, cache })();
        if (k > 0 && !cache.has(0, levels - 1 - k)) throw new Error(`${label}: the feature cache holds no features for k = ${k} after a full-depth step`);
        candidates.push(call(k, { fill: fillStrategy, cache }));
      } else {
        candidates.push(call(k, { fill: fillStrategy }));
      }
    }
    const results = await timeInterleaved(candidates, {
      ...timing,
      onRound: (round, elapsed) => {
        if (elapsed > 20_000) progress.line(`${label}: round ${round}, ${(elapsed / 1000).toFixed(0)} s`);
      },
    });
    const baseline = fill === 'cache' ? results.shift() : undefined;
    return { ks: results.map((r, k) => ({ k, ...r })), ...(baseline ? { baseline } : {}) };
  } finally {
    for (const cache of caches) cache.dispose();
    ops.dispose(x);
  }
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

/** ε from levelskip-onnx for the parity cases the PyTorch peer checks. */
async function parityCases({ core, backendOnnx, context, weights, sideWeights, threads }) {
  const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: threads });
  const encode = (data, shape) => ({ shape, float32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });
  const x = inputOf(core, context.spec, 2, 7);
  const x2 = inputOf(core, context.spec, 2, 8);
  const timesteps = [999, 420];
  const warmTimesteps = [130, 870];
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
            k,
            fill,
            input: 'x',
            timesteps,
            ...(fill === 'cache' ? { warmup: { input: 'x2', timesteps: warmTimesteps } } : {}),
            expected: encode(eps, x.shape),
            ...(fill === 'interpolate' ? { model: 'side' } : {}),
          });
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
  const plan = planCells(options);
  // A failed parity check is redone: the peer's timings count only after it passes.
  const pending = plan.filter((p) => options.force || doc.cells[p.key] === undefined || (p.kind === 'parity' && !doc.cells[p.key].passed));
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
    unavailable: {},
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
      let result;
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
          onMessage: (message) => {
            if (message.type === 'info') torchInfo(message);
            if (message.type === 'peak') result = { conv: message.conv, matmul: message.matmul };
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
      store(cell.key, { kind: 'peak', backend: cell.backend, threads: threadsOf(cell.backend, options), ...result });
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
                const common = { model, backend: backendId, backendName: denoiser.backend, batch: cell.batch, fill, sidePaths: spec.sidePaths, threads: threadsOf(backendId, options) };
                if (cell.kind === 'predict') {
                  const result = await measurePredict({ core, denoiser, spec, batch: cell.batch, fill, timing: options.timing, progress, label });
                  store(cell.key, { kind: 'predict', ...common, timestep: predictTimestep, ...result });
                  progress.finish(
                    `${label}: ${result.ks.map((e) => `k${e.k} ${fmt(e.ms)}`).join(' · ')} ms${result.baseline ? ` (no cache: ${fmt(result.baseline.ms)})` : ''}, ` +
                      `${result.ks[0].runs} rounds, ${((performance.now() - started) / 1000).toFixed(1)} s`,
                  );
                } else {
                  const result = await measureSample({ core, samplers, denoiser, batch: cell.batch, fill, cs: options.cs, timing: options.timing, progress, label });
                  const schedules = result.schedules.map((s) => ({ ...s, kHistogram: histogramOf(scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : fill).effective, context.levels) }));
                  store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: result.sampler, steps: result.steps, seed: 1, schedules });
                  const t0 = schedules[0].ms;
                  progress.finish(`${label}: ${schedules.map((s) => `c${s.c} ${fmt(s.ms)} ms${s.c === 0 ? '' : ` (−${((1 - s.ms / t0) * 100).toFixed(0)}%)`}`).join(' · ')}`);
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
            job.predict.push({ key: cell.key, model: modelId, batch: cell.batch, fill: cell.fill, ks: Array.from({ length: context.levels }, (_, k) => k), timestep: predictTimestep });
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
          onMessage: (message) => {
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
            const common = { model, backend: 'torch', backendName: `torch-${session.torch?.torch ?? 'unknown'}-cpu`, batch: cell.batch, fill: cell.fill, sidePaths: cell.fill === 'interpolate', threads: options.threads };
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            started = performance.now();
            if (message.type === 'predict') {
              store(cell.key, { kind: 'predict', ...common, timestep: predictTimestep, ks: message.ks, ...(message.baseline ? { baseline: message.baseline } : {}) });
              progress.finish(`predict ${model} torch b${cell.batch} ${cell.fill}: ${message.ks.map((e) => `k${e.k} ${fmt(e.ms)}`).join(' · ')} ms, ${seconds} s`);
            } else if (message.type === 'sample') {
              const schedules = message.schedules.map(({ effectiveKs, ...s }) => {
                // The peer applies the cache rule itself; it must agree with ours.
                const expected = scheduleKs(core, context, 'ddim50', s.c, s.c === 0 ? 'zero' : cell.fill).effective;
                if (effectiveKs.join() !== expected.join()) throw new Error(`PyTorch peer ran ks ${effectiveKs.join()} for ${cell.key} c=${s.c}, expected ${expected.join()}`);
                return { ...s, kHistogram: histogramOf(effectiveKs, context.levels) };
              });
              store(cell.key, { kind: 'sample', ...common, sampler: 'ddim50', samplerDescription: 'torch DDIM(eta=0) loop, same timesteps and ks', steps: context.timesteps.ddim50.length, seed: 1, schedules });
              const t0 = schedules[0].ms;
              progress.finish(`sample ${model} torch b${cell.batch} ${cell.fill}: ${schedules.map((s) => `c${s.c} ${fmt(s.ms)} ms${s.c === 0 ? '' : ` (−${((1 - s.ms / t0) * 100).toFixed(0)}%)`}`).join(' · ')}`);
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
