/**
 * The power skip schedule of Giladi et al., "Accelerating Diffusion Models using Adaptive
 * Neural Network Architecture", eq. (1):
 *
 *   k(t) = min(N - 1, ⌊N - N · (1 - t)^c⌋)
 *
 * N is the number of U-Net levels, t ∈ [0, 1] the normalised time (1 = pure noise) and c ≥ 0
 * the curvature: the larger c, the earlier deep levels are dropped. c = 0 gives k = 0 (the
 * full network) everywhere; for c > 0, k(0) = 0 and k(1) = N - 1.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkKAtArguments } from './schedule-arguments.js';
import type { SkipSchedule } from './skip-schedule.js';

/**
 * How close (relative to N) N·(1 - t)^c must be to an integer j to count as exactly j.
 *
 * Why: the floor is discontinuous exactly where N·(1 - t)^c is an integer, and there `1 - t`
 * and `pow` round by a few ulps (≈1e-16 relative, amplified at most c-fold). Without snapping,
 * a mathematically exact 1 computed as 0.9999999999999999 would flip k by one. 1e-12 is far
 * above that rounding and far below any spacing of t a sampler uses, so k is exact wherever
 * the formula is, and off by one only for t within ~1e-12 of a breakpoint.
 */
const INTEGER_SNAP = 1e-12;

/** Eq. (1) for already-validated arguments. */
function powerSkipLevels(t: number, levels: number, c: number): number {
  if (c === 0) return 0;
  // N · (1 - t)^c: the share of the network still computed, in units of levels.
  const kept = levels * Math.pow(1 - t, c);
  const nearest = Math.round(kept);
  const snapped = Math.abs(kept - nearest) <= INTEGER_SNAP * levels ? nearest : kept;
  const k = Math.floor(levels - snapped);
  return Math.min(levels - 1, Math.max(0, k));
}

/**
 * The paper's power schedule k(t) = min(N - 1, ⌊N - N(1 - t)^c⌋) (eq. 1).
 *
 * @param options.c - curvature, a finite number ≥ 0; the paper uses c ∈ {1, 2, 3, 5}, and
 *   c = 0 means never skip.
 * @throws LevelskipError `INVALID_SCHEDULE` when `c` is not a finite number ≥ 0.
 *
 * @example
 * ```ts
 * const schedule = powerSchedule({ c: 2 });
 * schedule.kAt(0.5, 4); // ⌊4 - 4 · 0.5²⌋ = 3
 * ```
 */
export function powerSchedule({ c }: { c: number }): SkipSchedule {
  if (!(typeof c === 'number' && Number.isFinite(c) && c >= 0)) {
    throw new LevelskipError(
      'INVALID_SCHEDULE',
      `power schedule: c must be a finite number ≥ 0 (0 = never skip; the paper uses 1, 2, 3 or 5), got ${String(c)}`,
    );
  }
  const description = `power(c=${c})`;
  return Object.freeze({
    kind: 'power' as const,
    description,
    kAt(t: number, levels: number): number {
      checkKAtArguments(description, t, levels);
      return powerSkipLevels(t, levels, c);
    },
    toJSON: () => ({ kind: 'power' as const, c }),
  });
}
