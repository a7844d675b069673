import assert from 'node:assert/strict';
import { cacheFillEvery, parseUNetSpec, powerSchedule, randomWeights } from '@levelskip/core';
import { createReferenceBackend } from '@levelskip/core/testing';
import { ddim, dpmSolverPlusPlus, sample } from '../src/index.js';

// A tiny untrained U-Net with N = 2 levels on the float64 reference backend (any backend works the same).
const spec = parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4 });
const denoiser = await createReferenceBackend().createDenoiser(spec, randomWeights(spec, { seed: 0 }));

// DDIM in 10 steps, skipping the deepest level while k(t) = min(N-1, floor(N - N(1-t)^c)) says so (c = 2),
// with deep features cached from the last full step in place of the skipped ones; the cache is
// recomputed at full depth every 3 steps (and at the first step, when there is nothing cached yet).
const controller = new AbortController(); // controller.abort() cancels between steps
const options = {
  denoiser,
  sampler: ddim({ steps: 10, eta: 0 }),
  skip: powerSchedule({ c: 2 }),
  fill: cacheFillEvery(3),
  batch: 2,
  seed: 42,
  signal: controller.signal,
};
const result = await sample({
  ...options,
  onProgress: ({ step, total, timestep, k, elapsedMs }) => console.log(`step ${step}/${total} t=${timestep} k=${k} ${elapsedMs.toFixed(0)} ms`),
});
assert.deepEqual(result.shape, [2, 1, 8, 8]); // result.images: Float32Array, NCHW
assert.deepEqual(result.timesteps, [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
assert.deepEqual(result.ks, [0, 1, 1, 0, 1, 1, 0, 0, 0, 0]); // c = 2 asks 1, 1, 1, 1, 1, 1, 1, 0, 0, 0

// Same seed, same backend: the same images.
assert.deepEqual((await sample(options)).images, result.images);

// DPM-Solver++(2M) in 20 steps, as diffusers' DPMSolverMultistepScheduler.
const fast = await sample({ ...options, sampler: dpmSolverPlusPlus({ steps: 20 }) });
assert.equal(fast.stepsRun, 20);
denoiser.dispose();
