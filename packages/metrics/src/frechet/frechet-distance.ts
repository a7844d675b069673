/**
 * The Fréchet (2-Wasserstein) distance between the Gaussians N(μa, Σa) and N(μb, Σb)
 * (Dowson & Landau 1982; used by FID, Heusel et al. 2017, eq. 6):
 *
 *   d² = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^{1/2})
 *
 * Σa Σb is not symmetric, and scipy's `sqrtm` of it (what FID code calls) can return complex
 * noise. We use the symmetric form instead: with S = Σa^{1/2},
 *
 *   Tr((Σa Σb)^{1/2}) = Tr((S Σb S)^{1/2}) = Σ_k sqrt(λ_k(S Σb S)),
 *
 * because Σa Σb = S (S Σb S) S^{-1} has the eigenvalues of the symmetric positive semi-definite
 * S Σb S (by continuity also when Σa is singular). Both square roots come from symmetric
 * eigendecompositions (ml-matrix's EVD on the symmetrised matrix, float64); eigenvalues that
 * rounding pushes below zero, which a PSD matrix cannot have, are clamped to 0 before the square
 * root; and a total that rounding pushes below zero (identical inputs) is returned as 0.
 */
import { LevelskipError } from '@levelskip/core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { FeatureStatistics } from './feature-statistics.js';

function symmetricMatrix(values: Float64Array, dim: number): Matrix {
  const matrix = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) matrix.set(i, j, 0.5 * (values[i * dim + j]! + values[j * dim + i]!));
  }
  return matrix;
}

function symmetrised(matrix: Matrix): Matrix {
  return matrix.add(matrix.transpose()).mul(0.5);
}

/** The PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix. */
function symmetricSquareRoot(matrix: Matrix): Matrix {
  const decomposition = new EigenvalueDecomposition(matrix, { assumeSymmetric: true });
  const vectors = decomposition.eigenvectorMatrix;
  const roots = decomposition.realEigenvalues.map((lambda) => Math.sqrt(Math.max(lambda, 0)));
  const scaled = vectors.clone();
  for (let i = 0; i < scaled.rows; i++) for (let k = 0; k < scaled.columns; k++) scaled.set(i, k, scaled.get(i, k) * roots[k]!);
  return symmetrised(scaled.mmul(vectors.transpose()));
}

/** Tr(M^{1/2}) of a symmetric PSD matrix: Σ √max(λ, 0). */
function traceOfSquareRoot(matrix: Matrix): number {
  const decomposition = new EigenvalueDecomposition(symmetrised(matrix), { assumeSymmetric: true });
  return decomposition.realEigenvalues.reduce((sum, lambda) => sum + Math.sqrt(Math.max(lambda, 0)), 0);
}

function checkStatistics(statistics: unknown, field: string): asserts statistics is FeatureStatistics {
  const { dim, mean, covariance } = (statistics ?? {}) as { dim?: unknown; mean?: unknown; covariance?: unknown };
  const problem =
    !(typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 1)
      ? `dim must be a positive integer, got ${String(dim)}`
      : !(mean instanceof Float64Array || mean instanceof Float32Array) || mean.length !== dim
        ? `mean must be a Float64Array of dim = ${dim} values`
        : !(covariance instanceof Float64Array || covariance instanceof Float32Array) || covariance.length !== dim * dim
          ? `covariance must be a Float64Array of dim × dim = ${dim * dim} values`
          : !mean.every(Number.isFinite) || !covariance.every(Number.isFinite)
            ? 'mean and covariance must be finite'
            : undefined;
  if (problem !== undefined) {
    throw new LevelskipError('INVALID_OPTION', `${field}: ${problem}; build statistics with featureStatistics(features, count, dim)`, {
      issues: [{ path: [field], message: problem }],
    });
  }
}

/**
 * d² = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^{1/2}) between two feature statistics (the squared
 * Fréchet distance, the quantity FID reports).
 *
 * @throws LevelskipError `INVALID_OPTION` for malformed statistics; `INVALID_SHAPE` when their dims differ.
 */
export function frechetDistance(a: FeatureStatistics, b: FeatureStatistics): number {
  checkStatistics(a, 'a');
  checkStatistics(b, 'b');
  if (a.dim !== b.dim) {
    throw new LevelskipError('INVALID_SHAPE', `cannot compare statistics of ${a.dim}-dimensional and ${b.dim}-dimensional features; compute both with the same network`);
  }
  const dim = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < dim; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  let traceTerm = 0;
  for (let i = 0; i < dim; i++) traceTerm += a.covariance[i * dim + i]! + b.covariance[i * dim + i]!;

  const rootA = symmetricSquareRoot(symmetricMatrix(a.covariance, dim));
  const crossTrace = traceOfSquareRoot(rootA.mmul(symmetricMatrix(b.covariance, dim)).mmul(rootA));
  return Math.max(0, meanTerm + traceTerm - 2 * crossTrace);
}
