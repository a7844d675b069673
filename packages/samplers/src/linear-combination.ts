/**
 * Σ cᵢ·xᵢ over a backend's `TensorOps`: every sampler update in this package is one such
 * combination of the sample, the prediction, earlier predictions and fresh noise, with scalar
 * coefficients computed in float64 on the host. Intermediates are disposed as soon as they are
 * used, so a step leaves only its result alive.
 */
import { LevelskipError, type TensorOps } from '@levelskip/core';

/** One term cᵢ·xᵢ of a linear combination. */
export type Term<T> = readonly [coefficient: number, tensor: T];

/** `terms` with each tensor once (the first place it appears), its coefficients summed. */
function mergeTerms<T>(terms: readonly Term<T>[]): Term<T>[] {
  const merged: [number, T][] = [];
  for (const [coefficient, tensor] of terms) {
    const same = merged.find(([, t]) => t === tensor);
    if (same === undefined) merged.push([coefficient, tensor]);
    else same[0] += coefficient;
  }
  return merged;
}

/**
 * The terms of c·ε̂: `[[c, eps]]`, or, when the sampler was given ε̂ exactly as a combination of
 * tensors (`SamplerRun.step`'s `epsilon`: a v- or x₀-predicting model's output and the sample),
 * that combination scaled by c, so that `linearCombination` merges it with the step's own terms.
 */
export function epsilonTerms<T>(coefficient: number, eps: T, epsilon: readonly Term<T>[] | undefined): Term<T>[] {
  return epsilon === undefined ? [[coefficient, eps]] : epsilon.map(([c, tensor]) => [coefficient * c, tensor] as const);
}

/**
 * A new tensor Σ cᵢ·xᵢ (same shapes), clamped to [clamp.min, clamp.max] when `clamp` is given.
 * Does not dispose the inputs. One pass when the backend has `ops.combine`; otherwise a chain in
 * which a coefficient of exactly 1 costs no `scale` and -1 becomes a `sub`, so `[[1, mean], [σ, z]]`
 * is one scale and one add.
 *
 * @throws LevelskipError `INTERNAL` for an empty list.
 */
export function linearCombination<T>(ops: TensorOps<T>, terms: readonly Term<T>[], clamp?: { readonly min: number; readonly max: number }): T {
  // Terms of the same tensor are merged first, their coefficients summed in float64: a
  // v-predicting model's ε̂ = √(1-ᾱ)·x + √ᾱ·v substituted into a step gives two large x
  // coefficients of opposite sign at ᾱ ≈ 0, whose float32 sum would lose the answer.
  const merged = mergeTerms(terms);
  // Start from a term that needs a scale anyway, so that no clone is needed.
  const ordered = [...merged.filter(([c]) => c !== 1 && c !== -1), ...merged.filter(([c]) => c === 1 || c === -1)];
  if (ordered.length === 0) throw new LevelskipError('INTERNAL', 'linearCombination needs at least one term');
  // One pass where the backend fuses it; it rounds exactly as the chain below, so results do not change.
  if (ops.combine !== undefined) return ops.combine(ordered, clamp);
  const sum = chainedCombination(ops, ordered);
  if (clamp === undefined) return sum;
  try {
    return ops.clamp(sum, clamp.min, clamp.max);
  } finally {
    ops.dispose(sum);
  }
}

/** Σ cᵢ·xᵢ as a chain of `scale`, `add` and `sub`, disposing each intermediate as soon as it is used. */
function chainedCombination<T>(ops: TensorOps<T>, ordered: readonly Term<T>[]): T {
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
