// Swapping backends: the same model, sampler, skip schedule and seed on onnxruntime and on
// TensorFlow.js. Everything but the line that creates the backend is shared, and the images
// agree to float32 rounding, because the noise is drawn on the host from the seed.
//
//   node main.mjs [--steps 20] [--batch 2]
import { parseUNetSpec, powerSchedule, presets, randomWeights } from '@levelskip/core';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { ddim, sample } from '@levelskip/samplers';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, batch: { type: 'string', default: '2' } } });
const steps = Number(values.steps);
const batch = Number(values.batch);

// Random weights keep the example self-contained; load a trained checkpoint with core's
// loadCheckpoint(dir) to get digits instead of noise.
const spec = parseUNetSpec(presets.mnistSmall);
const weights = randomWeights(spec, { seed: 0, gain: 0.5 });

const backends = {
  // The only backend-specific lines: pick an engine / execution provider. For a GPU, pass
  // { executionProviders: ['cuda', 'cpu'] } (onnxruntime then logs why CUDA failed, if it does).
  onnx: () => createOnnxBackend(),
  tfjs: () => createTfjsBackend({ engine: 'wasm' }),
};

console.log(`mnistSmall, DDIM ${steps} steps, batch ${batch}, power schedule c = 2, seed 7`);
const images = [];
for (const create of Object.values(backends)) {
  const backend = await create();
  const denoiser = await backend.createDenoiser(spec, weights);
  const run = () => sample({ denoiser, sampler: ddim({ steps }), skip: powerSchedule({ c: 2 }), batch, seed: 7 });
  await run(); // warm-up: graphs, sessions, kernels
  const started = performance.now();
  const result = await run();
  const seconds = (performance.now() - started) / 1000;
  images.push(result.images);
  console.log(`${backend.name.padEnd(10)} ${seconds.toFixed(2)} s   k per step ${result.ks.join('')}`);
  denoiser.dispose();
  backend.dispose();
}
let worst = 0;
for (let i = 0; i < images[0].length; i++) worst = Math.max(worst, Math.abs(images[0][i] - images[1][i]));
// Images are in [-1, 1]; on the [0, 255] pixel scale the difference is worst · 127.5.
console.log(`max pixel difference between backends: ${(worst * 127.5).toFixed(4)} / 255`);
