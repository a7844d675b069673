#!/usr/bin/env node
/**
 * Benchmark of `denoiser.predict()` on onnxruntime (CPU execution provider) beside tfjs (wasm
 * engine): the mnistSmall and ddpmCifar10 presets with random weights, every depth k (zero fill),
 * batch 1 and 16. Each figure is the median wall time of predict() plus reading the result back,
 * after warm-up runs (sessions are opened before timing).
 *
 * Then, for DDIM-50 with the power schedule k(t) = ⌊N − N·t^c⌋ at c = 1, 2, 3, 5 (Giladi et al.):
 * the FLOP-predicted fraction of time saved (core's `predictedTimeSaved`) beside the fraction the
 * measured per-k times give for the schedule's k histogram, and for mnistSmall one real
 * `sample()` run at c = 2 against a full-depth run (median of 3 alternating runs each).
 *
 * Not a test (tests never assert timings). It lives in the integration package because it
 * imports both backends and the samplers (which no backend package may). Build first:
 *   pnpm --filter @levelskip/core build && pnpm --filter @levelskip/samplers build \
 *     && pnpm --filter @levelskip/backend-tfjs build && pnpm --filter @levelskip/backend-onnx build
 *   node test/integration/scripts/bench-predict.mjs [--json] [--presets mnistSmall,ddpmCifar10]
 *     [--backends onnx,tfjs] [--batches 1,16] [--min-ms 1500] [--threads N]
 * With --json only the JSON document is written to stdout.
 */
import { loadavg, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { flopTable, flopsAtDepth, parseUNetSpec, powerSchedule, predictedTimeSaved, presets, randomWeights, zeroFill } from '@levelskip/core';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { ddim, sample } from '@levelskip/samplers';
import { createOnnxBackend } from '@levelskip/backend-onnx';

function parseArgs(argv) {
  const args = { json: false, presets: ['mnistSmall', 'ddpmCifar10'], backends: ['onnx', 'tfjs'], batches: [1, 16], minMs: 1500, threads: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--presets') args.presets = argv[++i].split(',');
    else if (a === '--backends') args.backends = argv[++i].split(',');
    else if (a === '--batches') args.batches = argv[++i].split(',').map(Number);
    else if (a === '--min-ms') args.minMs = Number(argv[++i]);
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; use --json, --presets, --backends onnx,tfjs, --batches 1,16, --min-ms N, --threads N`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => {
  if (!args.json) console.error(...m);
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Repetitions: a predict that takes seconds (ddpmCifar10 at batch 16 on wasm) gets one warm-up and 2 timed runs. */
async function timePredict(denoiser, x, timesteps, k) {
  const once = async () => {
    const start = performance.now();
    const out = await denoiser.predict(x, timesteps, { k, fill: zeroFill });
    await denoiser.ops.toFloat32(out);
    const ms = performance.now() - start;
    denoiser.ops.dispose(out);
    return ms;
  };
  // The first call at a new batch size pays for allocations and kernel set-up: never timed.
  await once();
  const second = await once();
  const slow = second > 1000;
  const times = slow ? [second] : [];
  const minRuns = slow ? 2 : 5;
  const begin = performance.now();
  while (times.length < minRuns || (!slow && performance.now() - begin < args.minMs)) times.push(await once());
  return { ms: median(times), runs: times.length };
}

async function makeBackend(kind) {
  if (kind === 'onnx') return createOnnxBackend({ executionProviders: ['cpu'], ...(args.threads ? { intraOpNumThreads: args.threads } : {}) });
  if (kind === 'tfjs') return createTfjsBackend({ engine: 'wasm' });
  throw new Error(`unknown backend ${kind}`);
}

const steps = 50;
const cs = [1, 2, 3, 5];
const loadBefore = loadavg();
const predictResults = [];
const savedResults = [];
const sampleResults = [];

for (const presetName of args.presets) {
  const spec = parseUNetSpec(presets[presetName]);
  const weights = randomWeights(spec, { seed: 0 });
  const table = flopTable(spec);
  const N = spec.channelMults.length;
  for (const kind of args.backends) {
    const backend = await makeBackend(kind);
    const denoiser = await backend.createDenoiser(spec, weights);
    if (denoiser.prepare) await denoiser.prepare({ ks: Array.from({ length: N }, (_, k) => k), fills: [zeroFill] });
    for (const batch of args.batches) {
      const size = batch * spec.inChannels * spec.imageSize * spec.imageSize;
      const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 0.5);
      const x = backend.ops.fromFloat32(data, [batch, spec.inChannels, spec.imageSize, spec.imageSize]);
      const timesteps = Array.from({ length: batch }, () => 999);
      const msByK = [];
      for (let k = 0; k < N; k++) {
        const { ms, runs } = await timePredict(denoiser, x, timesteps, k);
        msByK.push(ms);
        const gflop = (flopsAtDepth(table, k) * batch) / 1e9;
        predictResults.push({ preset: presetName, backend: backend.name, batch, k, msPerPredict: Number(ms.toFixed(3)), runs, gflopPerSecond: Number((gflop / (ms / 1000)).toFixed(2)) });
        log(`${presetName} ${backend.name} batch ${batch} k=${k}: ${ms.toFixed(2)} ms (${runs} runs)`);
      }
      backend.ops.dispose(x);
      for (const c of cs) {
        const predicted = predictedTimeSaved(spec, powerSchedule({ c }), steps);
        const scheduled = predicted.ks.reduce((sum, k) => sum + msByK[k], 0);
        const histogram = Array.from({ length: N }, (_, k) => predicted.ks.filter((v) => v === k).length);
        savedResults.push({
          preset: presetName,
          backend: backend.name,
          batch,
          c,
          kHistogram: histogram,
          predictedSaved: Number(predicted.fractionSaved.toFixed(4)),
          measuredSaved: Number((1 - scheduled / (steps * msByK[0])).toFixed(4)),
        });
      }
    }
    if (presetName === 'mnistSmall') {
      for (const batch of args.batches) {
        const run = async (skip) => {
          const start = performance.now();
          await sample({ denoiser, sampler: ddim({ steps }), batch, seed: 1, ...(skip ? { skip } : {}) });
          return performance.now() - start;
        };
        await run(powerSchedule({ c: 2 })); // warm-up
        // Alternating runs, medians: the machine may be shared.
        const fulls = [];
        const skips = [];
        for (let r = 0; r < 3; r++) {
          fulls.push(await run(undefined));
          skips.push(await run(powerSchedule({ c: 2 })));
        }
        const full = median(fulls);
        const skipped = median(skips);
        const predicted = predictedTimeSaved(spec, powerSchedule({ c: 2 }), steps).fractionSaved;
        sampleResults.push({
          preset: presetName,
          backend: backend.name,
          batch,
          c: 2,
          fullMs: Number(full.toFixed(1)),
          scheduledMs: Number(skipped.toFixed(1)),
          measuredSaved: Number((1 - skipped / full).toFixed(4)),
          predictedSaved: Number(predicted.toFixed(4)),
        });
        log(`sample() DDIM-50 ${backend.name} batch ${batch}: full ${full.toFixed(0)} ms, c=2 ${skipped.toFixed(0)} ms`);
      }
    }
    denoiser.dispose();
    backend.dispose();
  }
}

const report = {
  benchmark: 'predict',
  node: process.version,
  cpus: cpus().length,
  loadAverage: { before: loadBefore.map((v) => Number(v.toFixed(2))), after: loadavg().map((v) => Number(v.toFixed(2))) },
  note: 'median ms of predict() + reading the result back (zero fill); saved = 1 − Σ_steps time(k_i) / (50 · time(0)) for DDIM-50 with powerSchedule(c)',
  predict: predictResults,
  timeSaved: savedResults,
  sample: sampleResults,
};

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

if (args.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  console.log(`predict() (${process.version}, ${report.cpus} CPUs, load average ${report.loadAverage.before.join(' ')} → ${report.loadAverage.after.join(' ')})`);
  console.log(`${report.note}\n`);
  const keys = [...new Set(predictResults.map((r) => `${r.preset}|${r.batch}|${r.k}`))];
  const backends = [...new Set(predictResults.map((r) => r.backend))];
  const rows = keys.map((key) => {
    const [preset, batch, k] = key.split('|');
    const cells = backends.map((b) => predictResults.find((r) => r.backend === b && `${r.preset}|${r.batch}|${r.k}` === key));
    const ratio = cells.length === 2 && cells[0] && cells[1] ? `${(cells[1].msPerPredict / cells[0].msPerPredict).toFixed(2)}×` : '';
    return [preset, batch, k, ...cells.map((c) => (c ? `${c.msPerPredict.toFixed(2)} (${c.gflopPerSecond.toFixed(0)} GF/s)` : '—')), ratio];
  });
  console.log(table(['preset', 'batch', 'k', ...backends.map((b) => `${b} ms`), backends.length === 2 ? `${backends[1]}/${backends[0]}` : ''], rows));
  console.log('\nDDIM-50 time saved, FLOP-predicted vs from measured per-k times (k histogram over k = 0..N-1):');
  console.log(
    table(
      ['preset', 'backend', 'batch', 'c', 'k histogram', 'predicted', 'measured'],
      savedResults.map((r) => [r.preset, r.backend, r.batch, r.c, r.kHistogram.join('/'), pct(r.predictedSaved), pct(r.measuredSaved)]),
    ),
  );
  if (sampleResults.length > 0) {
    console.log('\nReal sample() runs, DDIM-50, mnistSmall, powerSchedule c = 2 vs full depth:');
    console.log(
      table(
        ['backend', 'batch', 'full ms', 'c=2 ms', 'measured saved', 'predicted'],
        sampleResults.map((r) => [r.backend, r.batch, r.fullMs.toFixed(0), r.scheduledMs.toFixed(0), pct(r.measuredSaved), pct(r.predictedSaved)]),
      ),
    );
  }
}
