/**
 * The recognisable rate: golden values from logits whose softmax is known in closed form (a fake
 * classifier), then the shipped LeNet on real test digits (nearly all recognisable; noise: see below).
 */
import { loadMnist } from '@levelskip/datasets';
import { LevelskipError } from '@levelskip/core';
import { describe, expect, it } from 'vitest';
import { loadLenet, maxClassProbabilities, recognisableRate, type Lenet } from '../src/index.js';

/** A classifier that returns fixed logits, whatever the images. */
function fakeLenet(logits: number[][]): Lenet {
  return {
    featureDim: 84,
    classes: 10,
    features: () => new Float32Array(0),
    logits: () => Float32Array.from(logits.flat()),
    classify: () => new Uint8Array(0),
  };
}

describe('maxClassProbabilities', () => {
  it('is the softmax of the largest logit (closed form)', () => {
    // One logit ln 9 above nine zeros: p = 9 / (9 + 9) = 0.5. One at ln 81: 81 / 90 = 0.9. All equal: 0.1.
    const rows = [
      [Math.log(9), 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, Math.log(81), 0, 0, 0, 0, 0, 0],
      new Array<number>(10).fill(3),
      [1000, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    const p = maxClassProbabilities(Float32Array.from(rows.flat()), 4, 10);
    expect(p[0]).toBeCloseTo(0.5, 6);
    expect(p[1]).toBeCloseTo(0.9, 6);
    expect(p[2]).toBeCloseTo(0.1, 12);
    expect(p[3]).toBe(1); // no overflow at large logits
  });
});

describe('recognisableRate', () => {
  it('counts p strictly above the threshold', () => {
    const rows = [
      [Math.log(9), 0, 0, 0, 0, 0, 0, 0, 0, 0], // 0.5
      [Math.log(81 * 1.01), 0, 0, 0, 0, 0, 0, 0, 0, 0], // just above 0.9
      [Math.log(81 * 0.99), 0, 0, 0, 0, 0, 0, 0, 0, 0], // just below 0.9
      [20, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ≈ 1
    ];
    const lenet = fakeLenet(rows);
    expect(recognisableRate(lenet, new Float32Array(4 * 1024), 4)).toBe(0.5);
    expect(recognisableRate(lenet, new Float32Array(4 * 1024), 4, 0.4)).toBe(1);
    expect(() => recognisableRate(lenet, new Float32Array(4 * 1024), 4, 1)).toThrow(LevelskipError);
  });

  // Not asserted: clipped Gaussian noise also passes (85.5 % of 200 images at p > 0.9, measured
  // 2026-12-06): LeNet is overconfident off the data manifold, so the rate is a companion of
  // FD-LeNet (which scores noise far from digits), never a quality measure on its own.
  it('the shipped LeNet finds nearly every real test digit recognisable', async () => {
    const lenet = await loadLenet();
    const test = await loadMnist({ split: 'test' });
    expect(recognisableRate(lenet, test.images, test.count)).toBeGreaterThan(0.95);
  });
});
