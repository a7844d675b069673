#!/usr/bin/env node
/**
 * Benchmark of `denoiser.predict()` on the tfjs engines: the mnistSmall preset (N = 4 levels,
 * 32×32) with random weights, every depth k = 0..3 (zero fill), batch 1 and 16 on wasm and
 * batch 1 on cpu (the plain-JavaScript engine is slow). Each figure is the median wall time of
 * predict() plus reading the result back, after warm-up runs.
 *
 * Not a test (tests never assert timings). Build first:
 *   pnpm --filter @levelskip/core build && pnpm --filter @levelskip/backend-tfjs build
 *   node packages/backend-tfjs/scripts/bench-predict.mjs [--json] [--engines wasm,cpu] [--min-ms 1500]
 * With --json only the JSON document is written to stdout.
 */
import { performance } from 'node:perf_hooks';
import { flopTable, flopsAtDepth, parseUNetSpec, presets, randomWeights, zeroFill } from '@levelskip/core';
import { createTfjsBackend } from '../dist/index.js';

function parseArgs(argv) {
  const args = { json: false, engines: ['wasm', 'cpu'], minMs: 1500, minRuns: 5, warmup: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--engines') args.engines = argv[++i].split(',');
    else if (a === '--min-ms') args.minMs = Number(argv[++i]);
    else if (a === '--min-runs') args.minRuns = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; use --json, --engines wasm,cpu, --min-ms N, --min-runs N`);
  }
  return args;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timePredict(denoiser, x, timesteps, k, options) {
  const once = async () => {
    const start = performance.now();
    const out = await denoiser.predict(x, timesteps, { k, fill: zeroFill });
    await out.data();
    const ms = performance.now() - start;
    out.dispose();
    return ms;
  };
  for (let i = 0; i < options.warmup; i++) await once();
  const times = [];
  const begin = performance.now();
  while (times.length < options.minRuns || performance.now() - begin < options.minMs) times.push(await once());
  return { ms: median(times), runs: times.length };
}

const args = parseArgs(process.argv.slice(2));
const spec = parseUNetSpec(presets.mnistSmall);
const weights = randomWeights(spec, { seed: 0 });
const table = flopTable(spec);
const plan = [];
for (const engine of args.engines) for (const batch of engine === 'cpu' ? [1] : [1, 16]) plan.push({ engine, batch });

const results = [];
for (const engine of args.engines) {
  const backend = await createTfjsBackend({ engine });
  const denoiser = await backend.createDenoiser(spec, weights);
  for (const { batch } of plan.filter((p) => p.engine === engine)) {
    const size = batch * spec.inChannels * spec.imageSize * spec.imageSize;
    const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 0.5);
    const x = backend.ops.fromFloat32(data, [batch, spec.inChannels, spec.imageSize, spec.imageSize]);
    const timesteps = Array.from({ length: batch }, () => 999);
    let full;
    for (let k = 0; k < denoiser.levels; k++) {
      const { ms, runs } = await timePredict(denoiser, x, timesteps, k, args);
      full ??= ms;
      const gflop = (flopsAtDepth(table, k) * batch) / 1e9;
      results.push({
        engine: backend.name,
        batch,
        k,
        msPerPredict: Number(ms.toFixed(3)),
        runs,
        speedup: Number((full / ms).toFixed(3)),
        predictedSpeedup: Number((flopsAtDepth(table, 0) / flopsAtDepth(table, k)).toFixed(3)),
        gflopPerSecond: Number((gflop / (ms / 1000)).toFixed(2)),
      });
    }
    backend.ops.dispose(x);
  }
  denoiser.dispose();
  backend.dispose();
}

const report = {
  benchmark: 'predict',
  preset: 'mnistSmall',
  fill: 'zero',
  node: process.version,
  note: 'median ms of predict() + reading the result back; speedup is vs k = 0, predictedSpeedup is the FLOP ratio',
  results,
};
if (args.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const header = ['engine', 'batch', 'k', 'ms/predict', 'speedup', 'FLOP ratio', 'GFLOP/s', 'runs'];
  const rows = results.map((r) => [r.engine, r.batch, r.k, r.msPerPredict.toFixed(2), `${r.speedup.toFixed(2)}×`, `${r.predictedSpeedup.toFixed(2)}×`, r.gflopPerSecond.toFixed(1), r.runs]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(' | ')} |`;
  console.log(`predict() on mnistSmall (${process.version}); ${report.note}`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
