/**
 * How a training batch picks its depth k (levels skipped) and its diffusion timesteps t, for the
 * three training schemes of Giladi et al., "Accelerating Diffusion Models using Adaptive Neural
 * Network Architecture" (§3, training of the skipping U-Net):
 *
 * - `full`: k = 0 always, t ~ U{0..T−1} per sample: the ordinary (baseline) DDPM network.
 * - `uniform`: one k ~ U{0..N−1} per batch, t ~ U{0..T−1} per sample: the network learns every
 *   depth at every noise level.
 * - `schedule-aware` (the paper's scheme b): the network is only ever asked for depth
 *   k = schedule.kAt(t/T, N) at time t, so it trains exactly those (k, t) pairs. For each k the
 *   integer timesteps with that depth, S_k = { t ∈ [0, T) : kAt(t/T, N) = k }, are precomputed.
 *   A batch picks one k with probability |S_k| / T (so k's with an empty S_k never occur) and
 *   draws every sample's t uniformly from S_k. All samples of the batch share k, as one forward
 *   pass needs, and each t is still marginally uniform on [0, T):
 *   P(t) = P(k(t)) · 1/|S_k(t)| = |S_k(t)|/T · 1/|S_k(t)| = 1/T.
 *
 * Pure functions of a `SeededRng`, so a seed reproduces every draw.
 */
import { LevelskipError, type SeededRng, type SkipSchedule } from '@levelskip/core';

/** A training scheme (see the file comment). */
export type TrainingScheme = 'uniform' | 'schedule-aware' | 'full';

/** Every training scheme, in documentation order. */
export const trainingSchemes: readonly TrainingScheme[] = ['uniform', 'schedule-aware', 'full'];

/** One batch's depth and timesteps. */
export interface DepthAndTimesteps {
  /** Levels skipped for the whole batch. */
  readonly k: number;
  /** One integer timestep in [0, T) per sample. */
  readonly timesteps: number[];
}

export interface TimestepSampler {
  readonly scheme: TrainingScheme;
  /** N, the U-Net's levels. */
  readonly levels: number;
  /** T, the number of diffusion timesteps. */
  readonly trainTimesteps: number;
  /**
   * `schedule-aware` only: S_k for k = 0..N−1, the integer timesteps t with
   * `schedule.kAt(t / T, N) = k`, ascending (empty where the schedule never uses k).
   */
  readonly timestepsByDepth: readonly (readonly number[])[] | undefined;
  /** Draws one batch's k and timesteps from `rng`. */
  draw(rng: SeededRng, batch: number): DepthAndTimesteps;
}

export interface TimestepSamplerOptions {
  /** N, the U-Net's levels (an integer ≥ 1). */
  readonly levels: number;
  /** T (an integer ≥ 1). */
  readonly trainTimesteps: number;
  /** The skip schedule; required for `schedule-aware`, ignored otherwise. */
  readonly schedule?: SkipSchedule;
}

/**
 * S_k for every k: the integer timesteps t ∈ [0, T) with `schedule.kAt(t / T, levels) = k`.
 *
 * @throws LevelskipError `INVALID_SCHEDULE` when the schedule returns a k outside [0, levels − 1].
 */
export function timestepsByDepth(schedule: SkipSchedule, levels: number, trainTimesteps: number): number[][] {
  const lists = Array.from({ length: levels }, (): number[] => []);
  for (let t = 0; t < trainTimesteps; t++) {
    const k = schedule.kAt(t / trainTimesteps, levels);
    const list = Number.isInteger(k) ? lists[k] : undefined;
    if (list === undefined) {
      throw new LevelskipError(
        'INVALID_SCHEDULE',
        `skip schedule ${schedule.description} returned k = ${String(k)} at t = ${t}/${trainTimesteps}; it must be an integer in [0, ${levels - 1}] for this ${levels}-level U-Net`,
      );
    }
    list.push(t);
  }
  return lists;
}

function uniformTimesteps(rng: SeededRng, batch: number, trainTimesteps: number): number[] {
  return Array.from({ length: batch }, () => rng.integer(trainTimesteps));
}

/**
 * The (k, t) sampler of a training scheme.
 *
 * @throws LevelskipError `INVALID_OPTION` for an unknown scheme or a `schedule-aware` scheme
 *   without a schedule; `INVALID_SCHEDULE` when the schedule returns an impossible k.
 */
export function createTimestepSampler(scheme: TrainingScheme, options: TimestepSamplerOptions): TimestepSampler {
  const { levels, trainTimesteps: T, schedule } = options;
  const base = { scheme, levels, trainTimesteps: T };
  switch (scheme) {
    case 'full':
      return { ...base, timestepsByDepth: undefined, draw: (rng, batch) => ({ k: 0, timesteps: uniformTimesteps(rng, batch, T) }) };
    case 'uniform':
      return {
        ...base,
        timestepsByDepth: undefined,
        draw: (rng, batch) => {
          const k = rng.integer(levels);
          return { k, timesteps: uniformTimesteps(rng, batch, T) };
        },
      };
    case 'schedule-aware': {
      if (schedule === undefined) {
        throw new LevelskipError('INVALID_OPTION', 'train: schedule is required for scheme "schedule-aware" (e.g. powerSchedule({ c: 2 }))', {
          issues: [{ path: ['schedule'], message: 'required for scheme "schedule-aware"' }],
        });
      }
      const lists = timestepsByDepth(schedule, levels, T);
      // depthOf[t] = k(t): drawing t uniformly and taking its k picks k with probability |S_k| / T.
      const depthOf = new Int32Array(T);
      lists.forEach((list, k) => list.forEach((t) => (depthOf[t] = k)));
      return {
        ...base,
        timestepsByDepth: lists,
        draw: (rng, batch) => {
          const k = depthOf[rng.integer(T)]!;
          const list = lists[k]!;
          return { k, timesteps: Array.from({ length: batch }, () => list[rng.integer(list.length)]!) };
        },
      };
    }
    default:
      throw new LevelskipError('INVALID_OPTION', `train: unknown scheme "${String(scheme)}": use ${trainingSchemes.join(', ')}`, {
        issues: [{ path: ['scheme'], message: `must be one of ${trainingSchemes.join(', ')}` }],
      });
  }
}
