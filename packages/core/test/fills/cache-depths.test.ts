import { describe, expect, it } from 'vitest';
import {
  cacheDepths,
  cacheFill,
  cacheFillEvery,
  constantSchedule,
  fillLabel,
  LevelskipError,
  parseFill,
  parseUNetSpec,
  predictedTimeSaved,
  zeroFill,
} from '../../src/index.js';

describe('cache fill refresh interval (DeepCache-style)', () => {
  it('parses cache:m and labels it back', () => {
    expect(parseFill('cache:3')).toEqual({ kind: 'cache', interval: 3 });
    expect(parseFill('cache')).toEqual({ kind: 'cache' });
    expect(fillLabel(parseFill('cache:3'))).toBe('cache:3');
    expect(fillLabel(cacheFill)).toBe('cache');
  });

  it.each(['cache:0', 'cache:-1', 'cache:1.5', 'cache:', 'cache:x'])('rejects %s with INVALID_FILL naming the interval', (label) => {
    expect(() => parseFill(label)).toThrow(LevelskipError);
    expect(() => parseFill(label)).toThrow(/interval must be an integer ≥ 1/);
  });

  it('leaves other fills alone', () => {
    expect(cacheDepths([3, 3, 2, 0], zeroFill)).toEqual([3, 3, 2, 0]);
    expect(cacheDepths([3, 3, 2, 0], undefined)).toEqual([3, 3, 2, 0]);
  });

  // Hand-worked: a step asking for k > 0 needs features computed by an earlier step with a smaller k.
  it('runs the first step at full depth, then reuses forever without an interval', () => {
    expect(cacheDepths([3, 3, 3, 3, 3, 3, 3], cacheFill)).toEqual([0, 3, 3, 3, 3, 3, 3]);
  });

  it('refreshes at full depth every m steps with interval m (constant k: steps 0, m, 2m, …)', () => {
    expect(cacheDepths([3, 3, 3, 3, 3, 3, 3], cacheFillEvery(3))).toEqual([0, 3, 3, 0, 3, 3, 0]);
    expect(cacheDepths([3, 3, 3, 3, 3], cacheFillEvery(2))).toEqual([0, 3, 0, 3, 0]);
    expect(cacheDepths([3, 3, 3], cacheFillEvery(1))).toEqual([0, 0, 0]);
  });

  it('counts a shallower skip as a refresh of the deeper cut levels', () => {
    // step 2 (k = 2) reads cut level 1, last computed by step 0 (k = 0): 2 steps back, fresh for m = 3;
    // step 3 (k = 2): step 2 has k = 2 (not smaller), step 1 k = 3, step 0: 3 steps back: stale, so full depth;
    // step 4 (k = 3): step 3 (k = 0) computed it.
    expect(cacheDepths([3, 3, 2, 2, 3, 1], cacheFillEvery(3))).toEqual([0, 3, 2, 0, 3, 1]);
    expect(cacheDepths([3, 3, 2, 2, 3, 1], cacheFill)).toEqual([0, 3, 2, 2, 3, 1]);
  });

  it('keeps one cache per decoder stage', () => {
    expect(cacheDepths([3, 3, 3, 3], cacheFill, [0, 0, 1, 1])).toEqual([0, 3, 0, 3]);
    expect(() => cacheDepths([3, 3], cacheFill, [0])).toThrow(/one stage per step/);
  });

  it('predicts the FLOPs of what runs, refreshes included', () => {
    // The 2-level tiny spec of flops.test.ts: 476,928 FLOPs at k = 0, 186,368 at k = 1.
    const tiny = parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 4, channelMults: [1, 2], resBlocks: 1, midAttention: false, groups: 2, timeEmbedDim: 16 });
    const steps = [999, 666, 333, 0];
    const plain = predictedTimeSaved(tiny, constantSchedule(1), steps, { fill: 'cache' });
    expect(plain.ks).toEqual([0, 1, 1, 1]);
    expect(plain.fractionSaved).toBeCloseTo((3 * (476928 - 186368)) / (4 * 476928), 12);
    const every2 = predictedTimeSaved(tiny, constantSchedule(1), steps, { fill: cacheFillEvery(2) });
    expect(every2.ks).toEqual([0, 1, 0, 1]);
    expect(every2.fractionSaved).toBeCloseTo((2 * (476928 - 186368)) / (4 * 476928), 12);
    expect(predictedTimeSaved(tiny, constantSchedule(1), steps, { fill: 'cache:2' }).ks).toEqual([0, 1, 0, 1]);
  });
});
