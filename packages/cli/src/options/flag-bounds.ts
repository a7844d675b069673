/**
 * The documented range of every numeric flag of `sample`, `eval`, `demo` and `export` (`--help`
 * shows each; a value outside fails at once with an `INVALID_OPTION` naming the flag and the fix).
 * Generous for real use, small enough that no flag alone can make the CLI allocate absurd arrays
 * (`--columns 1e15` used to die in a raw RangeError). What a request needs in memory (activations
 * × batch) is checked separately, against `--max-memory`, once the model is known.
 */
import { totalmem } from 'node:os';
import type { IntegerBounds } from './option-values.js';

/** Integer flags and their inclusive ranges. */
export const flagBounds = {
  /** Images per sampling call; memory is the real limit (see `--max-memory`). */
  batch: { min: 1, max: 4096 },
  /** Sampling steps: core bounds trainTimesteps at 100,000, and a step count never exceeds T. */
  steps: { min: 1, max: 100_000 },
  /** Annealed Langevin's noise levels (a divisor of --steps). */
  noiseLevels: { min: 1, max: 10_000 },
  /** Images per PNG grid row. */
  columns: { min: 1, max: 1024 },
  /** Integer upscaling of each image in the grid. */
  scale: { min: 1, max: 16 },
  /** Seeds (noise and random weights): any safe integer ≥ 0. */
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER },
  /** The demo's cache:m row, 0 = none. */
  cacheInterval: { min: 0, max: 10_000 },
} as const satisfies Record<string, IntegerBounds>;

/** Range of the power schedule's c (`--c`); (1 − t)^c is 0 for every t > 0 long before c = 100. */
export const curvatureBound = 100;

/** `--max-memory` accepts sizes in this range (bytes). */
export const maxMemoryBounds: IntegerBounds = { min: 16 * 1024 ** 2, max: 1024 ** 4 };

/** 4 GiB, or half the machine's memory when that is less. */
export function defaultMaxMemoryBytes(): number {
  return Math.min(4 * 1024 ** 3, Math.floor(totalmem() / 2));
}

/** The `--max-memory` help text. */
export const maxMemoryHelp =
  'refuse a run whose estimated memory (U-Net activations × batch, plus the PNG grid) exceeds this size, e.g. 8GiB (16MiB–1TiB; default 4GiB or half the RAM, whichever is less)';
