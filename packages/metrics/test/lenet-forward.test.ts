/**
 * The whole plain-TypeScript LeNet against PyTorch, with weights given by a formula (so the test
 * does not depend on the trained file): checks the layer order, the CHW flattening before fc1, that
 * the features are fc2's pre-ReLU outputs and that a ReLU precedes fc3.
 */
import type { HostTensor } from '@levelskip/core';
import { LevelskipError } from '@levelskip/core';
import { describe, expect, it } from 'vitest';
import { createLenet, lenetTensorShapes } from '../src/index.js';

/** The weights of scripts/dev/goldens.py: tensor t (in lenetTensorShapes order), element k. */
function formulaWeights(): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  Object.entries(lenetTensorShapes).forEach(([name, shape], t) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = size / shape[0]!;
    const data = Float32Array.from({ length: size }, (_, k) => (name.endsWith('weight') ? Math.sin(0.37 * k + t) / Math.sqrt(fanIn) : 0.1 * Math.cos(0.5 * k + t)));
    tensors.set(name, { shape, data });
  });
  return tensors;
}

/** Two 32×32 images: 0.9 sin(0.05 k + n) + 0.1 cos(0.3 k) at pixel k of image n. */
function formulaImages(): Float32Array {
  return Float32Array.from({ length: 2 * 1024 }, (_, i) => 0.9 * Math.sin(0.05 * (i % 1024) + Math.floor(i / 1024)) + 0.1 * Math.cos(0.3 * (i % 1024)));
}

// Goldens: /usr/bin/python3 scripts/dev/goldens.py (torch 1.13 F.conv2d / max_pool2d / linear in
// float64 on the same float32-rounded weights and images).
const goldenFeatures0 = [0.06351440586729641, 0.04009126066446547, -0.013228454943173075, -0.0681986801470225, -0.07688336580082539, -0.11938944146468347];
const goldenFeatures1Tail = [-0.05668920606794897, -0.06880973981449456, -0.10977970674084418, -0.08485439179609505, -0.0693270117100519, -0.017171146838465372];
const goldenLogits = [
  [-0.1279755182977259, -0.13630516003580928, -0.11613040102106686, -0.07181002828265731, -0.013135251619696031, 0.04694902714759629, 0.09535474988675259, 0.12187372959613663, 0.12149326285669931, 0.09545796351271527],
  [-0.1288115020869697, -0.13749185744159248, -0.11753515171581908, -0.07327579606251153, -0.014498179000132552, 0.04584130097851534, 0.09462605685262486, 0.12160553030487795, 0.12171553892815365, 0.0961458665365092],
];

describe('LeNet forward', () => {
  const lenet = createLenet(formulaWeights());
  const images = formulaImages();

  it('matches PyTorch: fc2 pre-ReLU features', () => {
    const features = lenet.features(images, 2);
    expect(features.length).toBe(2 * 84);
    expect(lenet.featureDim).toBe(84);
    goldenFeatures0.forEach((value, i) => expect(features[i]).toBeCloseTo(value, 6));
    goldenFeatures1Tail.forEach((value, i) => expect(features[84 + 78 + i]).toBeCloseTo(value, 6));
  });

  it('matches PyTorch: logits and their argmax', () => {
    const logits = lenet.logits(images, 2);
    goldenLogits.flat().forEach((value, i) => expect(logits[i]).toBeCloseTo(value, 6));
    // Argmax of the goldens: image 0 → 7 (0.12187 > 0.12149), image 1 → 8 (0.121716 > 0.121606).
    expect([...lenet.classify(images, 2)]).toEqual([7, 8]);
  });

  it('clamps inputs to [-1, 1] (as an 8-bit PNG export would)', () => {
    const scaled = images.map((v) => 3 * v);
    const clamped = scaled.map((v) => Math.min(1, Math.max(-1, v)));
    expect(lenet.features(scaled, 2)).toEqual(lenet.features(clamped, 2));
  });

  it('processes images independently of the batch', () => {
    const both = lenet.features(images, 2);
    expect(lenet.features(images.subarray(1024), 1)).toEqual(both.subarray(84));
  });
});

describe('LeNet input validation', () => {
  const lenet = createLenet(formulaWeights());

  it('rejects a length that is not count × 1024, naming both', () => {
    const error = (() => {
      try {
        lenet.features(new Float32Array(3 * 1024), 2);
      } catch (e) {
        return e;
      }
    })();
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_SHAPE');
    expect((error as Error).message).toMatch(/3072 values but count = 2 needs 2 × 1024 = 2048.*holds 3 images/);
  });

  it('rejects NaN pixels, naming the image and pixel', () => {
    const images = formulaImages();
    images[1024 + 5] = NaN;
    expect(() => lenet.features(images, 2)).toThrow(/NaN at image 1, pixel 5/);
    images[1024 + 5] = Infinity;
    expect(() => lenet.logits(images, 2)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('rejects a bad count and a non-Float32Array', () => {
    expect(() => lenet.features(formulaImages(), 0)).toThrow(/count must be a positive integer/);
    expect(() => lenet.features(formulaImages(), 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => lenet.features(Array.from(formulaImages()) as unknown as Float32Array, 2)).toThrow(/must be a Float32Array.*got Array/);
  });

  it('rejects weights of another architecture, listing every problem', () => {
    const weights = formulaWeights();
    weights.delete('fc3.bias');
    weights.set('fc1.weight', { shape: [128, 784], data: new Float32Array(128 * 784) });
    weights.set('extra.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => createLenet(weights)).toThrow(
      expect.objectContaining({
        code: 'WEIGHTS_MISMATCH',
        message: expect.stringMatching(/fc1\.weight has shape \[128, 784\], expected \[128, 800\].*fc3\.bias is missing.*unexpected tensor extra\.weight/),
      }),
    );
  });
});
