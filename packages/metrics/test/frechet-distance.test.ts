/**
 * Fréchet distance and feature statistics against hand calculations (closed forms for diagonal and
 * commuting covariances) and against numpy (a numeric case with full covariances).
 */
import { describe, expect, it } from 'vitest';
import { featureStatistics, frechetDistance, type FeatureStatistics } from '../src/index.js';

function statistics(mean: number[], covariance: number[][]): FeatureStatistics {
  return { count: 10, dim: mean.length, mean: Float64Array.from(mean), covariance: Float64Array.from(covariance.flat()) };
}

describe('featureStatistics', () => {
  it('computes the mean and the unbiased covariance by hand', () => {
    // Rows (1,2), (3,6), (5,4): mean (3, 4); centred (−2,−2), (0,2), (2,0);
    // Σ = [[4+0+4, 4+0+0], [4, 4+4+0]] / (3 − 1) = [[4, 2], [2, 4]].
    const s = featureStatistics(Float32Array.from([1, 2, 3, 6, 5, 4]), 3, 2);
    expect(s.count).toBe(3);
    expect(s.dim).toBe(2);
    expect([...s.mean]).toEqual([3, 4]);
    expect([...s.covariance]).toEqual([4, 2, 2, 4]);
  });

  it('rejects count < 2, a wrong length and NaN, with the field named', () => {
    expect(() => featureStatistics(Float32Array.from([1, 2]), 1, 2)).toThrow(/count must be an integer ≥ 2 \(a covariance needs at least two/);
    expect(() => featureStatistics(Float32Array.from([1, 2, 3]), 2, 2)).toThrow(
      expect.objectContaining({ code: 'INVALID_SHAPE', message: expect.stringContaining('features has 3 values but count × dim = 2 × 2 = 4') }),
    );
    expect(() => featureStatistics(Float32Array.from([1, 2, NaN, 4]), 2, 2)).toThrow(/features contains NaN in vector 1, component 0/);
    expect(() => featureStatistics(Float32Array.from([1, 2, 3, 4]), 2, 0)).toThrow(/dim must be an integer ≥ 1/);
  });
});

describe('frechetDistance: closed forms', () => {
  it('diagonal covariances: Σ (μa−μb)² + Σ (√σa² − √σb²)²', () => {
    // μa = 0, Σa = diag(4, 9); μb = (1, 2), Σb = diag(1, 4).
    // ‖Δμ‖² = 1 + 4 = 5; Tr Σa + Tr Σb = 13 + 5 = 18; (Σa Σb)^{1/2} = diag(2, 6), trace 8.
    // d² = 5 + 18 − 16 = 7 (= 5 + (2−1)² + (3−2)²).
    const d = frechetDistance(statistics([0, 0], [[4, 0], [0, 9]]), statistics([1, 2], [[1, 0], [0, 4]]));
    expect(d).toBeCloseTo(7, 12);
  });

  it('commuting full covariances (same eigenvectors, rotated 45°)', () => {
    // R = rotation by 45°; Σa = R diag(4, 1) Rᵀ = [[2.5, 1.5], [1.5, 2.5]], Σb = R diag(9, 16) Rᵀ = [[12.5, −3.5], [−3.5, 12.5]].
    // Σa Σb = R diag(36, 16) Rᵀ, so Tr((Σa Σb)^{1/2}) = 6 + 4 = 10; Tr Σa = 5, Tr Σb = 25; equal means:
    // d² = 5 + 25 − 20 = 10.
    const a = statistics([0.5, -1], [[2.5, 1.5], [1.5, 2.5]]);
    const b = statistics([0.5, -1], [[12.5, -3.5], [-3.5, 12.5]]);
    expect(frechetDistance(a, b)).toBeCloseTo(10, 10);
    expect(frechetDistance(b, a)).toBeCloseTo(10, 10);
  });

  it('a singular covariance (rank 1)', () => {
    // Σa = diag(1, 0), Σb = diag(4, 9): (Σa Σb)^{1/2} = diag(2, 0); d² = 0 + 1 + 13 − 4 = 10.
    expect(frechetDistance(statistics([0, 0], [[1, 0], [0, 0]]), statistics([0, 0], [[4, 0], [0, 9]]))).toBeCloseTo(10, 10);
  });

  it('is 0 between identical statistics (never a tiny negative)', () => {
    const s = featureStatistics(Float64Array.from({ length: 60 }, (_, i) => Math.sin(i * i)), 12, 5);
    const d = frechetDistance(s, s);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThan(1e-10);
  });
});

describe('frechetDistance: numeric case against numpy', () => {
  // Features by formula, so numpy and this test build the same inputs.
  const a = Float64Array.from({ length: 40 * 6 }, (_, k) => {
    const [i, j] = [Math.floor(k / 6), k % 6];
    return Math.sin(0.9 * i + 0.4 * j + 0.1 * i * j) + 0.3 * Math.cos(1.7 * i * j);
  });
  const b = Float64Array.from({ length: 35 * 6 }, (_, k) => {
    const [i, j] = [Math.floor(k / 6), k % 6];
    return 0.8 * Math.sin(1.1 * i + 0.3 * j * j) + 0.5 + 0.05 * j + 0.4 * Math.cos(0.7 * i * j + j) + 0.2 * Math.sin(0.13 * i * i + j);
  });

  it('matches numpy on 40 and 35 six-dimensional vectors with full covariances', () => {
    // Golden: /usr/bin/python3 scripts/dev/goldens.py (numpy 1.24: np.mean, np.cov(rowvar=False), and
    // Tr((Σa Σb)^{1/2}) as the sum of √ of np.linalg.eigvals(Σa Σb), agreeing with a Denman–Beavers
    // sqrtm of Σa Σb to 1e-9).
    const sa = featureStatistics(a, 40, 6);
    const sb = featureStatistics(b, 35, 6);
    expect(sa.mean[0]).toBeCloseTo(0.3415855148600719, 14);
    expect(sa.mean[1]).toBeCloseTo(0.04044667232830697, 14);
    expect(sa.mean[2]).toBeCloseTo(0.006540543670321172, 14);
    expect(sa.covariance[0]).toBeCloseTo(0.49714506912479967, 13);
    expect(sa.covariance[1]).toBeCloseTo(-0.1681958853025702, 13);
    expect(sb.covariance[35]).toBeCloseTo(0.43576301782045174, 13);
    expect(frechetDistance(sa, sb)).toBeCloseTo(3.6373834524115756, 10);
  });
});

describe('frechetDistance: validation', () => {
  it('rejects statistics of different dimensions and malformed ones', () => {
    const two = statistics([0, 0], [[1, 0], [0, 1]]);
    const three = statistics([0, 0, 0], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(() => frechetDistance(two, three)).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE' }));
    const broken = { ...two, covariance: new Float64Array(3) };
    expect(() => frechetDistance(two, broken)).toThrow(/b: covariance must be a Float64Array of dim × dim = 4 values/);
    const nan = { ...two, mean: Float64Array.from([0, NaN]) };
    expect(() => frechetDistance(nan, two)).toThrow(/a: mean and covariance must be finite/);
    expect(() => frechetDistance(null as unknown as FeatureStatistics, two)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => frechetDistance(two, two)).not.toThrow();
  });
});
