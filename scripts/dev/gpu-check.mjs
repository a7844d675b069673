#!/usr/bin/env node
/**
 * GPU checks of backend-onnx and of the PyTorch peer, for a machine with a GPU (a development
 * tool: the benchmark proper, `pnpm bench speed`, measures the CPU providers).
 *
 *   node scripts/dev/gpu-check.mjs ort [--providers webgpu,cuda] [--model mnist-zero-c2 | --preset NAME]
 *       [--batches 1,16,64,256] [--sample-batches 16,256] [--threads N] [--out FILE.json] [--no-cpu]
 *
 *     For each execution provider: can backend-onnx start it; parity of ε with onnxruntime's CPU
 *     provider at every depth k (max |Δε|, the pretrained weights, batch 4, timesteps 500 and
 *     900); predict() per k and batch (interleaved rounds, medians); DDIM-50 (η = 0) sample() at
 *     c = 0 and c = 2 with the zero fill, alternating rounds, with the final images' max |Δ| from
 *     the CPU provider's. The CPU provider (--threads, default all cores) is timed the same way.
 *
 *   node scripts/dev/gpu-check.mjs peer-job --out JOB.json [--model mnist-zero-c2]
 *       [--batches 1,16,64,256] [--sample-batches 16,256]
 *
 *     Writes a job for scripts/dev/torch-unet-peer.py (`--job JOB.json --device cuda`): parity
 *     against ε that levelskip-onnx (CPU) computed here, predict() per k, and DDIM-50 at c = 0
 *     and c = 2 with levelskip's exact timesteps and ks.
 *
 * The model is read from packages/model-<name> (model.json + safetensors) with core's
 * loadCheckpoint. Output: a table per provider on stdout, JSON to --out.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as core from '../../packages/core/dist/index.js';
import * as samplers from '../../packages/samplers/dist/index.js';
import * as backendOnnx from '../../packages/backend-onnx/dist/index.js';
import { timeInterleaved } from '../../bench/lib/timing.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const log = (message) => process.stderr.write(`${message}\n`);
const list = (text) => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const integers = (name, text) =>
  list(text).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: ${JSON.stringify(s)} is not a positive integer`);
    return n;
  });

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    providers: { type: 'string', default: 'webgpu,cuda' },
    model: { type: 'string', default: 'mnist-zero-c2' },
    preset: { type: 'string' },
    batches: { type: 'string', default: '1,16,64,256' },
    'sample-batches': { type: 'string', default: '16,256' },
    threads: { type: 'string' },
    c: { type: 'string', default: '2' },
    out: { type: 'string' },
    'no-cpu': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const command = positionals[0];
if (values.help || (command !== 'ort' && command !== 'peer-job')) {
  console.log('usage: gpu-check.mjs ort [--providers webgpu,cuda] [--model NAME | --preset NAME] [--batches 1,16,64,256] [--sample-batches 16,256] [--threads N] [--c 2] [--out FILE] [--no-cpu]');
  console.log('       gpu-check.mjs peer-job --out JOB.json [--model NAME] [--batches …] [--sample-batches …] [--c 2]');
  process.exit(values.help ? 0 : 2);
}
const batches = integers('batches', values.batches);
const sampleBatches = integers('sample-batches', values['sample-batches']);
const threads = values.threads === undefined ? availableParallelism() : integers('threads', values.threads)[0];
const c = Number(values.c);
if (!(c > 0)) throw new Error(`--c: ${values.c} is not a positive number`);

// --preset: one of core's presets with random weights (as `pnpm bench speed` times them), for
// the architectures no model is shipped for yet; otherwise a pretrained model's checkpoint.
if (values.preset !== undefined && command === 'peer-job') throw new Error('peer-job reads a checkpoint: give --model, not --preset');
if (values.preset !== undefined && core.presets[values.preset] === undefined) {
  throw new Error(`--preset ${values.preset}: not one of core's presets (${Object.keys(core.presets).join(', ')})`);
}
const { spec, weights } =
  values.preset !== undefined
    ? (() => {
        const presetSpec = core.parseUNetSpec(core.presets[values.preset]);
        return { spec: presetSpec, weights: core.randomWeights(presetSpec, { seed: 0, jitter: 0.1 }) };
      })()
    : await core.loadCheckpoint(join(root, 'packages', `model-${values.model}`));
const modelName = values.preset !== undefined ? `${values.preset} (random weights)` : values.model;
const levels = spec.channelMults.length;
const T = spec.trainTimesteps;
const ddim50 = samplers.ddim({ steps: 50 });
const powerSchedule = core.powerSchedule({ c });
const ksOf = (schedule) => ddim50.timesteps.map((t) => (schedule === null ? 0 : schedule.kAt(t / T, levels)));
const predicted = core.predictedTimeSaved(spec, powerSchedule, ddim50.timesteps, { fill: 'zero' }).fractionSaved;
const timing = { warmupRounds: 2, minRounds: 7, minMs: 400, slowRoundMs: 5_000 };

/** A seeded standard-normal batch, NCHW float32. */
function gaussian(batch, seed) {
  const shape = [batch, spec.inChannels, spec.imageSize, spec.imageSize];
  return { data: core.gaussianNoise(seed, shape), shape };
}

async function predictHost(denoiser, input, timestep, k) {
  const { ops } = denoiser;
  const x = ops.fromFloat32(input.data, input.shape);
  try {
    const out = await denoiser.predict(x, timestep, { k, fill: core.parseFill('zero') });
    try {
      return await ops.toFloat32(out);
    } finally {
      ops.dispose(out);
    }
  } finally {
    ops.dispose(x);
  }
}

const maxAbsDiff = (a, b) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};
const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

const parityInput = gaussian(4, 11);
const parityTimesteps = [500, 900];

async function cpuReference() {
  const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: threads });
  const denoiser = await backend.createDenoiser(spec, weights);
  const eps = [];
  for (const timestep of parityTimesteps) for (let k = 0; k < levels; k++) eps.push({ timestep, k, data: await predictHost(denoiser, parityInput, timestep, k) });
  const sampleRef = await samplers.sample({ denoiser, sampler: ddim50, skip: powerSchedule, batch: 4, seed: 3 });
  denoiser.dispose();
  backend.dispose();
  return { eps, sample: sampleRef.images };
}

async function checkProvider(provider, reference) {
  const result = { provider };
  let backend;
  let denoiser;
  try {
    const started = performance.now();
    backend = await backendOnnx.createOnnxBackend({ executionProviders: [provider], ...(provider === 'cpu' ? { intraOpNumThreads: threads } : {}) });
    denoiser = await backend.createDenoiser(spec, weights);
    result.startMs = Math.round(performance.now() - started);
    result.backend = backend.name;
  } catch (error) {
    result.error = String(error?.message ?? error).slice(0, 2000);
    log(`${provider}: could not start: ${result.error}`);
    backend?.dispose();
    return result;
  }
  try {
    result.parity = [];
    for (const ref of reference.eps) {
      const eps = await predictHost(denoiser, parityInput, ref.timestep, ref.k);
      result.parity.push({ timestep: ref.timestep, k: ref.k, maxAbsDiff: maxAbsDiff(eps, ref.data), maxAbsEps: maxAbs(ref.data) });
    }
    const sampled = await samplers.sample({ denoiser, sampler: ddim50, skip: powerSchedule, batch: 4, seed: 3 });
    result.sampleMaxAbsDiff = maxAbsDiff(sampled.images, reference.sample);
    log(`${provider}: parity max |Δε| ${Math.max(...result.parity.map((p) => p.maxAbsDiff)).toExponential(2)}, DDIM-50 c=${c} images max |Δ| ${result.sampleMaxAbsDiff.toExponential(2)}`);

    const { ops } = denoiser;
    result.predict = [];
    for (const batch of batches) {
      const input = gaussian(batch, 5);
      const x = ops.fromFloat32(input.data, input.shape);
      const candidates = [];
      for (let k = 0; k < levels; k++) {
        candidates.push(async () => {
          const out = await denoiser.predict(x, 500, { k, fill: core.parseFill('zero') });
          await ops.toFloat32(out);
          ops.dispose(out);
        });
      }
      const timed = await timeInterleaved(candidates, timing);
      ops.dispose(x);
      const row = { batch, ks: timed.map((t, k) => ({ k, ms: t.ms, runs: t.runs, minMs: t.minMs, maxMs: t.maxMs })) };
      result.predict.push(row);
      log(`${provider} predict b${batch}: ${row.ks.map((t) => `k${t.k} ${t.ms.toFixed(2)} ms`).join(', ')}`);
    }
    result.sample = [];
    for (const batch of sampleBatches) {
      const run = (skip) => async () => {
        await samplers.sample({ denoiser, sampler: ddim50, ...(skip ? { skip } : {}), batch, seed: 1 });
      };
      const timed = await timeInterleaved([run(null), run(powerSchedule)], { warmupRounds: 1, minRounds: 3, minMs: 0 });
      const row = { batch, fullMs: timed[0].ms, skipMs: timed[1].ms, runs: timed[0].runs, saved: 1 - timed[1].ms / timed[0].ms, predicted };
      result.sample.push(row);
      log(`${provider} DDIM-50 b${batch}: c=0 ${row.fullMs.toFixed(0)} ms, c=${c} ${row.skipMs.toFixed(0)} ms, saved ${(row.saved * 100).toFixed(1)} % (FLOP-predicted ${(predicted * 100).toFixed(1)} %)`);
    }
  } catch (error) {
    result.error = String(error?.stack ?? error).slice(0, 2000);
    log(`${provider}: failed: ${result.error}`);
  } finally {
    denoiser?.dispose();
    backend?.dispose();
  }
  return result;
}

const encode = (data, shape) => ({ shape, float32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') });

if (command === 'peer-job') {
  if (values.out === undefined) throw new Error('peer-job: give --out JOB.json');
  const reference = await cpuReference();
  const job = {
    threads,
    device: 'cuda',
    timing,
    models: { model: join('packages', `model-${values.model}`) },
    parity: [
      {
        model: 'model',
        name: values.model,
        tolerance: 1e-3,
        inputs: { x: encode(parityInput.data, parityInput.shape) },
        runs: reference.eps.map((ref) => ({ k: ref.k, fill: 'zero', input: 'x', timesteps: [ref.timestep], expected: encode(ref.data, parityInput.shape) })),
      },
    ],
    predict: batches.map((batch) => ({ key: `b${batch}`, model: 'model', batch, fill: 'zero', ks: [...Array(levels).keys()], timestep: 500 })),
    sample: sampleBatches.map((batch) => ({
      key: `ddim50 b${batch}`,
      model: 'model',
      batch,
      fill: 'zero',
      timesteps: ddim50.timesteps,
      schedules: [
        { c: 0, ks: ksOf(null) },
        { c, ks: ksOf(powerSchedule) },
      ],
      rounds: 3,
    })),
    peak: null,
  };
  writeFileSync(values.out, `${JSON.stringify(job)}\n`);
  log(`wrote ${values.out} (FLOP-predicted time saved at c = ${c}: ${(predicted * 100).toFixed(1)} %)`);
} else {
  // The CPU provider is always the parity reference; --no-cpu leaves out its timings.
  const providers = [...new Set([...list(values.providers), ...(values['no-cpu'] ? [] : ['cpu'])])];
  log(`model ${modelName} (${spec.channelMults.length} levels), CPU threads ${threads}, providers ${providers.join(', ')}`);
  const reference = await cpuReference();
  const results = [];
  for (const provider of providers) results.push(await checkProvider(provider, reference));
  const doc = { date: new Date().toISOString(), model: modelName, c, predictedSaved: predicted, cpuThreads: threads, results };
  if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(doc, null, 1)}\n`);
  for (const r of results) {
    console.log(`\n## ${r.provider}${r.error ? ` — ${r.parity ? 'failed' : 'unavailable'}: ${r.error.split('\n')[0]}` : ''}`);
    if (r.parity) console.log(`parity with CPU: max |Δε| ${Math.max(...r.parity.map((p) => p.maxAbsDiff)).toExponential(2)} (max |ε| ${Math.max(...r.parity.map((p) => p.maxAbsEps)).toFixed(2)}); DDIM-50 images max |Δ| ${r.sampleMaxAbsDiff?.toExponential(2)}`);
    for (const p of r.predict ?? []) console.log(`predict b${p.batch}: ${p.ks.map((t) => `k=${t.k} ${t.ms.toFixed(2)} ms`).join(' | ')}`);
    for (const s of r.sample ?? []) console.log(`DDIM-50 b${s.batch}: c=0 ${s.fullMs.toFixed(0)} ms, c=${c} ${s.skipMs.toFixed(0)} ms: saved ${(s.saved * 100).toFixed(1)} % (FLOP-predicted ${(s.predicted * 100).toFixed(1)} %)`);
  }
}
