/**
 * tfjs's active engine is process-global. Two levelskip backends on different engines in one
 * process each switch tfjs back to their own engine before working, and agree numerically.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { duplicateFill } from '@levelskip/core';
import { fixtureInput, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { createTfjsBackend } from '../../src/index.js';

describe('several engines in one process', () => {
  it('wasm and cpu backends interleave, each on its own engine', async () => {
    const wasm = await createTfjsBackend({ engine: 'wasm' });
    const cpu = await createTfjsBackend({ engine: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    const spec = tinySpecs.resnet;
    const weights = fixtureWeights(spec, 21);
    const input = fixtureInput(spec, 1, 22);
    const onWasm = await wasm.createDenoiser(spec, weights);
    const onCpu = await cpu.createDenoiser(spec, weights);
    const results: Float32Array[] = [];
    for (const [backend, denoiser, engine] of [
      [wasm, onWasm, 'wasm'],
      [cpu, onCpu, 'cpu'],
      [wasm, onWasm, 'wasm'],
    ] as const) {
      const x = backend.ops.fromFloat32(input.data, input.shape);
      const out = await denoiser.predict(x, 321, { k: 1, fill: duplicateFill });
      expect(tf.getBackend()).toBe(engine);
      results.push(await backend.ops.toFloat32(out));
      backend.ops.dispose([x, out]);
    }
    for (let i = 0; i < results[0]!.length; i++) {
      expect(results[1]![i]).toBeCloseTo(results[0]![i]!, 4);
      expect(results[2]![i]).toBe(results[0]![i]);
    }
    wasm.dispose();
    cpu.dispose();
  });
});
