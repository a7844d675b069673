// A custom fill: when levels are skipped, feed the first computed decoder level a blurred copy
// of its own skip features instead of zeros. Fills are plain functions over core's TensorOps,
// so this one runs unchanged on every backend.
//
//   node main.mjs [--steps 20] [--batch 4]
import { customFill, parseUNetSpec, powerSchedule, presets, randomWeights, zeroFill } from '@levelskip/core';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { ddim, sample } from '@levelskip/samplers';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, batch: { type: 'string', default: '4' } } });
const steps = Number(values.steps);
const batch = Number(values.batch);

/** 3×3 box blur of the skip features, repeated along channels to the shape the decoder expects. */
const blurredSkip = customFill('blurred-skip', (context, ops) => {
  const [b, channels, height, width] = context.shape;
  const blurred = ops.avgPool(context.skip, 3, 1);
  const skipChannels = ops.shape(blurred)[1];
  const tiled = ops.concat(new Array(Math.ceil(channels / skipChannels)).fill(blurred), 1);
  const fill = ops.slice(tiled, [0, 0, 0, 0], [b, channels, height, width]);
  ops.dispose(tiled === blurred ? [blurred] : [blurred, tiled]);
  return fill;
});

// Random weights keep the example self-contained; load a trained checkpoint with core's
// loadCheckpoint(dir) to get digits instead of noise.
const spec = parseUNetSpec(presets.mnistSmall);
const backend = await createTfjsBackend(); // auto: tfjs-node-gpu, tfjs-node, wasm, cpu
const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 0 }), { fill: blurredSkip });

// Warm-up (kernel compilation, first allocations) so the timed runs compare like with like.
await sample({ denoiser, sampler: ddim({ steps: 2 }), batch, seed: 0 });
console.log(`${backend.name}: mnistSmall, DDIM ${steps} steps, batch ${batch}, power schedule c = 2`);
for (const fill of [zeroFill, blurredSkip]) {
  const started = performance.now();
  const result = await sample({ denoiser, sampler: ddim({ steps }), skip: powerSchedule({ c: 2 }), fill, batch, seed: 7 });
  const seconds = (performance.now() - started) / 1000;
  let sum = 0;
  for (const v of result.images) sum += v;
  const label = fill.kind === 'custom' ? `custom:${fill.name}` : fill.kind;
  console.log(`fill ${label.padEnd(20)} ${seconds.toFixed(2)} s   k per step ${result.ks.join('')}   mean pixel ${(sum / result.images.length).toFixed(4)}`);
}
denoiser.dispose();
backend.dispose();
