#!/usr/bin/env node
/**
 * Training throughput of `train()` on the tfjs engines: the mnistSmall preset (N = 4 levels,
 * 32×32×1) with random data, zero fill, uniform scheme (k ~ U{0..3} per batch), Adam, gradient
 * clipping and EMA, as in a real run. Also forward-only throughput (`denoiser.predict`).
 *
 * On wasm each step's wall time is recorded with its k (after warm-up steps); the "uniform"
 * figure is B / mean_k(median step time at k), the expected throughput of the uniform scheme,
 * which a short run's random k's would only estimate noisily. cpu (plain JavaScript) is very
 * slow (its Conv2DBackpropFilter is a naive loop: one batch-16 step takes minutes), so it runs one
 * training step and one forward pass per k at batch --cpu-batch (default 2). With --torch the PyTorch peer
 * (scripts/dev/torch-train-bench.py, same architecture, 2 threads) runs too and the table gets
 * the ratio tfjs-wasm / PyTorch. --workers 1,2 trains wasm with each number of threads
 * (`train({ workers })`: data-parallel over Node worker threads; forward passes stay on one thread).
 *
 * Not a test (tests never assert timings). Build first:
 *   pnpm --filter @levelskip/core build && pnpm --filter @levelskip/backend-tfjs build && pnpm --filter @levelskip/train-tfjs build
 *   node packages/train-tfjs/scripts/bench-train.mjs [--batch 16,32] [--engines wasm,cpu]
 *        [--steps 40] [--cpu-batch 2] [--workers 1,2] [--torch] [--json]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SeededRng, parseUNetSpec, presets, randomWeights, zeroFill } from '@levelskip/core';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { train } from '../dist/index.js';

function parseArgs(argv) {
  const args = { json: false, engines: ['wasm', 'cpu'], batches: [16], steps: 40, warmup: 3, torch: false, forwardRuns: 5, cpuBatch: 2, workers: [1] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--torch') args.torch = true;
    else if (a === '--engines') args.engines = argv[++i].split(',');
    else if (a === '--batch') args.batches = argv[++i].split(',').map(Number);
    else if (a === '--steps') args.steps = Number(argv[++i]);
    else if (a === '--cpu-batch') args.cpuBatch = Number(argv[++i]);
    else if (a === '--workers') args.workers = argv[++i].split(',').map(Number);
    else throw new Error(`unknown argument ${a}; use --batch 16,32, --engines wasm,cpu, --steps N, --cpu-batch N, --workers 1,2, --torch, --json`);
  }
  return args;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function dataset(spec, count) {
  const size = spec.inChannels * spec.imageSize * spec.imageSize;
  const images = new SeededRng(1).uniform(count * size).map((v) => 2 * v - 1);
  return { images, count, shape: [count, spec.inChannels, spec.imageSize, spec.imageSize] };
}

/** Step times by k from a uniform-scheme run of `steps` steps (the first `warmup` dropped). */
async function timeTraining(spec, engine, batch, steps, warmup, workers) {
  const byK = new Map();
  let last;
  const result = await train({
    spec,
    data: dataset(spec, 4 * batch),
    steps,
    batchSize: batch,
    scheme: 'uniform',
    fill: zeroFill,
    engine,
    workers,
    seed: 1,
    onProgress: ({ step, k }) => {
      const now = performance.now();
      if (step > warmup && last !== undefined) byK.set(k, [...(byK.get(k) ?? []), now - last]);
      last = now;
    },
  });
  const perK = {};
  for (const [k, times] of [...byK].sort((a, b) => a[0] - b[0])) perK[k] = { ms: median(times), steps: times.length, imagesPerSecond: batch / (median(times) / 1000) };
  const ks = Object.keys(perK);
  const uniform = ks.length === spec.channelMults.length ? batch / (ks.reduce((s, k) => s + perK[k].ms, 0) / ks.length / 1000) : undefined;
  return { perK, uniformImagesPerSecond: uniform, runImagesPerSecond: result.stats.imagesPerSecond, steps };
}

async function timeForward(spec, engine, batch, runs) {
  const backend = await createTfjsBackend({ engine });
  const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 1 }));
  const x = backend.ops.fromFloat32(dataset(spec, batch).images, [batch, spec.inChannels, spec.imageSize, spec.imageSize]);
  const perK = {};
  for (let k = 0; k < spec.channelMults.length; k++) {
    const times = [];
    for (let i = 0; i < runs + 1; i++) {
      const start = performance.now();
      const out = await denoiser.predict(x, 500, { k, fill: zeroFill });
      await out.data();
      out.dispose();
      times.push(performance.now() - start);
    }
    // The first run warms up; with runs = 0 (cpu) it is all there is.
    if (times.length > 1) times.shift();
    perK[k] = { ms: median(times), imagesPerSecond: batch / (median(times) / 1000) };
  }
  backend.ops.dispose(x);
  backend.dispose();
  const mean = Object.values(perK).reduce((s, r) => s + r.ms, 0) / spec.channelMults.length;
  return { perK, uniformImagesPerSecond: batch / (mean / 1000) };
}

function runTorch(batches) {
  const script = fileURLToPath(new URL('../../../scripts/dev/torch-train-bench.py', import.meta.url));
  const out = spawnSync('/usr/bin/python3', [script, '--json', '--batch', ...batches.map(String)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`torch-train-bench.py failed:\n${out.stderr}`);
  return JSON.parse(out.stdout);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = args.json ? () => undefined : (...m) => console.log(...m);
  const spec = parseUNetSpec(presets.mnistSmall);
  const report = { spec: 'mnistSmall', loadBefore: loadavg(), results: [] };
  const runs = [];
  for (const batch of args.batches) {
    for (const engine of args.engines.filter((e) => e !== 'cpu')) for (const workers of args.workers) runs.push({ engine, batch, workers });
  }
  if (args.engines.includes('cpu')) runs.push({ engine: 'cpu', batch: args.cpuBatch, workers: 1 });
  const forwards = new Map();
  for (const { engine, batch, workers } of runs) {
    const slow = engine === 'cpu';
    log(`${engine} batch ${batch} workers ${workers}: training…`);
    const load = loadavg()[0];
    const training = await timeTraining(spec, engine, batch, slow ? 1 : args.steps, slow ? 0 : args.warmup, workers);
    // The forward pass runs on one thread whatever `workers` is: measure it once per engine and batch.
    const key = `${engine}/${batch}`;
    if (!forwards.has(key)) {
      log(`${engine} batch ${batch}: forward…`);
      forwards.set(key, await timeForward(spec, engine, batch, slow ? 0 : args.forwardRuns));
    }
    report.results.push({ engine, batch, workers, loadBefore: load, training, forward: forwards.get(key) });
  }
  if (args.torch) report.torch = runTorch(args.batches);
  report.loadAfter = loadavg();

  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const fmt = (v) => (v === undefined ? '—' : v >= 1 ? v.toFixed(1) : v.toPrecision(2));
  log(`\nmnistSmall, zero fill, uniform scheme; load average before ${report.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${report.loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  log('engine         batch  train img/s (uniform)  per k (0..3)                      forward img/s (uniform)  per k');
  for (const r of report.results) {
    const label = `tfjs-${r.engine}${r.workers > 1 ? ` ×${r.workers}` : ''}`;
    const trainK = [0, 1, 2, 3].map((k) => fmt(r.training.perK[k]?.imagesPerSecond)).join(' ');
    const fwdK = [0, 1, 2, 3].map((k) => fmt(r.forward.perK[k]?.imagesPerSecond)).join(' ');
    const train = r.training.uniformImagesPerSecond ?? r.training.runImagesPerSecond;
    log(`${label.padEnd(13)} ${String(r.batch).padStart(5)}  ${fmt(train).padStart(21)}  ${trainK.padEnd(32)}  ${fmt(r.forward.uniformImagesPerSecond).padStart(23)}  ${fwdK}`);
  }
  if (report.torch) {
    for (const row of report.torch.batches) {
      const trainK = [0, 1, 2, 3].map((k) => fmt(row.train[k].imagesPerSecond)).join(' ');
      const fwdK = [0, 1, 2, 3].map((k) => fmt(row.forward[k].imagesPerSecond)).join(' ');
      log(`torch-cpu${String(report.torch.threads).padStart(2)}    ${String(row.batch).padStart(5)}  ${fmt(row.train.uniform.imagesPerSecond).padStart(21)}  ${trainK.padEnd(32)}  ${fmt(row.forward.uniform.imagesPerSecond).padStart(23)}  ${fwdK}`);
      for (const wasm of report.results.filter((r) => r.engine === 'wasm' && r.batch === row.batch)) {
        if (wasm.training.uniformImagesPerSecond === undefined) continue;
        log(
          `  ratio tfjs-wasm (workers ${wasm.workers}) / PyTorch at batch ${row.batch}: train ${(wasm.training.uniformImagesPerSecond / row.train.uniform.imagesPerSecond).toFixed(2)}×, ` +
            `forward ${(wasm.forward.uniformImagesPerSecond / row.forward.uniform.imagesPerSecond).toFixed(2)}×`,
        );
      }
    }
  }
  if (report.results.some((r) => r.training.uniformImagesPerSecond === undefined)) {
    log('(— : a k the run did not draw; the train figure is then the run’s measured images/s)');
  }
}

await main();
