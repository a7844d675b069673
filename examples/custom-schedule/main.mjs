// A custom skip schedule: any function (t, N) -> k. This one skips every level it can while
// t > 0.6 (mostly noise) and none below, and is compared with the paper's power schedule.
// FLOP-predicted savings come from core before anything runs; measured ones from the run.
//
//   node main.mjs [--steps 20] [--batch 4]
import { constantSchedule, customSchedule, parseUNetSpec, powerSchedule, predictedTimeSaved, presets, randomWeights } from '@levelskip/core';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { ddim, sample } from '@levelskip/samplers';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, batch: { type: 'string', default: '4' } } });
const steps = Number(values.steps);
const batch = Number(values.batch);

const stepAt06 = customSchedule((t, levels) => (t > 0.6 ? levels - 1 : 0), 'all-or-nothing at t = 0.6');

const spec = parseUNetSpec(presets.mnistSmall);
const backend = await createTfjsBackend();
const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 0 }));
const sampler = ddim({ steps });

// Warm-up (kernel compilation, first allocations) so the timed runs compare like with like.
await sample({ denoiser, sampler: ddim({ steps: 2 }), batch, seed: 0 });
console.log(`${backend.name}: mnistSmall, DDIM ${steps} steps, batch ${batch}`);
let fullSeconds = 0;
for (const skip of [constantSchedule(0), powerSchedule({ c: 2 }), stepAt06]) {
  const started = performance.now();
  const result = await sample({ denoiser, sampler, skip, batch, seed: 3 });
  const seconds = (performance.now() - started) / 1000;
  if (skip.kind === 'constant') fullSeconds = seconds;
  const predicted = predictedTimeSaved(spec, skip, sampler.timesteps).fractionSaved;
  const measured = 1 - seconds / fullSeconds;
  console.log(
    `${skip.description.padEnd(28)} ${seconds.toFixed(2)} s   k per step ${result.ks.join('')}   ` +
      `saved: predicted ${(100 * predicted).toFixed(1)}%, measured ${(100 * measured).toFixed(1)}%`,
  );
}
denoiser.dispose();
backend.dispose();
