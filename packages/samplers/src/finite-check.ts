/**
 * Finiteness checks of the sampling loop. A non-finite weight, an overflowing activation or a
 * diverging update turns the sample into NaN or ±Inf, and a PNG writer maps those to black (or
 * clips them to white) without complaint; so `sample()` reads the model's prediction ε̂ back every
 * few steps, and the final sample always, and stops with `LevelskipError('NONFINITE')` naming the
 * step, timestep and k.
 *
 * The scan is one pass over the floats with `v - v !== 0` (true exactly for NaN and ±Inf); the
 * counts by kind are taken only once something was found.
 */
import { LevelskipError } from '@levelskip/core';

/** How many of `data`'s values are NaN, +Inf and -Inf. */
export interface NonFiniteCounts {
  readonly nan: number;
  readonly positiveInfinity: number;
  readonly negativeInfinity: number;
  readonly total: number;
}

/** Index of the first NaN or ±Inf in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Counts the NaN, +Inf and -Inf values of `data`. */
export function countNonFinite(data: Float32Array): NonFiniteCounts {
  let nan = 0;
  let positiveInfinity = 0;
  let negativeInfinity = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v !== v) nan++;
    else if (v === Infinity) positiveInfinity++;
    else if (v === -Infinity) negativeInfinity++;
  }
  return { nan, positiveInfinity, negativeInfinity, total: data.length };
}

function describeCounts(counts: NonFiniteCounts): string {
  const parts: string[] = [];
  if (counts.nan > 0) parts.push(`${counts.nan} NaN`);
  if (counts.positiveInfinity > 0) parts.push(`${counts.positiveInfinity} +Infinity`);
  if (counts.negativeInfinity > 0) parts.push(`${counts.negativeInfinity} -Infinity`);
  return `${parts.join(', ')} of ${counts.total} values`;
}

/** Where a check ran: the step (1-based), the run's length, the step's timestep and k. */
export interface CheckPoint {
  readonly step: number;
  readonly total: number;
  readonly timestep: number;
  readonly k: number;
}

/**
 * The `NONFINITE` error for `data` (which holds a non-finite value): `what` is `'prediction'`
 * (the model's ε̂ at that step) or `'sample'` (x after that step). `lastFiniteStep` is the step of
 * the last check that passed (0: before step 1), `predictionsChecked` whether ε̂ was checked at all.
 */
export function nonFiniteError(
  what: 'prediction' | 'sample',
  at: CheckPoint,
  data: Float32Array,
  context: { readonly lastFiniteStep: number; readonly predictionsChecked: boolean },
): LevelskipError {
  const where = `step ${at.step} of ${at.total} (timestep ${at.timestep}, k = ${at.k})`;
  const counts = describeCounts(countNonFinite(data));
  const since =
    context.lastFiniteStep >= at.step - 1
      ? ''
      : `; the last check${context.lastFiniteStep === 0 ? ', before step 1,' : `, after step ${context.lastFiniteStep},`} was finite, so it arose in steps ${context.lastFiniteStep + 1} to ${at.step}`;
  const cause =
    what === 'prediction' || !context.predictionsChecked
      ? 'The weights or the input hold NaN or Infinity, or an activation overflowed float32; check the checkpoint (levelskip info) or retrain it'
      : 'Every checked model prediction was finite, so the update diverged (a step size or noise schedule out of range) or an unchecked prediction was not finite';
  const subject = what === 'prediction' ? `the model's prediction ε at ${where}` : `the sample x after ${where}`;
  return new LevelskipError('NONFINITE', `sample: ${subject} is not finite (${counts})${since}. ${cause}. No samples were produced.`);
}
