/**
 * Timestep clustering for multi-decoder U-Nets: proposes the stage boundaries of `decoderStages`
 * from data.
 *
 * Zhang et al., "Improving Efficiency of Diffusion Models via Multi-Stage Framework and Tailored
 * Multi-Decoder Architectures" (CVPR 2024, arXiv:2312.09181), cut [0, 1] into stages by
 * clustering timesteps by the similarity of their *optimal denoisers*: timesteps whose optimal ε-predictors are alike
 * can share a decoder, dissimilar ones should not. Optimal denoisers are not available, so this
 * file clusters a proxy the caller supplies, one feature vector per sampled timestep. The
 * intended proxy (train-tfjs's `timestepGradientFeatures`) is the gradient of the ε-prediction
 * loss at that fixed t with respect to shared parameters: timesteps whose gradients point the
 * same way pull the shared weights towards the same denoiser, timesteps whose gradients disagree
 * are in tension and want separate ones. With unit-norm features the squared distance of two
 * features is 2 − 2·cos, so the clustering groups timesteps by gradient direction (cosine
 * similarity), not magnitude, which varies by orders of magnitude over t.
 *
 * Objective (exact): with timesteps sorted t_0 < … < t_{M−1}, features u_m (unit-normalised by
 * default) and S stages, choose cut indices 0 = i_0 < i_1 < … < i_S = M minimising
 *
 *   J = Σ_s Σ_{m = i_s}^{i_{s+1}−1} ‖u_m − ū_s‖²,   ū_s = mean of u_{i_s} … u_{i_{s+1}−1},
 *
 * i.e. k-means restricted to contiguous segments (stages must be intervals of t). It is solved
 * exactly by dynamic programming: F_s(j) = min_i F_{s−1}(i) + c(i, j), with the segment cost
 * c(i, j) = Σ ‖u_m‖² − ‖Σ u_m‖² / (j − i) read in O(1) from 2-D prefix sums of the Gram matrix
 * G_ab = ⟨u_a, u_b⟩. Time O(M²·D + S·M²), memory O(M²) beyond the features. A cut between
 * adjacent samples t_{m−1} and t_m is placed at their midpoint.
 */
import { LevelskipError, formatPath } from '../errors/levelskip-error.js';
import type { DecoderStage } from '../spec/unet-spec.js';

/** One feature vector per sampled timestep. */
export type TimestepFeatures = readonly (Float64Array | Float32Array | readonly number[])[];

export interface ClusterTimestepsOptions {
  /**
   * The sampled timesteps, strictly increasing. Normalised t ∈ [0, 1] (1 = pure noise), unless
   * `trainTimesteps` is given: then integer training steps n ∈ [0, trainTimesteps), mapped to
   * t = n / trainTimesteps (the convention of `decoderStages` and `stageForTime`).
   */
  readonly timesteps: readonly number[];
  /** `features[m]` describes `timesteps[m]`; every vector has the same length D ≥ 1. */
  readonly features: TimestepFeatures;
  /** Number of stages S, from 1 to the number of timesteps. */
  readonly stages: number;
  /** T: read `timesteps` as integer training steps (see `timesteps`). */
  readonly trainTimesteps?: number;
  /** Every stage's interval [tStart, tEnd) must be at least this wide in normalised t (default 0). */
  readonly minStageWidth?: number;
  /**
   * `unit` (default): scale every feature to unit Euclidean norm first, so only directions count;
   * `none`: cluster the raw vectors.
   */
  readonly normalize?: 'unit' | 'none';
}

/** The optimal contiguous segmentation. */
export interface TimestepClustering {
  /** The S − 1 interior cut points in normalised t, increasing. */
  readonly boundaries: readonly number[];
  /** The S intervals [tStart, tEnd) covering [0, 1]; add a `baseChannels` each (`stagesFromBoundaries`) for `decoderStages`. */
  readonly stages: readonly { readonly tStart: number; readonly tEnd: number }[];
  /** The sampled timesteps of each stage, as inclusive index ranges into `timesteps`. */
  readonly segments: readonly { readonly first: number; readonly last: number }[];
  /** The objective J: total within-stage squared distance of the (normalised) features to their stage mean. */
  readonly cost: number;
  /** J's terms, one per stage. */
  readonly perStageCost: readonly number[];
}

function invalid(path: (string | number)[], message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `clusterTimesteps: ${formatPath(path)} ${message}`, { issues: [{ path, message }] });
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Validates the options; returns normalised times. */
function checkOptions(options: ClusterTimestepsOptions): number[] {
  if (typeof options !== 'object' || options === null) throw invalid(['options'], 'must be an object { timesteps, features, stages }');
  const { timesteps, features, stages, trainTimesteps, minStageWidth, normalize } = options;
  if (trainTimesteps !== undefined && !(isInteger(trainTimesteps) && trainTimesteps >= 1)) {
    throw invalid(['trainTimesteps'], `must be an integer ≥ 1 (T, the number of diffusion steps), got ${String(trainTimesteps)}`);
  }
  if (!Array.isArray(timesteps) || timesteps.length === 0) throw invalid(['timesteps'], 'must be a non-empty array of sampled timesteps');
  const times = timesteps.map((value: unknown, m) => {
    if (trainTimesteps === undefined) {
      if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
        throw invalid(['timesteps', m], `must be a normalised time in [0, 1], got ${String(value)} (pass trainTimesteps to give integer training steps)`);
      }
      return value;
    }
    if (!(isInteger(value) && value >= 0 && value < trainTimesteps)) {
      throw invalid(['timesteps', m], `must be an integer training step in [0, ${trainTimesteps}), got ${String(value)}`);
    }
    return value / trainTimesteps;
  });
  for (let m = 1; m < times.length; m++) {
    if (!(times[m]! > times[m - 1]!)) {
      throw invalid(['timesteps', m], `is ${timesteps[m]}, not greater than timesteps[${m - 1}] = ${timesteps[m - 1]}; sort the timesteps (with their features) and remove duplicates`);
    }
  }
  const M = times.length;
  if (!Array.isArray(features) || features.length !== M) {
    throw invalid(['features'], `must be an array with one feature vector per timestep (${M}), got ${Array.isArray(features) ? features.length : typeof features}`);
  }
  let dimension = -1;
  features.forEach((vector: unknown, m) => {
    if (!(Array.isArray(vector) || vector instanceof Float64Array || vector instanceof Float32Array)) {
      throw invalid(['features', m], 'must be a Float64Array, Float32Array or number[]');
    }
    const v = vector as ArrayLike<unknown>;
    if (m === 0) {
      if (v.length === 0) throw invalid(['features', 0], 'is empty; every feature vector needs at least one value');
      dimension = v.length;
    } else if (v.length !== dimension) {
      throw invalid(['features', m], `has length ${v.length} but features[0] has ${dimension}; every feature vector must have the same length`);
    }
    for (let d = 0; d < v.length; d++) {
      const value = v[d];
      if (!(typeof value === 'number' && Number.isFinite(value))) throw invalid(['features', m, d], `must be a finite number, got ${String(value)}`);
    }
  });
  if (!(isInteger(stages) && stages >= 1 && stages <= M)) {
    throw invalid(['stages'], `must be an integer from 1 to the number of timesteps (${M}), got ${String(stages)}`);
  }
  if (minStageWidth !== undefined && !(typeof minStageWidth === 'number' && minStageWidth >= 0 && minStageWidth <= 1)) {
    throw invalid(['minStageWidth'], `must be a number in [0, 1] (normalised t), got ${String(minStageWidth)}`);
  }
  if (normalize !== undefined && normalize !== 'unit' && normalize !== 'none') {
    throw invalid(['normalize'], `must be 'unit' or 'none', got ${JSON.stringify(normalize)}`);
  }
  return times;
}

/** Euclidean norm of each feature (1 for every feature when not normalising). */
function scales(features: TimestepFeatures, normalize: 'unit' | 'none'): Float64Array {
  const out = new Float64Array(features.length).fill(1);
  if (normalize === 'none') return out;
  features.forEach((v, m) => {
    let sum = 0;
    for (let d = 0; d < v.length; d++) sum += v[d]! * v[d]!;
    if (!(sum > 0)) throw invalid(['features', m], "is the zero vector, which has no direction; use normalize: 'none' or features that depend on t");
    out[m] = Math.sqrt(sum);
  });
  return out;
}

/**
 * Prefix sums of the Gram matrix G_ab = ⟨u_a, u_b⟩ of the scaled features: `block[i·(M+1) + j]`
 * = Σ_{a<i, b<j} G_ab and `diagonal[m]` = Σ_{a<m} G_aa.
 */
function gramPrefixSums(features: TimestepFeatures, scale: Float64Array): { block: Float64Array; diagonal: Float64Array } {
  const M = features.length;
  const gram = new Float64Array(M * M);
  for (let a = 0; a < M; a++) {
    const u = features[a]!;
    for (let b = a; b < M; b++) {
      const v = features[b]!;
      let dot = 0;
      for (let d = 0; d < u.length; d++) dot += u[d]! * v[d]!;
      dot /= scale[a]! * scale[b]!;
      gram[a * M + b] = dot;
      gram[b * M + a] = dot;
    }
  }
  const W = M + 1;
  const block = new Float64Array(W * W);
  const diagonal = new Float64Array(W);
  for (let i = 1; i <= M; i++) {
    diagonal[i] = diagonal[i - 1]! + gram[(i - 1) * M + (i - 1)]!;
    for (let j = 1; j <= M; j++) {
      block[i * W + j] = gram[(i - 1) * M + (j - 1)]! + block[(i - 1) * W + j]! + block[i * W + (j - 1)]! - block[(i - 1) * W + (j - 1)]!;
    }
  }
  return { block, diagonal };
}

/** Σ_{m∈[i,j)} ‖u_m − ū‖² computed directly (two passes), for the reported costs. */
function segmentCostDirect(features: TimestepFeatures, scale: Float64Array, i: number, j: number): number {
  const dimension = features[0]!.length;
  const mean = new Float64Array(dimension);
  for (let m = i; m < j; m++) {
    const v = features[m]!;
    for (let d = 0; d < dimension; d++) mean[d]! += v[d]! / scale[m]!;
  }
  for (let d = 0; d < dimension; d++) mean[d]! /= j - i;
  let cost = 0;
  for (let m = i; m < j; m++) {
    const v = features[m]!;
    for (let d = 0; d < dimension; d++) {
      const diff = v[d]! / scale[m]! - mean[d]!;
      cost += diff * diff;
    }
  }
  return cost;
}

/**
 * Proposes S contiguous timestep stages from per-timestep features (see the file comment for
 * what this approximates and the exact objective): the segmentation of the sorted timesteps
 * minimising the total within-stage squared distance of the features to their stage mean,
 * found exactly by dynamic programming. Cuts fall midway between adjacent sampled timesteps.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field: stages not in [1, M], timesteps not
 *   strictly increasing or out of range, features ragged, non-finite or zero (with unit
 *   normalisation), or a `minStageWidth` no segmentation can meet.
 *
 * @example
 * ```ts
 * const { boundaries, stages } = clusterTimesteps({ timesteps: [0.1, 0.3, 0.6, 0.9], features: [[1], [1], [5], [5]], stages: 2, normalize: 'none' });
 * // boundaries = [0.45]; stages = [{ tStart: 0, tEnd: 0.45 }, { tStart: 0.45, tEnd: 1 }]
 * ```
 */
export function clusterTimesteps(options: ClusterTimestepsOptions): TimestepClustering {
  const times = checkOptions(options);
  const { features, stages: S } = options;
  const normalize = options.normalize ?? 'unit';
  const minWidth = options.minStageWidth ?? 0;
  const M = times.length;
  const scale = scales(features, normalize);
  const { block, diagonal } = gramPrefixSums(features, scale);
  const W = M + 1;

  // cut(m): the stage boundary before sample m; the stages' outer ends are 0 and 1.
  // Integer steps are averaged before dividing by T, so a cut is (n_{m−1} + n_m) / 2T exactly rounded.
  const raw = options.timesteps;
  const unit = options.trainTimesteps ?? 1;
  const cut = (m: number): number => (m === 0 ? 0 : m === M ? 1 : (raw[m - 1]! + raw[m]!) / 2 / unit);
  const wideEnough = (i: number, j: number): boolean => cut(j) - cut(i) >= minWidth - 1e-12;
  // c(i, j) = Σ_{m∈[i,j)} ‖u_m‖² − ‖Σ_{m∈[i,j)} u_m‖² / (j − i); ‖Σ u‖² is the Gram block's sum.
  // Rounding can leave a tiny negative where the exact value is 0.
  const costs = new Float64Array(W * W).fill(Infinity);
  for (let i = 0; i < M; i++) {
    for (let j = i + 1; j <= M; j++) {
      if (!wideEnough(i, j)) continue;
      const sum = block[j * W + j]! - block[i * W + j]! - block[j * W + i]! + block[i * W + i]!;
      costs[i * W + j] = Math.max(0, diagonal[j]! - diagonal[i]! - sum / (j - i));
    }
  }

  // F[s][j]: the best cost of the first j samples in s stages; from[s][j]: where its last stage starts.
  const best: Float64Array[] = [];
  const from: Int32Array[] = [];
  for (let s = 0; s <= S; s++) {
    best.push(new Float64Array(W).fill(Infinity));
    from.push(new Int32Array(W).fill(-1));
  }
  best[0]![0] = 0;
  for (let s = 1; s <= S; s++) {
    for (let j = s; j <= M; j++) {
      for (let i = s - 1; i < j; i++) {
        const value = best[s - 1]![i]! + costs[i * W + j]!;
        if (value < best[s]![j]!) {
          best[s]![j] = value;
          from[s]![j] = i;
        }
      }
    }
  }
  if (!Number.isFinite(best[S]![M]!)) {
    throw invalid(
      ['minStageWidth'],
      `is ${minWidth}, but no split of these ${M} timesteps into ${S} stages makes every stage that wide; lower minStageWidth or stages, or sample timesteps more evenly`,
    );
  }
  const starts: number[] = [];
  for (let s = S, j = M; s >= 1; s--) {
    const i = from[s]![j]!;
    starts.unshift(i);
    j = i;
  }
  const ends = [...starts.slice(1), M];
  const segments = starts.map((first, s) => ({ first, last: ends[s]! - 1 }));
  const perStageCost = starts.map((first, s) => segmentCostDirect(features, scale, first, ends[s]!));
  return {
    boundaries: starts.slice(1).map(cut),
    stages: starts.map((first, s) => ({ tStart: cut(first), tEnd: cut(ends[s]!) })),
    segments,
    cost: perStageCost.reduce((a, b) => a + b, 0),
    perStageCost,
  };
}

/**
 * `decoderStages` from interior cut points and one decoder width per stage: stage s covers
 * [boundaries[s−1], boundaries[s]) with 0 and 1 at the ends, and has `widths[s]` base channels.
 *
 * @throws LevelskipError `INVALID_OPTION` when the boundaries are not strictly increasing in
 *   (0, 1) or `widths` does not hold one positive integer per stage.
 *
 * @example
 * ```ts
 * stagesFromBoundaries([0.442, 0.6308], [48, 32, 16]);
 * // [{ tStart: 0, tEnd: 0.442, baseChannels: 48 }, { tStart: 0.442, tEnd: 0.6308, baseChannels: 32 }, { tStart: 0.6308, tEnd: 1, baseChannels: 16 }]
 * ```
 */
export function stagesFromBoundaries(boundaries: readonly number[], widths: readonly number[]): DecoderStage[] {
  const fail = (path: (string | number)[], message: string): LevelskipError =>
    new LevelskipError('INVALID_OPTION', `stagesFromBoundaries: ${formatPath(path)} ${message}`, { issues: [{ path, message }] });
  if (!Array.isArray(boundaries)) throw fail(['boundaries'], 'must be an array of interior cut points in (0, 1)');
  boundaries.forEach((b: unknown, i) => {
    if (!(typeof b === 'number' && b > 0 && b < 1)) throw fail(['boundaries', i], `must be a number in (0, 1), got ${String(b)}`);
    if (i > 0 && !(b > boundaries[i - 1]!)) throw fail(['boundaries', i], `(${b}) must be greater than boundaries[${i - 1}] (${boundaries[i - 1]})`);
  });
  const S = boundaries.length + 1;
  if (!Array.isArray(widths) || widths.length !== S) {
    throw fail(['widths'], `must hold one decoder width per stage: ${S} for ${boundaries.length} boundaries, got ${Array.isArray(widths) ? widths.length : typeof widths}`);
  }
  widths.forEach((w: unknown, s) => {
    if (!(isInteger(w) && w >= 1)) throw fail(['widths', s], `must be a positive integer (the stage decoder's base channels), got ${String(w)}`);
  });
  const cuts = [0, ...boundaries, 1];
  return widths.map((baseChannels, s) => ({ tStart: cuts[s]!, tEnd: cuts[s + 1]!, baseChannels }));
}
