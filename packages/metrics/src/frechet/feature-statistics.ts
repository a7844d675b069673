/**
 * The Gaussian summary of a set of feature vectors that the Fréchet distance compares: the
 * sample mean μ = (1/n) Σ_i x_i and the unbiased sample covariance
 * Σ = (1/(n − 1)) Σ_i (x_i − μ)(x_i − μ)ᵀ (numpy's `np.cov(X, rowvar=False)`, as in FID
 * reference code), accumulated in float64.
 */
import { LevelskipError } from '@levelskip/core';

/** Mean and covariance of `count` feature vectors of length `dim`. */
export interface FeatureStatistics {
  /** Number of vectors summarised (at least 2). */
  readonly count: number;
  /** Length of each vector. */
  readonly dim: number;
  /** μ, `dim` values. */
  readonly mean: Float64Array;
  /** Σ, `dim × dim` row-major, symmetric, normalised by count − 1. */
  readonly covariance: Float64Array;
}

function checkPositiveInteger(value: unknown, field: string, minimum: number, why: string): asserts value is number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum)) {
    throw new LevelskipError('INVALID_OPTION', `${field} must be an integer ≥ ${minimum} (${why}), got ${String(value)}`, {
      issues: [{ path: [field], message: `must be an integer ≥ ${minimum}` }],
    });
  }
}

/**
 * Mean and unbiased covariance of feature vectors.
 *
 * @param features `count × dim` values, row-major (one vector per row), e.g. `lenet.features(images, count)`.
 * @param count Number of vectors, at least 2 (a covariance needs two samples).
 * @param dim Length of each vector.
 * @throws LevelskipError `INVALID_OPTION` for count < 2, a bad dim, a features argument that is not a
 *   Float32Array / Float64Array or holds NaN / infinite values; `INVALID_SHAPE` when its length is
 *   not count × dim.
 */
export function featureStatistics(features: Float32Array | Float64Array, count: number, dim: number): FeatureStatistics {
  checkPositiveInteger(count, 'count', 2, 'a covariance needs at least two feature vectors');
  checkPositiveInteger(dim, 'dim', 1, 'the length of each feature vector');
  if (!(features instanceof Float32Array || features instanceof Float64Array)) {
    throw new LevelskipError('INVALID_OPTION', `features must be a Float32Array or Float64Array of count × dim values, got ${features === null ? 'null' : typeof features}`, {
      issues: [{ path: ['features'], message: 'must be a Float32Array or Float64Array' }],
    });
  }
  if (features.length !== count * dim) {
    throw new LevelskipError('INVALID_SHAPE', `features has ${features.length} values but count × dim = ${count} × ${dim} = ${count * dim}; pass the matching count and dim`, {
      issues: [{ path: ['features'], message: 'length must be count × dim' }],
    });
  }
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dim; i++) {
      const value = features[n * dim + i]!;
      if (!Number.isFinite(value)) {
        throw new LevelskipError('INVALID_OPTION', `features contains ${String(value)} in vector ${n}, component ${i}: every value must be finite`, {
          issues: [{ path: ['features', n * dim + i], message: 'must be finite' }],
        });
      }
      mean[i]! += value;
    }
  }
  for (let i = 0; i < dim; i++) mean[i]! /= count;

  // Two passes (centre, then accumulate the upper triangle) for accuracy.
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dim; i++) centred[i] = features[n * dim + i]! - mean[i]!;
    for (let i = 0; i < dim; i++) {
      const ci = centred[i]!;
      const row = i * dim;
      for (let j = i; j < dim; j++) covariance[row + j]! += ci * centred[j]!;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const value = covariance[i * dim + j]! / (count - 1);
      covariance[i * dim + j] = value;
      covariance[j * dim + i] = value;
    }
  }
  return { count, dim, mean, covariance };
}
