/**
 * MNIST samples as levelskip's models take them: each 28×28 digit zero-padded by 2 pixels on
 * every side to 32×32 (the padding added in [0, 1] intensity space, so it is background), then
 * scaled from [0, 1] to [-1, 1] (x ↦ 2x − 1; background −1). The `mnistSmall` preset and
 * FD-LeNet's classifier both work on these images.
 */
import { LevelskipError } from '@levelskip/core';
import type { LabelledImages } from '../labelled-images.js';
import { mnistDigitSide, type MnistDigits } from './mnist-package.js';

/** Side of a prepared MNIST image (28 + 2 × 2), in pixels. */
export const mnistImageSide = 32;

const pad = (mnistImageSide - mnistDigitSide) / 2;

/** One MNIST sample: its digit (0 to 9) and its index among that digit's stored samples. */
export type MnistSample = readonly [digit: number, index: number];

/**
 * The given samples, padded to 32×32 and scaled to [-1, 1] (see the file comment), in the order
 * given, with their digits as labels.
 *
 * @throws LevelskipError `INVALID_OPTION` (path `samples[i]`) for a digit outside 0–9 or an
 *   index outside that digit's stored samples.
 */
export function mnistImages(digits: MnistDigits, samples: readonly MnistSample[]): LabelledImages {
  const pixels = mnistImageSide * mnistImageSide;
  // −1 everywhere is the padding (0 in [0, 1]) already scaled.
  const images = new Float32Array(samples.length * pixels).fill(-1);
  const labels = new Uint8Array(samples.length);
  samples.forEach(([d, index], slot) => {
    const digit = digits[d];
    if (digit === undefined || !Number.isInteger(d) || !(Number.isInteger(index) && index >= 0 && index < digit.length)) {
      const available = digit === undefined ? 'a digit 0 to 9' : `a sample index in [0, ${digit.length - 1}] for digit ${d}`;
      throw new LevelskipError('INVALID_OPTION', `mnistImages: samples[${slot}] is [${String(d)}, ${String(index)}]; each sample must be [digit, index] with ${available}`, {
        issues: [{ path: ['samples', slot], message: `must name ${available}` }],
      });
    }
    const raw = digit.raw;
    const source = index * mnistDigitSide * mnistDigitSide;
    const out = slot * pixels;
    for (let y = 0; y < mnistDigitSide; y++) {
      for (let x = 0; x < mnistDigitSide; x++) images[out + (y + pad) * mnistImageSide + x + pad] = 2 * raw[source + y * mnistDigitSide + x]! - 1;
    }
    labels[slot] = d;
  });
  return { images, count: samples.length, labels };
}
