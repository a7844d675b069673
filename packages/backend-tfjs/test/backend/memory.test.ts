/**
 * Repeated sampling must not grow memory: 200 predictions with mixed depths and fills (every
 * result disposed, one feature cache per run of 20 steps) leave tfjs's tensor count unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cacheFill, customFill, duplicateFill, interpolateFill, zeroFill, type FillStrategy } from '@levelskip/core';
import { fixtureInput, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { createTfjsBackend } from '../../src/index.js';

const halfSkip = customFill<tf.Tensor>('half-skip', (context, ops) => {
  const c = ops.shape(context.skip)[1]!;
  const want = context.shape[1];
  const tiled = ops.concat(new Array<tf.Tensor>(Math.ceil(want / c)).fill(context.skip), 1);
  const cut = ops.slice(tiled, [0, 0, 0, 0], [...context.shape]);
  const out = ops.scale(cut, 0.5);
  ops.dispose([tiled, cut]);
  return out;
});

describe('memory', () => {
  it('200 predictions of mixed k and fills do not grow tf.memory().numTensors', async () => {
    const backend = await createTfjsBackend({ engine: 'wasm' });
    const spec = tinySpecs.sidePaths;
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 7));
    const input = fixtureInput(spec, 2, 8);
    const x = backend.ops.fromFloat32(input.data, input.shape);
    const fills: FillStrategy<tf.Tensor>[] = [zeroFill, duplicateFill, interpolateFill, cacheFill, halfSkip];
    const run = async (count: number): Promise<void> => {
      let cache = denoiser.createFeatureCache();
      for (let i = 0; i < count; i++) {
        if (i % 20 === 0) {
          cache.dispose();
          cache = denoiser.createFeatureCache();
        }
        const k = i % denoiser.levels;
        const fill = fills[i % fills.length]!;
        const out = await denoiser.predict(x, [10 + i, 900 - i], { k, fill, cache });
        out.dispose();
      }
      cache.dispose();
    };
    await run(10);
    const before = tf.memory().numTensors;
    await run(200);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    denoiser.dispose();
    backend.dispose();
  });

  it('a prediction that throws part-way (custom fill) leaks nothing', async () => {
    const backend = await createTfjsBackend({ engine: 'wasm' });
    const spec = tinySpecs.resnet;
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 9));
    const input = fixtureInput(spec, 1, 10);
    const x = backend.ops.fromFloat32(input.data, input.shape);
    const before = tf.memory().numTensors;
    const broken = customFill<tf.Tensor>('broken', () => {
      throw new Error('fill failed');
    });
    await expect(denoiser.predict(x, 500, { k: 1, fill: broken })).rejects.toThrow('fill failed');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    denoiser.dispose();
    backend.dispose();
  });

  it('backend.dispose releases the weights of denoisers still alive', async () => {
    const before = tf.memory().numTensors;
    const backend = await createTfjsBackend({ engine: 'wasm' });
    const spec = tinySpecs.ode2;
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 11));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    backend.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.zeros([1, 8, 8, 2]);
    await expect(denoiser.predict(x, 1)).rejects.toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/disposed/) });
    x.dispose();
    await expect(backend.createDenoiser(spec, fixtureWeights(spec, 11))).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
