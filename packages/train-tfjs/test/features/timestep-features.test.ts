/**
 * timestepGradientFeatures on core's tiny fixture U-Nets (wasm engine): shapes, the default
 * parameter selection, determinism, chunking, stage routing, validation, and an independent check
 * of the values against central finite differences of the ε-loss computed with core's float64
 * reference backend.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError, SeededRng, linearBetaSchedule, parseUNetSpec, type HostTensor, type NamedTensors, type UNetSpecInput } from '@levelskip/core';
import { createReferenceBackend, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import {
  defaultFeatureParameters,
  timestepFeatureParameters,
  timestepGradientFeatures,
  type TimestepFeatureOptions,
} from '../../src/features/timestep-features.js';
import { randomImages } from '../helpers/random-images.js';

const spec = parseUNetSpec(tinySpecs.resnet);
const weights = fixtureWeights(spec, 3);
const SIZE = spec.inChannels * spec.imageSize * spec.imageSize;

function dataset(count: number, seed = 5): ReturnType<typeof randomImages> {
  return randomImages(spec, count, seed);
}
const data = dataset(6);
const base: TimestepFeatureOptions = { spec, weights, data, timesteps: [10, 500, 990], samplesPerTimestep: 4, batchSize: 3, seed: 9, engine: 'wasm' };

/** Offset of tensor `name` in a feature vector over `names`. */
function offsetOf(names: readonly string[], name: string, w: NamedTensors): number {
  let offset = 0;
  for (const n of names) {
    if (n === name) return offset;
    offset += w.get(n)!.data.length;
  }
  throw new Error(`${name} not selected`);
}

/**
 * The ε-loss at timestep t, independently: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (formed in float64,
 * rounded to float32 as the trainer does), predicted by the float64 reference backend at k = 0,
 * MSE over every value of the first `n` images.
 */
async function referenceLoss(specInput: UNetSpecInput, w: NamedTensors, t: number, n: number, seed: number): Promise<number> {
  const parsed = parseUNetSpec(specInput);
  const schedule = linearBetaSchedule({ trainTimesteps: parsed.trainTimesteps });
  const noise = new SeededRng(seed).normal(n * SIZE);
  const noisy = new Float32Array(n * SIZE);
  for (let i = 0; i < n * SIZE; i++) noisy[i] = schedule.sqrtAlphasCumprod[t]! * data.images[i]! + schedule.sqrtOneMinusAlphasCumprod[t]! * noise[i]!;
  const backend = createReferenceBackend();
  const denoiser = await backend.createDenoiser(parsed, w);
  const prediction = await denoiser.predict(backend.ops.fromFloat32(noisy, [n, parsed.inChannels, parsed.imageSize, parsed.imageSize]), new Array<number>(n).fill(t), { k: 0 });
  let sum = 0;
  prediction.data.forEach((p, i) => (sum += (noise[i]! - p) ** 2));
  return sum / (n * SIZE);
}

function withCoordinate(w: NamedTensors, name: string, index: number, delta: number): NamedTensors {
  const out = new Map<string, HostTensor>(w);
  const tensor = w.get(name)!;
  const changed = tensor.data.slice();
  changed[index]! += delta;
  out.set(name, { shape: tensor.shape, data: changed });
  return out;
}

async function finiteDifference(name: string, index: number, t: number, h: number): Promise<number> {
  const plus = await referenceLoss(spec, withCoordinate(weights, name, index, h), t, 4, 9);
  const minus = await referenceLoss(spec, withCoordinate(weights, name, index, -h), t, 4, 9);
  return (plus - minus) / (2 * h);
}

describe('timestepGradientFeatures', () => {
  it('returns one vector per timestep over the default parameters (deepest encoder level + middle)', async () => {
    expect(defaultFeatureParameters(spec)).toEqual(['down_blocks.2.', 'mid_block.']);
    const names = timestepFeatureParameters(spec);
    expect(names.every((n) => n.startsWith('down_blocks.2.') || n.startsWith('mid_block.'))).toBe(true);
    expect(names).toContain('down_blocks.2.resnets.0.conv1.weight');
    expect(names).toContain('mid_block.attentions.0.to_q.weight');
    const length = names.reduce((sum, n) => sum + weights.get(n)!.data.length, 0);
    const features = await timestepGradientFeatures(base);
    expect(features).toHaveLength(3);
    for (const f of features) {
      expect(f).toBeInstanceOf(Float64Array);
      expect(f.length).toBe(length);
      expect(f.every(Number.isFinite)).toBe(true);
      expect(f.some((v) => v !== 0)).toBe(true);
    }
  });

  it('is deterministic for a seed, differs across seeds, and does not depend on the chunking', async () => {
    const a = await timestepGradientFeatures(base);
    const b = await timestepGradientFeatures(base);
    expect(b).toEqual(a);
    const otherSeed = await timestepGradientFeatures({ ...base, seed: 10 });
    expect(otherSeed[1]).not.toEqual(a[1]);
    const oneBatch = await timestepGradientFeatures({ ...base, batchSize: 32 });
    oneBatch.forEach((f, m) => f.forEach((v, i) => expect(Math.abs(v - a[m]![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(v)))));
  });

  it('equals central finite differences of the ε-loss (float64 reference backend)', async () => {
    const names = timestepFeatureParameters(spec);
    const [feature] = await timestepGradientFeatures({ ...base, timesteps: [300] });
    // A conv kernel entry (checks the HWIO → OIHW mapping: OIHW index of [o=3, i=5, kh=0, kw=2]),
    // an attention weight, and the largest-magnitude coordinate.
    const conv = 'mid_block.resnets.0.conv1.weight';
    const [, inChannels, kernelHeight, kernelWidth] = weights.get(conv)!.shape as [number, number, number, number];
    const convIndex = ((3 * inChannels + 5) * kernelHeight + 0) * kernelWidth + 2;
    let largest = 0;
    feature!.forEach((v, i) => {
      if (Math.abs(v) > Math.abs(feature![largest]!)) largest = i;
    });
    let at = 0;
    let largestName = names[0]!;
    for (const n of names) {
      const size = weights.get(n)!.data.length;
      if (largest < at + size) {
        largestName = n;
        break;
      }
      at += size;
    }
    const coordinates: [string, number][] = [
      [conv, convIndex],
      ['mid_block.attentions.0.to_v.weight', 7],
      [largestName, largest - offsetOf(names, largestName, weights)],
    ];
    for (const [name, index] of coordinates) {
      const analytic = feature![offsetOf(names, name, weights) + index]!;
      const numeric = await finiteDifference(name, index, 300, 1e-4);
      expect(Math.abs(numeric), `${name}[${index}] has a usable gradient`).toBeGreaterThan(1e-5);
      expect(Math.abs(analytic - numeric), `${name}[${index}]: ${analytic} vs ${numeric}`).toBeLessThan(2e-3 * Math.abs(numeric) + 1e-6);
    }
  });

  it('takes a parameter selection, and routes multi-decoder timesteps to their stage', async () => {
    const multi = parseUNetSpec(tinySpecs.multiDecoder);
    const multiWeights = fixtureWeights(multi, 4);
    const names = timestepFeatureParameters(multi, ['decoders.1.']);
    expect(names.every((n) => n.startsWith('decoders.1.'))).toBe(true);
    // Stage 1 serves t ≥ 0.5: its decoder gets no gradient from t = 100 and some from t = 900.
    const [low, high] = await timestepGradientFeatures({ ...base, spec: multi, weights: multiWeights, parameters: ['decoders.1.'], timesteps: [100, 900] });
    expect(low!.every((v) => v === 0)).toBe(true);
    expect(high!.some((v) => v !== 0)).toBe(true);
    const byPredicate = timestepFeatureParameters(multi, (n) => n === 'conv_in.weight');
    expect(byPredicate).toEqual(['conv_in.weight']);
  });

  it.each([
    ['a timestep outside [0, T)', { timesteps: [10, 1000] }, 'timesteps.1'],
    ['a fractional timestep', { timesteps: [10.5] }, 'timesteps.0'],
    ['no timesteps', { timesteps: [] }, 'timesteps'],
    ['more samples than images', { samplesPerTimestep: 7 }, 'samplesPerTimestep'],
    ['an empty parameter selection', { parameters: ['nothing.'] }, 'parameters'],
    ['a noise schedule of another T', { noiseSchedule: { kind: 'linear', trainTimesteps: 500 } }, 'noiseSchedule'],
    ['a negative seed', { seed: -1 }, 'seed'],
    ['data of the wrong shape', { data: { images: new Float32Array(10), count: 1, shape: [1, 1, 2, 5] } }, 'data'],
  ] as const)('rejects %s naming the field', async (_, override, field) => {
    const error = await timestepGradientFeatures({ ...base, ...(override as Partial<TimestepFeatureOptions>) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LevelskipError.is(error)).toBe(true);
    const e = error as LevelskipError;
    expect(['INVALID_OPTION', 'INVALID_SHAPE']).toContain(e.code);
    expect(e.issues[0]!.path.join('.')).toBe(field);
    expect(e.message).toMatch(/^timestepGradientFeatures: /);
  });
});
