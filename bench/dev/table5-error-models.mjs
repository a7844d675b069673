// @ts-check
/**
 * Dev script (issue 25; not a bench suite): FD-LeNet of mnist-full's cache plans under each error
 * model of `optimalSchedule`, scored exactly as `pnpm bench quality --only table5` scores its auto
 * cells (500 images, batch 50, seed 0, DDIM-50 η = 1, no clipping, onnx-cpu), but with the plan
 * passed as a k table (`--k-table`, the plan's stage rows) and the cache fill without an interval,
 * so that models the CLI's `--schedule auto:f` does not select can be scored. Prints, does not
 * write the results file.
 *
 *   node bench/dev/table5-error-models.mjs --models independent,coherent,coherent@1 --budgets 0.337,0.445
 *
 * The `cycle[:ρ]` model it was written to score was removed from core after these runs (no
 * consistent gain; numbers in optimal-schedule.ts); check out commit 7ba8d5e to score it again.
 *
 * --table <file> plans with another calibration table for mnist-full. A model is errorModel[:ρ][@s²]: ρ the cycle model's correlation; s² plans with the Gaussian-data
 * error weights for that data variance instead of the table's measured propagation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPackage, repositoryRoot } from '../lib/workspace.mjs';

const { values } = parseArgs({
  options: { models: { type: 'string', default: 'coherent' }, budgets: { type: 'string', default: '0.337,0.445,0.499,0.539' }, samples: { type: 'string', default: '500' }, table: { type: 'string' } },
});
const core = /** @type {any} */ (await loadPackage('core'));
const cli = /** @type {any} */ (await loadPackage('cli'));
// --table: another calibration table JSON for mnist-full to plan with (e.g. one with a corrected propagation).
const tableJson = values.table === undefined ? JSON.parse(readFileSync(join(repositoryRoot, 'packages/model-mnist-full/model.json'), 'utf8')).calibration : JSON.parse(readFileSync(values.table, 'utf8'));
const table = core.parseCalibrationTable(tableJson, values.table ?? 'mnist-full model.json');
const timesteps = Array.from({ length: 50 }, (_, i) => 20 * (49 - i));
const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: process.env };
for (const budget of String(values.budgets).split(',').map(Number)) {
  for (const model of String(values.models).split(',')) {
    // errorModel[:ρ][@s²]: s² given plans with the Gaussian-data weights instead of the table's measured propagation.
    const [name, variance] = model.split('@');
    const [errorModel, rho] = name.split(':');
    const skip = core.optimalSchedule(table, {
      sampler: { kind: 'ddim', eta: 1 },
      steps: timesteps,
      budget,
      fill: 'cache',
      errorModel,
      ...(rho === undefined ? {} : { cycleCorrelation: Number(rho) }),
      ...(variance === undefined ? {} : { dataVariance: Number(variance) }),
    });
    const kTable = skip.toJSON().table.map((/** @type {any} */ r) => `${r.tStart}:${r.tEnd}=${r.k}`).join(',');
    const flags = { model: 'mnist-full', backend: 'onnx', sampler: 'ddim', steps: '50', eta: '1', clipSample: false, kTable, fill: 'cache', samples: String(values.samples), batch: '50', seed: '0', progress: false, json: true };
    const summary = await cli.runEval(cli.planEval(flags), io);
    const ran = summary.ks.join('');
    console.log(`${budget} ${model.padEnd(12)} FD-LeNet ${summary.fdLenet.toFixed(1)}  saved ${(100 * skip.plan.fractionSaved).toFixed(1)}% (predicted ${(100 * summary.predictedFractionSaved).toFixed(1)}%)  ks ${ran}${ran === skip.plan.ks.join('') ? '' : ` (planned ${skip.plan.ks.join('')})`}  ${(summary.sampleMs / 1000).toFixed(0)} s`);
  }
}
