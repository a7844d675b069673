/**
 * The tfjs blocks outside the Denoiser: training-mode dropout, and differentiability of the whole
 * level-skipping forward with `tf.Variable` parameters (what the training loop relies on).
 * Golden gradient: for loss = mean(ε̂), ∂loss/∂conv_out.bias[c] = 1 / outChannels exactly,
 * since that bias adds to 1/outChannels of the averaged values.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeArchitecture, parseUNetSpec, resolvePrediction, runLevelSkippingUNet, zeroFill } from '@levelskip/core';
import { fixtureInput, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { createTfjsBlocks, createTfjsTensorOps, loadParameters, selectEngine } from '../../src/index.js';

// The cpu engine registers every gradient kernel tfjs has.
beforeAll(async () => {
  await selectEngine('cpu');
});

const ops = createTfjsTensorOps('tfjs-cpu');

function forward(spec: ReturnType<typeof parseUNetSpec>, params: ReadonlyMap<string, tf.Tensor>, k: number, options = {}): tf.Tensor {
  const arch = describeArchitecture(spec);
  const blocks = createTfjsBlocks(arch, params, options);
  const input = fixtureInput(spec, 2, 3);
  const x = ops.fromFloat32(input.data, input.shape);
  const prediction = resolvePrediction<tf.Tensor>(arch, ops.shape(x), [100, 700], { k, fill: zeroFill });
  const out = runLevelSkippingUNet(arch, blocks, ops, x, prediction);
  x.dispose();
  return out;
}

describe('createTfjsBlocks', () => {
  it('applies dropout only in training mode, reproducibly with a seed', async () => {
    const spec = parseUNetSpec({ ...tinySpecs.resnet, dropout: 0.5 });
    const params = loadParameters(fixtureWeights(spec, 4));
    const read = async (options: object): Promise<Float32Array> => {
      const out = forward(spec, params, 0, options);
      const data = await ops.toFloat32(out);
      out.dispose();
      return data;
    };
    const inference = await read({});
    expect(await read({ training: false, dropoutSeed: 1 })).toEqual(inference);
    const seeded = await read({ training: true, dropoutSeed: 7 });
    expect(seeded).not.toEqual(inference);
    expect(await read({ training: true, dropoutSeed: 7 })).toEqual(seeded);
    expect(await read({ training: true, dropoutSeed: 8 })).not.toEqual(seeded);
    tf.dispose([...params.values()]);
  });

  it('is differentiable with tf.Variable parameters, at full depth and skipping', async () => {
    const spec = parseUNetSpec(tinySpecs.sidePaths);
    const loaded = loadParameters(fixtureWeights(spec, 5));
    const variables = new Map<string, tf.Variable>([...loaded].map(([name, t]) => [name, tf.variable(t, true, `p/${name}`)]));
    tf.dispose([...loaded.values()]);
    for (const k of [0, 1]) {
      const { value, grads } = tf.variableGrads(() => forward(spec, variables, k).mean() as tf.Scalar, [...variables.values()]);
      const bias = await grads['p/conv_out.bias']!.data();
      for (const g of bias) expect(g).toBeCloseTo(1 / spec.outChannels, 6);
      // Parameters of skipped levels get no gradient; used ones (e.g. level 0's conv1) do.
      // Used parameters (level 0's conv1) get gradients; those of skipped levels and unused side paths get none.
      const level0 = await grads['p/down_blocks.0.resnets.0.conv1.weight']!.data();
      expect(level0.some((g) => g !== 0)).toBe(true);
      expect(level0.every(Number.isFinite)).toBe(true);
      expect(grads['p/mid_block.resnets.0.conv1.weight'] === undefined).toBe(k > 0);
      expect(grads['p/side_paths.encoder.0.weight']).toBeUndefined();
      if (k === 0) {
        const used = [...variables.keys()].filter((name) => !name.includes('side_paths.')).map((name) => `p/${name}`);
        expect(Object.keys(grads).sort()).toEqual(used.sort());
      }
      value.dispose();
      tf.dispose(Object.values(grads));
    }
    tf.dispose([...variables.values()]);
  });
});
