// @ts-check
/**
 * Dev script (issue 25; not a test, not a bench suite): are the ε errors of the steps that read the
 * same cache correlated, and which error model predicts the final-sample deviation?
 *
 *   node bench/dev/cache-correlation.mjs [--batch 64] [--seed 0] [--plans auto:0.445,cache:3,auto-ind:0.445]
 *
 * (`auto-seg` planned with the `cycle` error model, since removed from core; commit 7ba8d5e has it.)
 *
 * Along real DDIM-50 η = 1 trajectories of mnist-full (onnx-cpu), for each plan (k per step, 0 at the
 * cache refreshes; the cache fill without an interval) it runs the plan and, at every cached step,
 * the full-depth model at the same x_t, so e_i = ε_cache − ε_full is the step's actual ε error. A
 * full-depth run with the same seed (the same noise) gives the reference final sample, so
 * D = x_final(plan) − x_final(full) is the deviation the plan causes.
 *
 * Reported: the mean cosine between the e_i of two steps of the same refresh cycle, of adjacent
 * cycles and of cycles further apart; and ‖D‖² against the first-order predictions with the
 * calibration table's weights w_i = a_i² (core's errorWeights with the measured propagation):
 * independent Σ a_i²‖e_i‖², coherent per cycle Σ_c (Σ_{i∈c} a_i‖e_i‖)², coherent over the whole run
 * (Σ a_i‖e_i‖)², and per cycle with the measured cosines Σ_c Σ_{i,j∈c} a_i a_j cos_ij ‖e_i‖‖e_j‖.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackage, repositoryRoot } from '../lib/workspace.mjs';

const { values } = parseArgs({
  options: { batch: { type: 'string', default: '64' }, seed: { type: 'string', default: '0' }, plans: { type: 'string', default: 'auto:0.445,cache:3' }, threads: { type: 'string', default: '1' } },
});
const batch = Number(values.batch);
const seed = Number(values.seed);
const core = /** @type {any} */ (await loadPackage('core'));
const samplers = /** @type {any} */ (await loadPackage('samplers'));
const backendOnnx = /** @type {any} */ (await loadPackage('backend-onnx'));
const pretrained = /** @type {any} */ (await loadPackage('pretrained'));

const { spec, weights, info } = await pretrained.loadPretrained('mnist-full');
void info;
const table = core.parseCalibrationTable(JSON.parse(readFileSync(join(repositoryRoot, 'packages/model-mnist-full/model.json'), 'utf8')).calibration, 'mnist-full model.json');
const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: Number(values.threads) });
const denoiser = await backend.createDenoiser(spec, weights);
const { ops } = denoiser;
const sampler = samplers.ddim({ steps: 50, eta: 1 });
const timesteps = /** @type {number[]} */ (sampler.timesteps);
const n = timesteps.length;
const D = spec.inChannels * spec.imageSize * spec.imageSize;

const propagation = core.propagationLookup(table.propagation);
const w = /** @type {number[]} */ (core.errorWeights({ sampler: 'ddim', eta: 1, noiseSchedule: core.noiseScheduleFromConfig(table.noiseSchedule), timesteps, dataVariance: table.dataVariance, propagation }));
const a = w.map(Math.sqrt);

/** @param {string} name */
function planKs(name) {
  const [kind, arg] = name.split(':');
  if (kind === 'cache') {
    const m = Number(arg);
    return timesteps.map((_, i) => (i % m === 0 ? 0 : 3));
  }
  if (kind === 'auto' || kind === 'auto-seg' || kind === 'auto-ind') {
    const errorModel = kind === 'auto' ? 'coherent' : kind === 'auto-seg' ? 'cycle' : 'independent';
    const s = core.optimalSchedule(table, { sampler: { kind: 'ddim', eta: 1 }, steps: timesteps, budget: Number(arg), fill: 'cache', errorModel });
    return /** @type {number[]} */ ([...s.plan.ks]);
  }
  throw new Error(`unknown plan ${name}`);
}

/** @param {number[]} ks */
function scheduleOf(ks) {
  return core.stageSchedule(core.stageTableFromSteps(timesteps, ks, spec.trainTimesteps));
}

/** @param {Float32Array} x @param {number} from @param {number} to */
const norm2 = (x, from, to) => {
  let s = 0;
  for (let p = from; p < to; p++) s += x[p] * x[p];
  return s;
};
/** @param {Float32Array} x @param {Float32Array} y @param {number} from @param {number} to */
const dot = (x, y, from, to) => {
  let s = 0;
  for (let p = from; p < to; p++) s += x[p] * y[p];
  return s;
};

const full = await samplers.sample({ denoiser, sampler, batch, seed, checkFiniteEvery: 0 });

for (const name of String(values.plans).split(',')) {
  const ks = planKs(name);
  /** @type {Map<number, Float32Array>} */
  const errors = new Map();
  let step = 0;
  const wrapped = {
    specificationVersion: denoiser.specificationVersion,
    spec: denoiser.spec,
    levels: denoiser.levels,
    backend: denoiser.backend,
    ops,
    createFeatureCache: () => denoiser.createFeatureCache(),
    dispose() {},
    /** @param {any} x @param {any} t @param {any} options */
    async predict(x, t, options) {
      const i = step++;
      const out = await denoiser.predict(x, t, options);
      if ((options?.k ?? 0) > 0) {
        const reference = await denoiser.predict(x, t, { k: 0, fill: core.zeroFill });
        const e = await ops.toFloat32(out);
        const r = await ops.toFloat32(reference);
        ops.dispose(reference);
        for (let p = 0; p < e.length; p++) e[p] -= r[p];
        errors.set(i, e);
      }
      return out;
    },
  };
  const run = await samplers.sample({ denoiser: wrapped, sampler, batch, seed, skip: scheduleOf(ks), fill: core.cacheFill, checkFiniteEvery: 0 });
  const ran = /** @type {number[]} */ (run.ks);
  // Refresh cycles: a refresh and the cached steps after it.
  /** @type {number[]} */
  const cycleOf = [];
  let cycle = -1;
  for (let i = 0; i < n; i++) {
    if (ran[i] === 0) cycle++;
    cycleOf.push(cycle);
  }
  const cached = [...errors.keys()];
  const pairs = { same: { sum: 0, count: 0 }, adjacent: { sum: 0, count: 0 }, far: { sum: 0, count: 0 } };
  let independent = 0;
  let perCycle = 0;
  let global = 0;
  let perCycleCos = 0;
  let acrossCos = 0;
  let measured = 0;
  /** @type {Record<number, { sum: number, count: number }>} */
  const byDistance = {};
  for (let b = 0; b < batch; b++) {
    const from = b * D;
    const to = from + D;
    const norms = new Map(cached.map((i) => [i, Math.sqrt(norm2(/** @type {Float32Array} */ (errors.get(i)), from, to))]));
    /** @type {Map<number, number>} */
    const cycleSums = new Map();
    let globalSum = 0;
    for (const i of cached) {
      const amp = a[i] * /** @type {number} */ (norms.get(i));
      independent += amp * amp;
      cycleSums.set(cycleOf[i], (cycleSums.get(cycleOf[i]) ?? 0) + amp);
      globalSum += amp;
    }
    for (const s of cycleSums.values()) perCycle += s * s;
    global += globalSum * globalSum;
    for (const i of cached) {
      for (const j of cached) {
        if (j <= i) continue;
        const ni = /** @type {number} */ (norms.get(i));
        const nj = /** @type {number} */ (norms.get(j));
        if (ni === 0 || nj === 0) continue;
        const cos = dot(/** @type {Float32Array} */ (errors.get(i)), /** @type {Float32Array} */ (errors.get(j)), from, to) / (ni * nj);
        const gap = cycleOf[j] - cycleOf[i];
        const bucket = gap === 0 ? pairs.same : gap === 1 ? pairs.adjacent : pairs.far;
        bucket.sum += cos;
        bucket.count += 1;
        if (gap === 0) {
          const d = byDistance[j - i] ?? (byDistance[j - i] = { sum: 0, count: 0 });
          d.sum += cos;
          d.count += 1;
        }
        const term = 2 * a[i] * a[j] * ni * nj * cos;
        if (gap === 0) perCycleCos += term;
        acrossCos += term;
      }
    }
    measured += norm2(run.images, from, to) - 2 * dot(run.images, full.images, from, to) + norm2(full.images, from, to);
  }
  const mean = (/** @type {number} */ v) => v / batch;
  const cycles = new Set(cached.map((i) => cycleOf[i])).size;
  console.log(`\n${name}: ks ${ran.join('')} (${cached.length} cached steps in ${cycles} cycles), batch ${batch}, seed ${seed}`);
  for (const [label, p] of Object.entries(pairs)) console.log(`  mean cos(e_i, e_j), ${label.padEnd(8)} cycles: ${p.count === 0 ? '-' : (p.sum / p.count).toFixed(3)} (${p.count / batch} pairs per image)`);
  console.log(`  within a cycle, by steps apart: ${Object.entries(byDistance).map(([d, p]) => `${d}: ${(p.sum / p.count).toFixed(3)}`).join(', ')}`);
  console.log(`  measured ‖D‖² per image:                     ${mean(measured).toFixed(3)}`);
  console.log(`  predicted: independent Σ a²‖e‖²               ${mean(independent).toFixed(3)}  (ratio measured/predicted ${(measured / independent).toFixed(2)})`);
  console.log(`  predicted: coherent per cycle Σ_c (Σ a‖e‖)²    ${mean(perCycle).toFixed(3)}  (${(measured / perCycle).toFixed(2)})`);
  console.log(`  predicted: coherent over the run (Σ a‖e‖)²    ${mean(global).toFixed(3)}  (${(measured / global).toFixed(2)})`);
  console.log(`  predicted: measured cosines within cycles      ${mean(independent + perCycleCos).toFixed(3)}  (${(measured / (independent + perCycleCos)).toFixed(2)})`);
  console.log(`  predicted: measured cosines, all pairs         ${mean(independent + acrossCos).toFixed(3)}  (${(measured / (independent + acrossCos)).toFixed(2)})`);
}
denoiser.dispose();
backend.dispose?.();
