/**
 * One training step's loss and parameter gradients on the wasm engine (with levelskip's training
 * kernels, registered when the engine loads) equal the cpu engine's, within 1e-3 relative
 * (max-norm) per tensor: the full network, and a skipping step with the interpolate fill.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  SeededRng,
  describeArchitecture,
  interpolateFill,
  linearBetaSchedule,
  parameterLayout,
  parseUNetSpec,
  zeroFill,
  type FillStrategy,
  type UNetSpecInput,
} from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { selectEngine, type TfjsEngine, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { createModelState, disposeModelState, lossFunction, noiseBatch, type LossContext } from '../../src/step/training-step.js';

interface HostGrads {
  readonly loss: number;
  readonly grads: Map<string, Float32Array>;
}

async function stepOn(engine: TfjsEngine, input: UNetSpecInput, k: number, fill: FillStrategy<tf.Tensor>): Promise<HostGrads> {
  await selectEngine(engine);
  const spec = parseUNetSpec(input);
  const arch = describeArchitecture(spec);
  const names = parameterLayout(spec).map((e) => e.name);
  const weights = fixtureWeights(spec, 4);
  const state = createModelState(names, weights, weights);
  const imageShape = [spec.inChannels, spec.imageSize, spec.imageSize] as const;
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const rng = new SeededRng(21);
  const batch = noiseBatch(rng.uniform(3 * size).map((v) => 2 * v - 1), rng.normal(3 * size), [120, 480, 910], imageShape, linearBetaSchedule());
  const context: LossContext = { arch, ops: createTfjsTensorOps(engine, () => undefined), names, params: state.params, fill, imageShape };
  const variables = names.map((n) => state.params.get(n)!);
  const { value, grads } = tf.variableGrads(lossFunction(context, batch, k, 5), variables);
  const out: HostGrads = {
    loss: (await value.data())[0]!,
    grads: new Map(names.filter((n) => grads[state.params.get(n)!.name] != null).map((n) => [n, grads[state.params.get(n)!.name]!.dataSync() as Float32Array])),
  };
  tf.dispose([value, ...Object.values(grads)]);
  disposeModelState(state);
  return out;
}

function relativeMaxError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return scale === 0 ? diff : diff / scale;
}

describe('one training step, wasm against cpu', () => {
  const cases: [string, UNetSpecInput, number, FillStrategy<tf.Tensor>, number][] = [
    // name, spec, k, fill, parameters expected without a gradient (k > 0 skips levels)
    ['full network (k = 0), dropout on', { ...tinySpecs.resnet, dropout: 0.2 }, 0, zeroFill, 0],
    ['skipping one level with the interpolate fill', tinySpecs.sidePaths, 1, interpolateFill, 1],
  ];
  for (const [name, spec, k, fill] of cases) {
    it(name, async () => {
      const wasm = await stepOn('wasm', spec, k, fill);
      const cpu = await stepOn('cpu', spec, k, fill);
      expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-3);
      expect([...wasm.grads.keys()]).toEqual([...cpu.grads.keys()]);
      expect(cpu.grads.size).toBeGreaterThan(20);
      if (k > 0) expect([...cpu.grads.keys()].some((n) => n.startsWith('mid_block'))).toBe(false);
      if (fill.kind === 'interpolate') expect(cpu.grads.has(`side_paths.encoder.${2 - k}.weight`)).toBe(true);
      const largest = Math.max(...[...cpu.grads.values()].map((g) => Math.max(...g.map(Math.abs))));
      for (const [param, expected] of cpu.grads) {
        if (param.endsWith('to_k.bias')) {
          // Exactly zero in exact arithmetic: a key bias adds q·b to every score of a query, and
          // softmax ignores a constant shift. Both engines leave only rounding noise.
          expect(Math.max(...expected.map(Math.abs), ...wasm.grads.get(param)!.map(Math.abs)), param).toBeLessThan(1e-5 * largest);
          continue;
        }
        expect(expected.some((v) => v !== 0), `${param} has a non-zero gradient`).toBe(true);
        expect(relativeMaxError(wasm.grads.get(param)!, expected), param).toBeLessThan(1e-3);
      }
    });
  }
});
