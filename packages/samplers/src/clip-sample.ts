/**
 * `clipSample`: clamping the predicted x̂₀ to [-range, range] (diffusers' `clip_sample` and
 * `clip_sample_range`; DDPM's original sampler clips to [-1, 1], the range of its image data).
 */
import type { TensorOps } from '@levelskip/core';
import { epsilonTerms, linearCombination, type Term } from './linear-combination.js';

/**
 * x̂₀ = x0FromX·x - x0FromEps·ε (DDPM eq. 15, DDIM eq. 12's "predicted x₀"), clamped to
 * [-range, range]. A new tensor; disposes nothing it was given.
 */
export function clippedX0<T>(ops: TensorOps<T>, x: T, eps: T, x0FromX: number, x0FromEps: number, range: number, epsilon?: readonly Term<T>[]): T {
  return linearCombination(ops, [[x0FromX, x], ...epsilonTerms(-x0FromEps, eps, epsilon)], { min: -range, max: range });
}
