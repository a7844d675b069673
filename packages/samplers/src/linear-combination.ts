/**
 * Σ cᵢ·xᵢ over a backend's `TensorOps`: every sampler update in this package is one such
 * combination of the sample, the prediction, earlier predictions and fresh noise, with scalar
 * coefficients computed in float64 on the host. Intermediates are disposed as soon as they are
 * used, so a step leaves only its result alive.
 */
import { LevelskipError, type TensorOps } from '@levelskip/core';

/** One term cᵢ·xᵢ of a linear combination. */
export type Term<T> = readonly [coefficient: number, tensor: T];

/**
 * A new tensor Σ cᵢ·xᵢ (same shapes). Does not dispose the inputs. A coefficient of exactly 1
 * costs no `scale` and -1 becomes a `sub`, so `[[1, mean], [σ, z]]` is one scale and one add.
 *
 * @throws LevelskipError `INTERNAL` for an empty list.
 */
export function linearCombination<T>(ops: TensorOps<T>, terms: readonly Term<T>[]): T {
  // Start from a term that needs a scale anyway, so that no clone is needed.
  const ordered = [...terms.filter(([c]) => c !== 1 && c !== -1), ...terms.filter(([c]) => c === 1 || c === -1)];
  let sum: T | undefined;
  try {
    for (const [coefficient, x] of ordered) {
      if (sum === undefined) {
        sum = coefficient === 1 ? ops.clone(x) : ops.scale(x, coefficient);
        continue;
      }
      let next: T;
      if (coefficient === 1) next = ops.add(sum, x);
      else if (coefficient === -1) next = ops.sub(sum, x);
      else {
        const scaled = ops.scale(x, coefficient);
        try {
          next = ops.add(sum, scaled);
        } finally {
          ops.dispose(scaled);
        }
      }
      const previous = sum;
      sum = next;
      ops.dispose(previous);
    }
  } catch (error) {
    if (sum !== undefined) ops.dispose(sum);
    throw error;
  }
  if (sum === undefined) throw new LevelskipError('INTERNAL', 'linearCombination needs at least one term');
  return sum;
}

/**
 * Σ cᵢ·xᵢ + σ·z, drawing z from `noise` only when σ ≠ 0, so that a step without noise consumes
 * no random numbers. Disposes z; not the inputs.
 */
export function linearCombinationWithNoise<T>(ops: TensorOps<T>, terms: readonly Term<T>[], sigma: number, noise: () => T): T {
  if (sigma === 0) return linearCombination(ops, terms);
  const z = noise();
  try {
    return linearCombination(ops, [...terms, [sigma, z]]);
  } finally {
    ops.dispose(z);
  }
}
