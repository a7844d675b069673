/**
 * Reading a calibration table between its grid points: the ε error at any timestep (piecewise
 * linear in t between calibrated timesteps, constant beyond the first and last), and for the cache
 * fill at any cache age (piecewise linear in the age, from 0 error at age 0, and unknown beyond
 * the oldest age measured, so a schedule never relies on an extrapolation).
 */
import type { CalibratedCacheFill, CalibratedStatelessFill } from './calibration-table.js';

/** Where x falls on an increasing grid: the two neighbours and the weight of the upper one (clamped at the ends). */
function bracket(grid: readonly number[], x: number): { readonly lo: number; readonly hi: number; readonly w: number } {
  const last = grid.length - 1;
  if (x <= grid[0]!) return { lo: 0, hi: 0, w: 0 };
  if (x >= grid[last]!) return { lo: last, hi: last, w: 0 };
  let hi = 1;
  while (grid[hi]! < x) hi++;
  const lo = hi - 1;
  return { lo, hi, w: (x - grid[lo]!) / (grid[hi]! - grid[lo]!) };
}

/** ε error of a stateless fill at diffusion `timestep`, depth index `kIndex` (into the table's `ks`). */
export function statelessErrorAt(timesteps: readonly number[], entry: CalibratedStatelessFill, timestep: number, kIndex: number): number {
  const { lo, hi, w } = bracket(timesteps, timestep);
  const low = entry.epsilonError[lo]![kIndex]!;
  return w === 0 ? low : low + w * (entry.epsilonError[hi]![kIndex]! - low);
}

/** One calibrated timestep's error at a fractional age (in calibrated steps), or undefined where not measured. */
function errorAtAge(entry: CalibratedCacheFill, row: number, kIndex: number, age: number): number | undefined {
  const errors = entry.epsilonError[row]![kIndex]!;
  const ages = entry.ages;
  if (age > ages[ages.length - 1]! + 1e-9) return undefined;
  // Age 0: the cache holds this very step's features, so the error is 0.
  let previousAge = 0;
  let previousError = 0;
  for (let a = 0; a < ages.length; a++) {
    const error = errors[a];
    if (age <= ages[a]! + 1e-9) {
      if (error === null || error === undefined) return undefined;
      const w = (age - previousAge) / (ages[a]! - previousAge);
      return previousError + Math.min(1, Math.max(0, w)) * (error - previousError);
    }
    if (error === null || error === undefined) return undefined;
    previousAge = ages[a]!;
    previousError = error;
  }
  return undefined;
}

/**
 * ε error of the cache fill at diffusion `timestep`, depth index `kIndex`, when the cache was filled
 * `gap` diffusion timesteps earlier in the run (the gap is converted to the table's steps of
 * `stepSpacing`). Undefined when that age was not measured.
 *
 * Between calibrated timesteps the error is interpolated linearly; where one neighbour has no
 * measurement (its full-depth step would lie beyond T − 1), the nearest lower timestep that has one
 * is used.
 */
export function cacheErrorAt(timesteps: readonly number[], entry: CalibratedCacheFill, timestep: number, kIndex: number, gap: number): number | undefined {
  const age = gap / entry.stepSpacing;
  const { lo, hi, w } = bracket(timesteps, timestep);
  const low = errorAtAge(entry, lo, kIndex, age);
  const high = hi === lo ? low : errorAtAge(entry, hi, kIndex, age);
  if (low !== undefined && high !== undefined) return low + w * (high - low);
  if (low !== undefined) return low;
  if (high !== undefined) return high;
  for (let row = lo - 1; row >= 0; row--) {
    const value = errorAtAge(entry, row, kIndex, age);
    if (value !== undefined) return value;
  }
  return undefined;
}
