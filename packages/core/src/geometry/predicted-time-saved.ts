/**
 * Time saved by a skip schedule as predicted from FLOPs, known before anything runs:
 * saved = 1 - Σ_steps FLOPs(k(t_i)) / Σ_steps FLOPs(0).
 */
import { describeArchitecture, stageForTime } from './architecture.js';
import { flopTable, flopsAtDepth } from './flops.js';
import type { SkipSchedule } from '../schedules/skip-schedule.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import { builtinFillKinds, cacheDepths, parseFill, type FillStrategy } from '../fills/fill-strategy.js';

export interface TimeSavedPrediction {
  /** FLOPs per sample of the whole run at full depth. */
  readonly fullFlops: number;
  /** FLOPs per sample of the run with the schedule. */
  readonly scheduledFlops: number;
  /** 1 - scheduled / full. */
  readonly fractionSaved: number;
  /** k used at each visited timestep, in the order given (with the cache fill, its full-depth refreshes included: see `cacheDepths`). */
  readonly ks: readonly number[];
}

/**
 * `timesteps`: the diffusion timesteps a sampler visits (each in [0, T)), or a step count n,
 * meaning diffusers' "leading" spacing: `floor(i · T / n)` for i = n-1..0. Normalised time is
 * t = timestep / T, as samplers compute it.
 */
export function sampledTimesteps(steps: number, trainTimesteps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainTimesteps) {
    throw new LevelskipError('INVALID_OPTION', `the number of steps must be an integer in [1, ${trainTimesteps}], got ${steps}`);
  }
  const out: number[] = [];
  for (let i = steps - 1; i >= 0; i--) out.push(Math.floor((i * trainTimesteps) / steps));
  return out;
}

/** A fill given as a label (`fillLabel`'s form) or a strategy; labels of custom fills stay labels. */
function resolveFill(fill: string | FillStrategy<unknown> | undefined): { label: string | undefined; strategy: FillStrategy<unknown> | undefined } {
  if (fill === undefined) return { label: undefined, strategy: undefined };
  if (typeof fill !== 'string') return { label: fill.kind, strategy: fill };
  const builtin = (builtinFillKinds as readonly string[]).includes(fill) || fill.startsWith('cache:');
  return builtin ? { label: parseFill(fill).kind, strategy: parseFill(fill) } : { label: fill, strategy: undefined };
}

/**
 * FLOP-predicted fraction of sampling time a skip schedule saves. `options.fill` (a strategy, or a
 * label such as `'interpolate'` or `'cache:3'`) adds the interpolate fill's side-path FLOPs and
 * the cache fill's full-depth refreshes.
 */
export function predictedTimeSaved(
  spec: UNetSpec,
  schedule: SkipSchedule,
  timesteps: number | readonly number[],
  options: { readonly fill?: string | FillStrategy<unknown> } = {},
): TimeSavedPrediction {
  const T = spec.trainTimesteps;
  const list = typeof timesteps === 'number' ? sampledTimesteps(timesteps, T) : timesteps;
  if (list.length === 0) throw new LevelskipError('INVALID_OPTION', 'timesteps must not be empty');
  const arch = describeArchitecture(spec);
  const table = flopTable(arch);
  const fill = resolveFill(options.fill);
  const stages: number[] = [];
  const asked: number[] = [];
  for (const step of list) {
    if (!(step >= 0 && step < T)) throw new LevelskipError('INVALID_OPTION', `timestep ${step} is outside [0, ${T})`);
    const t = step / T;
    stages.push(stageForTime(arch, t));
    asked.push(schedule.kAt(t, arch.levels));
  }
  const ks = cacheDepths(asked, fill.strategy, stages);
  let full = 0;
  let scheduled = 0;
  ks.forEach((k, i) => {
    full += flopsAtDepth(table, 0, { stage: stages[i]! });
    scheduled += flopsAtDepth(table, k, { stage: stages[i]!, fill: fill.label });
  });
  return { fullFlops: full, scheduledFlops: scheduled, fractionSaved: 1 - scheduled / full, ks };
}
