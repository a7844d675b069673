import assert from 'node:assert/strict';
import { parseUNetSpec, presets, parameterCount, levelGeometry, powerSchedule, predictedTimeSaved, randomWeights, interpolateFill } from '@levelskip/core';
import { createReferenceBackend } from '@levelskip/core/testing';

// The DDPM CIFAR-10 U-Net: 35.7M parameters, N = 4 levels.
const cifar = parseUNetSpec(presets.ddpmCifar10);
assert.equal(parameterCount(cifar), 35_746_307);

// What each depth costs, and what the paper's schedule k(t) = min(N-1, floor(N - N(1-t)^c)) saves.
const flops = levelGeometry(cifar).map((g) => g.flops);
const c2 = powerSchedule({ c: 2 });
assert.equal(c2.kAt(0.5, 4), 3); // floor(4 - 4 * 0.5^2) = 3
const saved = predictedTimeSaved(cifar, c2, 1000);
console.log(`full step ${(flops[0]! / 1e9).toFixed(2)} GFLOPs; c = 2 saves ${(100 * saved.fractionSaved).toFixed(1)}% (FLOP model)`);

// Run a tiny model on the float64 reference backend, skipping 1 level with the interpolate fill.
const spec = parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4, sidePaths: true });
const backend = createReferenceBackend();
const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 1 }), { fill: interpolateFill });
const x = denoiser.ops.fromFloat32(new Float32Array(2 * 64).fill(0.5), [2, 1, 8, 8]);
const eps = await denoiser.predict(x, [999, 500], { k: 1, fill: interpolateFill });
assert.deepEqual(denoiser.ops.shape(eps), [2, 1, 8, 8]);
denoiser.dispose();
