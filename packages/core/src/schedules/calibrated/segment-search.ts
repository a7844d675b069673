/**
 * The dynamic programme behind calibrated cache schedules with a segment-additive objective: split
 * the run's steps into contiguous segments (refresh cycles) so that the summed segment error is
 * least while the summed saving reaches a required amount.
 *
 * A segment [r, j) is a refresh at step r and j − r − 1 steps after it that read what it cached. Its
 * error may depend on the whole segment (e.g. the square of the steps' summed error amplitudes, when
 * the errors of one cycle add coherently), so the per-step DP of `budgeted-search.ts` cannot price
 * it; but the objective is a sum over segments, and so
 *
 *   f(j, s) = min over segments [r, j) of  f(r, s − saving(r, j)) + error(r, j),   f(0, 0) = 0,
 *
 * over segment ends j = 1 … n and saved units s (the top cell standing for "required or more", as in
 * `budgeted-search.ts`), is exact for the discretised problem; the answer is f(n, required).
 *
 * Cost: O(segments · required) time (segments ≤ steps · longest segment · choices per segment), and
 * (steps + 1) · (required + 1) cells of backtracking.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';

/** One choice of segment starting at a step: it ends before step `end` (exclusive), its cached steps run at depth `k`, it saves `saving` units and adds `error`. */
export interface ScheduleSegment {
  readonly end: number;
  readonly k: number;
  readonly saving: number;
  readonly error: number;
}

export interface SegmentProblem {
  readonly steps: number;
  /** Units of saving the whole run must reach (an integer ≥ 0). */
  readonly required: number;
  /** The segments that start (with a full-depth step) at `start`; called once per start. Order breaks ties: earlier wins. */
  segments(start: number): readonly ScheduleSegment[];
}

export interface SegmentSolution {
  /** The depth of every step: 0 at each segment's first step, the segment's k at the others. */
  readonly ks: readonly number[];
  /** The segments chosen, in step order, as [start, end) with their k. */
  readonly segments: readonly { readonly start: number; readonly end: number; readonly k: number }[];
  /** Σ of the chosen segments' errors. */
  readonly error: number;
  /** Σ of the chosen segments' savings (≥ required). */
  readonly saving: number;
}

/**
 * Solves a segment problem exactly (on its integer savings).
 *
 * @returns the solution, or `undefined` with `maxSaving` (the most any split saves) when the
 *   required saving cannot be reached.
 */
export function solveSegments(problem: SegmentProblem): { readonly solution: SegmentSolution | undefined; readonly maxSaving: number } {
  const { steps, required } = problem;
  if (!(Number.isSafeInteger(required) && required >= 0)) throw new LevelskipError('INTERNAL', `segment search: required saving must be an integer ≥ 0, got ${required}`);
  if (!(Number.isSafeInteger(steps) && steps >= 1)) throw new LevelskipError('INTERNAL', `segment search: steps must be an integer ≥ 1, got ${steps}`);
  const width = required + 1;
  if ((steps + 1) * width > 2 ** 28) throw new LevelskipError('INTERNAL', `segment search: ${steps + 1}×${width} cells is too many`);
  const best = new Float64Array((steps + 1) * width).fill(Number.POSITIVE_INFINITY);
  // Backtracking: the start of the segment that ends at j with saving s, its index in that start's list, and the saving before it.
  const fromStart = new Int32Array((steps + 1) * width).fill(-1);
  const fromSegment = new Int32Array((steps + 1) * width);
  const fromSaving = new Int32Array((steps + 1) * width);
  best[0] = 0;
  // The most any split saves up to each boundary (unsaturated), for the infeasibility report.
  const most = new Float64Array(steps + 1).fill(Number.NEGATIVE_INFINITY);
  most[0] = 0;
  const lists: (readonly ScheduleSegment[])[] = [];
  for (let start = 0; start < steps; start++) {
    const reachable = most[start]! > Number.NEGATIVE_INFINITY;
    const list = reachable ? problem.segments(start) : [];
    lists.push(list);
    if (!reachable) continue;
    const base = start * width;
    for (let index = 0; index < list.length; index++) {
      const { end, saving, error } = list[index]!;
      if (!(Number.isInteger(end) && end > start && end <= steps)) throw new LevelskipError('INTERNAL', `segment search: a segment from ${start} must end in (${start}, ${steps}], got ${end}`);
      most[end] = Math.max(most[end]!, most[start]! + saving);
      const target = end * width;
      for (let s = 0; s <= required; s++) {
        const value = best[base + s]!;
        if (value === Number.POSITIVE_INFINITY) continue;
        const reached = Math.min(required, s + saving);
        const total = value + error;
        if (total < best[target + reached]!) {
          best[target + reached] = total;
          fromStart[target + reached] = start;
          fromSegment[target + reached] = index;
          fromSaving[target + reached] = s;
        }
      }
    }
  }
  const maxSaving = Math.max(0, most[steps]!);
  const error = best[steps * width + required]!;
  if (error === Number.POSITIVE_INFINITY) return { solution: undefined, maxSaving };

  const ks = new Array<number>(steps);
  const segments: { start: number; end: number; k: number }[] = [];
  let end = steps;
  let s = required;
  let saving = 0;
  while (end > 0) {
    const cell = end * width + s;
    const start = fromStart[cell]!;
    const segment = lists[start]![fromSegment[cell]!]!;
    ks[start] = 0;
    for (let i = start + 1; i < end; i++) ks[i] = segment.k;
    segments.push({ start, end, k: segment.k });
    saving += segment.saving;
    s = fromSaving[cell]!;
    end = start;
  }
  return { solution: { ks, segments: segments.reverse(), error, saving }, maxSaving };
}
