// @ts-check
/**
 * Dev script (issue 25; not a test): FD-LeNet of hand-written cache plans for mnist-full, scored as
 * table5-error-models.mjs scores auto plans (500 images, batch 50, seed 0, DDIM-50 η = 1, onnx-cpu,
 * the cache fill without an interval: a step at k = 0 refreshes). A plan is 50 digits, the k of
 * each step from t = 980 down to t = 0, or a named generator:
 *   ramp:a-b   refresh intervals growing linearly from a (first steps) to b (last steps), k = 3 between
 *   auto:f     core's optimalSchedule at budget f (the table's coherent model), for comparison
 *
 *   node bench/dev/cache-plan-search.mjs ramp:2-5 ramp:5-2 auto:0.445
 *
 * Measured 2026-12-07 (500 images; training shared the cores, which changes times, not FD-LeNet),
 * at about cache:3's budget (44.5 % of FLOPs saved), against Table 5's cache:3 (17 refreshes) 67.5
 * and auto:0.445 (15 refreshes, most of them late, three steps at k = 2) 63.2 (the planner before
 * commit 1dcab61; its plan now, 14 refreshes and five steps at k = 2, scores 57.9):
 *   ramp:2-4.5 (refresh every 2 steps early, every 4–5 late; 17 refreshes)  74.5
 *   ramp:1.5-5 (17 refreshes)                                               72.8
 *   ramp:4-2   (dense late; 18 refreshes, 43.1 % saved)                     72.2
 * Neither denser early nor denser late refreshes beat the uniform interval, and none comes near the
 * issue's 0.8 × 67.5 = 54: the DP's plan stays the best cache plan found at this budget.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackage, repositoryRoot } from '../lib/workspace.mjs';

const core = /** @type {any} */ (await loadPackage('core'));
const cli = /** @type {any} */ (await loadPackage('cli'));
const table = core.parseCalibrationTable(JSON.parse(readFileSync(join(repositoryRoot, 'packages/model-mnist-full/model.json'), 'utf8')).calibration, 'mnist-full');
const n = 50;
const timesteps = Array.from({ length: n }, (_, i) => 20 * (n - 1 - i));
const samples = process.env.SAMPLES ?? '500';
const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: process.env };

/** @param {string} arg @returns {number[]} */
function plan(arg) {
  if (/^[0-9]{50}$/.test(arg)) return [...arg].map(Number);
  const ramp = /^ramp:([0-9.]+)-([0-9.]+)(?::k([0-9]))?$/.exec(arg);
  if (ramp) {
    const [a, b, k] = [Number(ramp[1]), Number(ramp[2]), Number(ramp[3] ?? 3)];
    const ks = new Array(n).fill(k);
    let next = 0;
    for (let i = 0; i < n; i++) {
      if (i >= next) {
        ks[i] = 0;
        next = i + Math.max(1, Math.round(a + ((b - a) * i) / (n - 1)));
      }
    }
    return ks;
  }
  const auto = /^auto:([0-9.]+)$/.exec(arg);
  if (auto) return core.optimalSchedule(table, { sampler: { kind: 'ddim', eta: 1 }, steps: timesteps, budget: Number(auto[1]), fill: 'cache' }).plan.ks;
  throw new Error(`unknown plan ${arg}`);
}

for (const arg of process.argv.slice(2)) {
  const ks = plan(arg);
  const kTable = ks.map((k, i) => {
    const t = timesteps[i] / 1000;
    const hi = i === 0 ? 1 : (timesteps[i - 1] / 1000 + t) / 2;
    const lo = i === n - 1 ? 0 : (timesteps[i + 1] / 1000 + t) / 2;
    return `${lo}:${hi}=${k}`;
  }).reverse().join(',');
  const flags = { model: 'mnist-full', backend: 'onnx', sampler: 'ddim', steps: '50', eta: '1', clipSample: false, kTable, fill: 'cache', samples, batch: '50', seed: '0', progress: false, json: true };
  const started = performance.now();
  const summary = await cli.runEval(cli.planEval(flags), io);
  const ran = summary.ks.join('');
  console.log(`${arg.padEnd(14)} FD-LeNet ${summary.fdLenet.toFixed(1)}  predicted saved ${(100 * summary.predictedFractionSaved).toFixed(1)}%  refreshes ${ks.filter((k) => k === 0).length}  ks ${ran}${ran === ks.join('') ? '' : ` (planned ${ks.join('')})`}  ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
