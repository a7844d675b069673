// @ts-check
/**
 * Dev script (issue 25; not a test): where in a run does one refresh cycle of the cache fill hurt,
 * measured, against what the calibration table predicts? For each start r, a plan that runs every
 * step at full depth except steps r + 1 … r + L, which read the cache filled at r at depth k; its
 * final samples are compared with the full-depth run's (same seed, so the same noise):
 * measured ‖D‖² per image against the table's prediction for that one cycle, (Σ a_i √err_i)²
 * (a_i = √w_i, core's errorWeights with the table's measured propagation; err_i its cache error at
 * that age). DDIM-50 η = 1, mnist-full, onnx-cpu.
 *
 *   node bench/dev/cache-cycle-influence.mjs [--batch 32] [--length 3] [--k 3] [--every 3]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPackage, repositoryRoot } from '../lib/workspace.mjs';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '32' }, length: { type: 'string', default: '3' }, k: { type: 'string', default: '3' }, every: { type: 'string', default: '3' }, seed: { type: 'string', default: '0' } } });
const batch = Number(values.batch);
const L = Number(values.length);
const k = Number(values.k);
const seed = Number(values.seed);
const core = /** @type {any} */ (await loadPackage('core'));
const samplers = /** @type {any} */ (await loadPackage('samplers'));
const backendOnnx = /** @type {any} */ (await loadPackage('backend-onnx'));
const pretrained = /** @type {any} */ (await loadPackage('pretrained'));
const { spec, weights } = await pretrained.loadPretrained('mnist-full');
const table = core.parseCalibrationTable(JSON.parse(readFileSync(join(repositoryRoot, 'packages/model-mnist-full/model.json'), 'utf8')).calibration, 'mnist-full model.json');
const cache = table.fills.find((/** @type {any} */ f) => f.fill === 'cache');
const backend = await backendOnnx.createOnnxBackend({ executionProviders: ['cpu'], intraOpNumThreads: 1 });
const denoiser = await backend.createDenoiser(spec, weights);
const sampler = samplers.ddim({ steps: 50, eta: 1 });
const timesteps = /** @type {number[]} */ (sampler.timesteps);
const n = timesteps.length;
const w = /** @type {number[]} */ (core.errorWeights({ sampler: 'ddim', eta: 1, noiseSchedule: core.noiseScheduleFromConfig(table.noiseSchedule), timesteps, dataVariance: table.dataVariance, propagation: core.propagationLookup(table.propagation) }));
/**
 * The table's cache error at timestep t and a measured age (linear in t between calibrated
 * timesteps; rows without that age use the nearest lower row that has it), as core's lookup does.
 * @param {number} t @param {number} age
 */
function cacheError(t, age) {
  const a = cache.ages.indexOf(age);
  if (a < 0) throw new Error(`age ${age} not calibrated (ages ${cache.ages.join(', ')})`);
  const j = table.ks.indexOf(k);
  const ts = /** @type {number[]} */ (table.timesteps);
  const at = (/** @type {number} */ row) => {
    for (let r = row; r >= 0; r--) {
      const v = cache.epsilonError[r][j][a];
      if (v !== null) return v;
    }
    throw new Error('no measurement');
  };
  if (t >= ts[ts.length - 1]) return at(ts.length - 1);
  let hi = 1;
  while (ts[hi] < t) hi++;
  const f = (t - ts[hi - 1]) / (ts[hi] - ts[hi - 1]);
  const high = cache.epsilonError[hi][j][a];
  return high === null ? at(hi - 1) : at(hi - 1) + f * (high - at(hi - 1));
}
const D = spec.inChannels * spec.imageSize * spec.imageSize;
const full = await samplers.sample({ denoiser, sampler, batch, seed, checkFiniteEvery: 0 });
console.log(`one cycle of ${L} cached steps at k = ${k} after a refresh at step r (t_r); batch ${batch}`);
console.log('r   t_r  measured ‖D‖²  predicted (Σ a√e)²  measured/predicted');
for (let r = 0; r + L < n; r += Number(values.every)) {
  const ks = timesteps.map((_, i) => (i > r && i <= r + L ? k : 0));
  const skip = core.stageSchedule(core.stageTableFromSteps(timesteps, ks, spec.trainTimesteps));
  const run = await samplers.sample({ denoiser, sampler, batch, seed, skip, fill: core.cacheFill, checkFiniteEvery: 0 });
  let measured = 0;
  for (let p = 0; p < batch * D; p++) measured += (run.images[p] - full.images[p]) ** 2;
  measured /= batch;
  let amplitude = 0;
  for (let i = r + 1; i <= r + L; i++) amplitude += Math.sqrt(w[i] * cacheError(timesteps[i], (timesteps[r] - timesteps[i]) / cache.stepSpacing));
  const predicted = amplitude ** 2;
  console.log(`${String(r).padEnd(3)} ${String(timesteps[r]).padStart(4)}  ${measured.toFixed(3).padStart(12)}  ${predicted.toFixed(4).padStart(18)}  ${(measured / predicted).toFixed(1).padStart(10)}`);
}
denoiser.dispose();
