/**
 * The split, interleaving and image preparation on a small synthetic `mnist` package whose every
 * intensity encodes where it came from, so each expected value is written down by hand.
 */
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { loadMnist, mnistDigitsFrom, mnistImages, type MnistDigit } from '../../src/index.js';

/** Digit d stores `lengths[d]` samples; pixel p of sample s of digit d holds (d + 10 s) / 1000 when p is the centre, else 0. */
const lengths = [4, 5, 2, 7, 3, 4, 4, 6, 4, 5];
const centre = 14 * 28 + 14;
const fake: MnistDigit[] = lengths.map((length, id) => {
  const raw = new Float64Array(length * 784);
  for (let s = 0; s < length; s++) raw[s * 784 + centre] = (id + 10 * s) / 1000;
  return { id, length, raw };
});
/** The (digit, sample) an image came from, read back from its centre pixel (row 16, column 16 after padding). */
const origin = (images: Float32Array, n: number): [number, number] => {
  const code = Math.round(((images[n * 1024 + 16 * 32 + 16]! + 1) / 2) * 1000);
  return [code % 10, Math.floor(code / 10)];
};

describe('loadMnist on a synthetic package', () => {
  it('splits each digit: its last min(100, ⌊length / 2⌋) samples are the test split', async () => {
    // Test samples per digit: ⌊length / 2⌋ = 2, 2, 1, 3, 1, 2, 2, 3, 2, 2 (sum 20); train: the other 44 − 20 = 24.
    const test = await loadMnist({ split: 'test', mnist: fake });
    const train = await loadMnist({ split: 'train', mnist: fake });
    const all = await loadMnist({ split: 'all', mnist: fake });
    expect([test.count, train.count, all.count]).toEqual([20, 24, 44]);
    // Test split, class-interleaved: round 1 takes the first test sample of every digit.
    expect(Array.from({ length: 10 }, (_, n) => origin(test.images, n))).toEqual([
      [0, 2], [1, 3], [2, 1], [3, 4], [4, 2], [5, 2], [6, 2], [7, 3], [8, 2], [9, 3],
    ]);
    // Round 2: digits 2 and 4 have one test sample only, so they drop out.
    expect(Array.from({ length: 8 }, (_, n) => origin(test.images, 10 + n))).toEqual([
      [0, 3], [1, 4], [3, 5], [5, 3], [6, 3], [7, 4], [8, 3], [9, 4],
    ]);
    // Round 3: only digits 3 and 7 still have a test sample.
    expect([origin(test.images, 18), origin(test.images, 19)]).toEqual([[3, 6], [7, 5]]);
    expect([...test.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 3, 5, 6, 7, 8, 9, 3, 7]);
    // Train starts at sample 0 of every digit.
    expect(Array.from({ length: 10 }, (_, n) => origin(train.images, n))).toEqual(lengths.map((_, d) => [d, 0]));
  });

  it('pads with −1 and maps 0 ↦ −1, v ↦ 2v − 1', async () => {
    const { images } = await loadMnist({ split: 'all', count: 13, mnist: fake });
    // Image 12 is sample 1 of digit 2: centre (2 + 10) / 1000 = 0.012 → 2 · 0.012 − 1 = −0.976.
    expect(images[12 * 1024 + 16 * 32 + 16]).toBe(Math.fround(-0.976));
    const rest = images.subarray(12 * 1024, 13 * 1024).filter((_, i) => i !== 16 * 32 + 16);
    expect(rest.every((v) => v === -1)).toBe(true);
  });

  it('refuses a package that is not mnist 1.x', () => {
    for (const module of [undefined, {}, [], fake.slice(0, 9), fake.map((d, i) => (i === 3 ? { ...d, raw: [0.5] } : d)), fake.map((d, i) => (i === 0 ? { ...d, id: 7 } : d))]) {
      expect(() => mnistDigitsFrom(module, 'my-mnist')).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('"my-mnist" does not look like mnist 1.x') }));
    }
  });
});

describe('mnistImages', () => {
  it('prepares the samples given, in the order given, with their digits as labels', () => {
    const set = mnistImages(fake, [[7, 5], [0, 0], [7, 5]]);
    expect(set.count).toBe(3);
    expect([...set.labels]).toEqual([7, 0, 7]);
    expect([origin(set.images, 0), origin(set.images, 1), origin(set.images, 2)]).toEqual([[7, 5], [0, 0], [7, 5]]);
  });

  it('names the sample that does not exist', () => {
    for (const [samples, slot] of [
      [[[0, 0], [2, 2]], 1], // digit 2 stores 2 samples: indices 0 and 1
      [[[10, 0]], 0],
      [[[1, -1]], 0],
      [[[3, 0.5]], 0],
    ] as const) {
      let error: unknown;
      try {
        mnistImages(fake, samples as unknown as [number, number][]);
      } catch (e) {
        error = e;
      }
      expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
      expect(LevelskipError.is(error) && error.issues[0]!.path).toEqual(['samples', slot]);
    }
  });
});
