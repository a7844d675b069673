#!/usr/bin/env node
/**
 * Dev script: predictions and per-k predict times of backend-onnx's denoiser from two source trees
 * in one process, interleaved — the working tree ("after") and an untouched copy ("before", e.g.
 * `git archive HEAD packages/core/src packages/backend-onnx/src | tar -x -C /work/scratch/before`).
 * For every k and fill it prints max |Δε| between the two, the median predict time of each and
 * the median over rounds of after/before (rounds alternate before/after, so load on the machine
 * hits both alike; the paired ratio removes drift between rounds).
 *
 *   node packages/backend-onnx/scripts/predict-before-after.mjs --before /work/scratch/before \
 *     [--after <tree, default: the working tree>] [--model model-mnist-full] [--batch 16] [--rounds 15]
 *     [--fills zero,cache,custom]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import * as ort from 'onnxruntime-node';

const here = dirname(fileURLToPath(import.meta.url));
const workingTree = resolve(here, '../../..');
const arg = (name, fallback) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : fallback);
// --after defaults to the working tree; pointing both at one tree measures the noise floor (an A/A run).
const after = resolve(arg('after', workingTree));
const before = arg('before');
if (before === undefined) throw new Error('pass --before <directory holding packages/core/src and packages/backend-onnx/src of the untouched tree>');
const model = arg('model', 'model-mnist-full');
const batch = Number(arg('batch', '16'));
const rounds = Number(arg('rounds', '15'));
const fills = arg('fills', 'zero,cache,custom').split(',');

const out = mkdtempSync(join(tmpdir(), 'predict-before-after-'));
async function load(root, name) {
  const core = join(root, 'packages/core/src');
  const onnx = join(root, 'packages/backend-onnx/src');
  const entry = `
export { createOnnxDenoiser } from ${JSON.stringify(join(onnx, 'backend/onnx-denoiser.ts'))};
export { createOnnxTensorOps } from ${JSON.stringify(join(onnx, 'ops/onnx-tensor-ops.ts'))};
export * as core from '@levelskip/core';
`;
  await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: join(out, `${name}.mjs`),
    alias: { '@levelskip/core': join(core, 'index-node.ts') },
    external: ['onnxruntime-*'],
    // The copy has no node_modules: its packages' dependencies resolve from the working tree's.
    nodePaths: [join(workingTree, 'packages/core/node_modules'), join(workingTree, 'packages/backend-onnx/node_modules'), join(workingTree, 'node_modules')],
    logLevel: 'error',
  });
  return import(pathToFileURL(join(out, `${name}.mjs`)).href);
}
let libs;
try {
  libs = { before: await load(resolve(before), 'before'), after: await load(after, 'after') };
} finally {
  rmSync(out, { recursive: true, force: true });
}
const c = libs.after.core;
const { spec, weights } = await c.loadCheckpoint(join(workingTree, 'packages', model));
const sessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 };
const denoisers = Object.fromEntries(
  Object.entries(libs).map(([name, lib]) => {
    const ops = lib.createOnnxTensorOps('onnx', ort);
    return [name, lib.createOnnxDenoiser(spec, weights, { runtime: ort, name: 'onnx', ops, sessionOptions, onDispose: () => undefined })];
  }),
);
const size = spec.imageSize;
const data = new Float32Array(batch * spec.inChannels * size * size).map((_, i) => Math.sin(i * 0.37));
const x = new ort.Tensor('float32', data, [batch, spec.inChannels, size, size]);
const t = Array.from({ length: batch }, (_, i) => 100 + 37 * i);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
// The duplicate fill written as a custom fill (host ops between the head and tail graphs).
const custom = c.customFill('custom-duplicate', (context, ops) => {
  const channels = ops.shape(context.skip)[1];
  const copies = Math.ceil(context.shape[1] / channels);
  const tiled = ops.concat(new Array(copies).fill(context.skip), 1);
  if (copies * channels === context.shape[1]) return tiled;
  const out = ops.slice(tiled, [0, 0, 0, 0], context.shape);
  ops.dispose(tiled);
  return out;
});

console.log(`${model}, batch ${batch}, ${rounds} rounds, onnxruntime-node CPU, 1 thread`);
console.log('fill    k  max|Δε|      before ms  after ms  after/before (median of paired rounds)');
for (const fillName of fills) {
  const arch = c.describeArchitecture(spec);
  if (fillName !== 'custom' && !c.fillsSupportedBy(spec).includes(c.parseFill(fillName).kind)) {
    console.log(`${fillName.padEnd(7)} -  (not supported by ${model})`);
    continue;
  }
  for (let k = 0; k < arch.levels; k++) {
    const fill = fillName === 'custom' ? custom : c.parseFill(fillName);
    const caches = {};
    const run = async (name) => {
      const options = { k, fill };
      if (c.fillNeedsCache(fill)) {
        // A warm cache: one full-depth step fills it, so the timed step skips.
        caches[name] ??= denoisers[name].createFeatureCache();
        options.cache = caches[name];
        if (!caches[name].size) await denoisers[name].predict(x, t, { k: 0, fill, cache: caches[name] });
      }
      const began = performance.now();
      const eps = await denoisers[name].predict(x, t, options);
      return { ms: performance.now() - began, eps: eps.data };
    };
    const times = { before: [], after: [] };
    let maxDiff = 0;
    for (let r = 0; r < rounds + 2; r++) {
      const order = r % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      const got = {};
      for (const name of order) got[name] = await run(name);
      for (let i = 0; i < got.before.eps.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.before.eps[i] - got.after.eps[i]));
      if (r >= 2) for (const name of order) times[name].push(got[name].ms);
    }
    for (const cache of Object.values(caches)) cache.dispose();
    const ratio = median(times.after.map((ms, i) => ms / times.before[i]));
    console.log(`${fillName.padEnd(7)} ${k}  ${maxDiff.toExponential(2).padEnd(11)}  ${median(times.before).toFixed(2).padStart(9)}  ${median(times.after).toFixed(2).padStart(8)}  ${ratio.toFixed(3)}`);
  }
}
for (const d of Object.values(denoisers)) d.dispose();
