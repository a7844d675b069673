/**
 * FD-LeNet end to end on the shipped classifier and the MNIST reference: the floor's definition,
 * its sample-size bias, and scores of clearly bad "generators" far above it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createFdLenetReference,
  fdLenet,
  fdLenetFloor,
  featureStatistics,
  frechetDistance,
  loadMnistReference,
  loadMnistReferenceImages,
  type FdLenetReference,
  type MnistReferenceImages,
} from '../src/index.js';

const P = 1024;
/** A tiny deterministic generator (Park–Miller), so the noise images are the same on every run. */
function uniforms(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

describe('fdLenet on MNIST', () => {
  let reference: FdLenetReference;
  let halves: MnistReferenceImages;
  beforeAll(async () => {
    reference = await loadMnistReference();
    halves = await loadMnistReferenceImages();
  });

  it('caches the reference per process', async () => {
    expect(await loadMnistReference()).toBe(reference);
    expect(reference.statistics.count).toBe(5002);
    expect(reference.heldOutCount).toBe(4998);
  });

  it('floor(n) averages FD(block, R) over disjoint blocks of n images of H; a block scores its own FD', () => {
    const n = 1000;
    // From the reference's stored features of H (the last line checks they are H's images' features).
    const blockFd = (j: number): number =>
      frechetDistance(featureStatistics(reference.heldOutFeatures.subarray(j * n * 84, (j + 1) * n * 84), n, 84), reference.statistics);
    // ⌊4998 / 1000⌋ = 4 blocks.
    const direct = [0, 1, 2, 3].map(blockFd);
    const floor = fdLenetFloor(reference, n);
    expect(floor.blocks).toBe(4);
    expect(floor.count).toBe(n);
    expect(floor.mean).toBeCloseTo((direct[0]! + direct[1]! + direct[2]! + direct[3]!) / 4, 12);
    expect(floor.min).toBe(Math.min(...direct));
    expect(floor.max).toBe(Math.max(...direct));
    expect(fdLenetFloor(reference, n)).toBe(floor); // cached
    const result = fdLenet({ generated: halves.heldOut.images.subarray(n * P, 2 * n * P), count: n, reference });
    expect(result).toEqual({ fd: direct[1], floor, count: n });
  });

  it('floors shrink with n (the sample-size bias), stay small, and average at most 10 blocks', () => {
    const floors = [100, 500, 1000, 4998].map((n) => fdLenetFloor(reference, n));
    expect(floors.map((f) => f.blocks)).toEqual([10, 9, 4, 1]);
    for (let i = 1; i < floors.length; i++) expect(floors[i]!.mean).toBeLessThan(floors[i - 1]!.mean);
    expect(floors[1]!.mean).toBeLessThan(15);
    for (const f of floors) expect(f.min <= f.mean && f.mean <= f.max).toBe(true);
  });

  it('scores a fresh real sample close to the floor', () => {
    // At n = 400 the floor uses 10 blocks, H's images 0–3,999; images 4,000–4,399 are real digits it never saw.
    const n = 400;
    const { fd, floor } = fdLenet({ generated: halves.heldOut.images.slice(4000 * P, 4400 * P), count: n, reference });
    expect(floor!.blocks).toBe(10);
    expect(fd / floor!.mean).toBeGreaterThan(0.6);
    expect(fd / floor!.mean).toBeLessThan(1.5);
  });

  it('scores uniform noise, noisy digits and a collapsed generator far above the floor', () => {
    const n = 500;
    const random = uniforms(12345);
    const noise = Float32Array.from({ length: n * P }, () => 2 * random() - 1);
    const noisyDigits = halves.heldOut.images.slice(2000 * P, 2500 * P).map((v) => v + (random() - 0.5));
    // Mode collapse: 500 real digits, all of them 1s.
    const ones = new Float32Array(n * P);
    for (let i = 0, k = 0; k < n; i++) if (halves.heldOut.labels[i] === 1) ones.set(halves.heldOut.images.subarray(i * P, (i + 1) * P), P * k++);

    const floor = fdLenetFloor(reference, n);
    expect(fdLenet({ generated: noise, count: n, reference }).fd).toBeGreaterThan(50 * floor.max);
    expect(fdLenet({ generated: ones, count: n, reference }).fd).toBeGreaterThan(50 * floor.max);
    expect(fdLenet({ generated: noisyDigits, count: n, reference }).fd).toBeGreaterThan(2 * floor.max);
  });

  it('rejects bad generated batches with the field named', () => {
    expect(() => fdLenet({ generated: new Float32Array(3 * P), count: 4, reference })).toThrow(
      expect.objectContaining({ code: 'INVALID_SHAPE', message: expect.stringContaining('generated has 3072 values but count = 4') }),
    );
    expect(() => fdLenet({ generated: new Float32Array(P), count: 1, reference })).toThrow(/count must be at least 2/);
    const nan = new Float32Array(2 * P);
    nan[P + 3] = NaN;
    expect(() => fdLenet({ generated: nan, count: 2, reference })).toThrow(/generated contains NaN at image 1, pixel 3/);
    expect(() => fdLenet({ generated: new Float32Array(2 * P), count: 2, reference: {} as FdLenetReference })).toThrow(/reference must be an FdLenetReference/);
    expect(() => fdLenetFloor(reference, 5000)).toThrow(/count must be an integer in \[2, 4998\]/);
  });
});

describe('createFdLenetReference with caller-supplied real images', () => {
  it('has no floor when H is smaller than the generated batch', async () => {
    const { reference, heldOut } = await loadMnistReferenceImages();
    const small = await createFdLenetReference({
      reference: { images: reference.images.subarray(0, 60 * P), count: 60 },
      heldOut: { images: heldOut.images.subarray(0, 20 * P), count: 20 },
    });
    expect(small.heldOutCount).toBe(20);
    const result = fdLenet({ generated: heldOut.images.subarray(20 * P, 50 * P), count: 30, reference: small });
    expect(result.floor).toBeNull();
    expect(result.fd).toBeGreaterThan(0);
    expect(fdLenet({ generated: heldOut.images.subarray(20 * P, 40 * P), count: 20, reference: small }).floor).toBe(fdLenetFloor(small, 20));
  });

  it('validates both sets', async () => {
    await expect(createFdLenetReference({ reference: { images: new Float32Array(10), count: 1 }, heldOut: { images: new Float32Array(P), count: 1 } })).rejects.toThrow(
      /reference\.images has 10 values but reference\.count = 1/,
    );
    await expect(createFdLenetReference({ reference: { images: new Float32Array(P), count: 1 }, heldOut: { images: new Float32Array(2 * P), count: 2 } })).rejects.toThrow(
      /count must be an integer ≥ 2/,
    );
  });
});
