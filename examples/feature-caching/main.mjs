// Skipping without retraining: the shipped full-depth model (mnist-full) runs only its 32×32
// level (k = N − 1) at most steps, and every m-th step at full depth, whose deep features the
// `cache:m` fill hands to the steps in between (DeepCache-style). Compared with full depth on the
// same seeds: time, FLOP-predicted saving, and FD-LeNet beside the real-vs-real floor.
//
//   node main.mjs [--samples 100] [--steps 50] [--intervals 2,3,5]
import { parseArgs } from 'node:util';
import { cacheFillEvery, constantSchedule, predictedTimeSaved, zeroFill } from '@levelskip/core';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { fdLenet, loadMnistReference } from '@levelskip/metrics';
import { loadPretrained } from '@levelskip/pretrained';
import { ddim, sample } from '@levelskip/samplers';

const { values } = parseArgs({
  options: { samples: { type: 'string', default: '100' }, steps: { type: 'string', default: '50' }, intervals: { type: 'string', default: '2,3,5' } },
});
const samples = Number(values.samples);
const intervals = values.intervals.split(',').map(Number);

const { spec, weights } = await loadPretrained('mnist-full');
const backend = await createOnnxBackend();
const denoiser = await backend.createDenoiser(spec, weights);
const sampler = ddim({ steps: Number(values.steps), eta: 1, clipSample: true });
const reference = await loadMnistReference();
const deepest = constantSchedule(spec.channelMults.length - 1);

const configurations = [
  { label: 'full depth', skip: constantSchedule(0), fill: zeroFill },
  ...intervals.map((m) => ({ label: `k = ${deepest.kAt(0, spec.channelMults.length)}, cache:${m}`, skip: deepest, fill: cacheFillEvery(m) })),
];

// Warm-up: open every graph the runs use.
for (const { skip, fill } of configurations) await sample({ denoiser, sampler: ddim({ steps: 2 }), skip, fill, seed: 0 });

console.log(`mnist-full on ${backend.name}, ${sampler.description}, ${samples} images each`);
let fullSeconds;
for (const { label, skip, fill } of configurations) {
  const started = performance.now();
  const { images, ks } = await sample({ denoiser, sampler, skip, fill, batch: samples, seed: 7 });
  const seconds = (performance.now() - started) / 1000;
  fullSeconds ??= seconds;
  const predicted = predictedTimeSaved(spec, skip, sampler.timesteps, { fill }).fractionSaved;
  const { fd, floor } = fdLenet({ generated: images, count: samples, reference });
  console.log(
    `${label.padEnd(16)} ${seconds.toFixed(2)} s  full-depth steps ${ks.filter((k) => k === 0).length}/${ks.length}  ` +
      `saved: predicted ${(100 * predicted).toFixed(1)}%, measured ${(100 * (1 - seconds / fullSeconds)).toFixed(1)}%  ` +
      `FD-LeNet ${fd.toFixed(1)} (floor ${floor.mean.toFixed(1)})`,
  );
}
denoiser.dispose();
backend.dispose();
