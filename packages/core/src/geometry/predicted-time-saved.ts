/**
 * Time saved by a skip schedule as predicted from FLOPs, known before anything runs:
 * saved = 1 - Σ_steps FLOPs(k(t_i)) / Σ_steps FLOPs(0),
 * or, with `cost: 'measured'`, from measured milliseconds per predict() at each depth:
 * saved = 1 - Σ_steps ms(k(t_i)) / Σ_steps ms_full, a step whose depth differs from the step
 * before priced at its after-a-switch cost when one is given. FLOPs miss what a runtime does per level
 * (the 32×32 level does fewer FLOPs per ms than the deep ones, a skipped step still pays the
 * call's fixed cost); measured costs include it, so they predict wall time better.
 */
import { describeArchitecture, stageForTime } from './architecture.js';
import { flopTable, flopsAtDepth } from './flops.js';
import type { SkipSchedule } from '../schedules/skip-schedule.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import { cacheDepths, tryParseFill } from '../fills/fill-registry.js';
import type { FillStrategy } from '../fills/fill-strategy.js';

export interface TimeSavedPrediction {
  /** FLOPs per sample of the whole run at full depth. */
  readonly fullFlops: number;
  /** FLOPs per sample of the run with the schedule. */
  readonly scheduledFlops: number;
  /** 1 - scheduled / full. */
  readonly fractionSaved: number;
  /** k used at each visited timestep, in the order given (with the cache fill, its full-depth refreshes included: see `cacheDepths`). */
  readonly ks: readonly number[];
  /** What `fractionSaved` is computed from: FLOPs (the default) or measured milliseconds. */
  readonly cost: 'flops' | 'measured';
  /** With `cost: 'measured'`: milliseconds of the predictions of the whole run at full depth. */
  readonly fullMs?: number;
  /** With `cost: 'measured'`: milliseconds of the predictions of the run with the schedule. */
  readonly scheduledMs?: number;
}

/**
 * Measured cost of a predict() call, for `predictedTimeSaved(..., { cost: 'measured', costs })`:
 * milliseconds per call at the batch size the run will use, on the backend it will use (e.g. the
 * median of interleaved timings; `pnpm bench overhead` measures them).
 */
export interface MeasuredPredictCosts {
  /**
   * Milliseconds per predict() at depth k = 0..N−1 (index k) with the run's fill: one list for
   * every decoder stage, or one list per stage for a multi-decoder U-Net. For the cache fill,
   * entry 0 is a full-depth step that also stores the deep features.
   */
  readonly ks: readonly number[] | readonly (readonly number[])[];
  /**
   * Milliseconds per predict() of the baseline the saving is measured against, the full network
   * without a fill or cache; one number, or one per stage. Default: `ks[0]` (of each stage).
   */
  readonly full?: number | readonly number[];
  /**
   * Milliseconds per predict() at depth k when the step before ran another depth (on ONNX
   * Runtime another session: its weights and buffers are colder), laid out as `ks`; a step whose
   * depth differs from the previous step's is priced with it. Default: `ks` (switching is free).
   */
  readonly afterSwitch?: readonly number[] | readonly (readonly number[])[];
}

/** Options of `predictedTimeSaved`. */
export interface PredictedTimeSavedOptions {
  /** The fill (a strategy, or a label such as `'interpolate'` or `'cache:3'`); default zero. */
  readonly fill?: string | FillStrategy<unknown>;
  /** `'flops'` (default): core's FLOP model; `'measured'`: the milliseconds in `costs`. */
  readonly cost?: 'flops' | 'measured';
  /** The measured costs `cost: 'measured'` needs. */
  readonly costs?: MeasuredPredictCosts;
}

function costError(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `predictedTimeSaved: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

function isCost(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** A list of N costs per k, or one per stage, checked: one row (serving every stage) or one per stage. */
function costRows(given: unknown, field: string, levels: number, stages: number): number[][] {
  if (!Array.isArray(given)) throw costError(field, `must be a list of ${levels} milliseconds (k = 0..${levels - 1}), or one such list per decoder stage`);
  const perStage = given.length > 0 && given.every((row) => Array.isArray(row));
  const rows = (perStage ? given : [given]) as readonly (readonly unknown[])[];
  if (perStage && rows.length !== stages) {
    throw costError(field, `holds ${rows.length} lists, one per decoder stage, but the model has ${stages} stage${stages === 1 ? '' : 's'}`);
  }
  return rows.map((row, stage) => {
    const where = perStage ? `${field}[${stage}]` : field;
    if (row.length !== levels) throw costError(where, `holds ${row.length} costs; give one per depth k = 0..${levels - 1} of this ${levels}-level U-Net`);
    row.forEach((ms, k) => {
      if (!isCost(ms)) throw costError(`${where}[${k}]`, `is ${String(ms)}; costs are milliseconds per predict(), finite and > 0`);
    });
    return row as number[];
  });
}

/** `costs` checked against the model: per stage, N positive costs (and after a switch), and a positive baseline. */
function measuredCostTable(costs: MeasuredPredictCosts | undefined, levels: number, stages: number): { ks: number[][]; afterSwitch: number[][]; full: number[] } {
  if (costs === undefined || costs === null || typeof costs !== 'object') {
    throw costError('costs', "is needed with cost: 'measured': { ks: [ms at k = 0, …, ms at k = N−1] } (ms per predict() at the run's batch size)");
  }
  const ks = costRows(costs.ks, 'costs.ks', levels, stages);
  const afterSwitch = costs.afterSwitch === undefined ? ks : costRows(costs.afterSwitch, 'costs.afterSwitch', levels, stages);
  const full = costs.full ?? ks.map((row) => row[0]!);
  const fullRows = typeof full === 'number' ? [full] : full;
  if (!Array.isArray(fullRows) || (fullRows.length !== 1 && fullRows.length !== stages)) {
    throw costError('costs.full', `must be one number of milliseconds, or one per decoder stage (${stages}), got ${JSON.stringify(full)}`);
  }
  fullRows.forEach((ms, stage) => {
    if (!isCost(ms)) throw costError(typeof full === 'number' ? 'costs.full' : `costs.full[${stage}]`, `is ${String(ms)}; costs are milliseconds per predict(), finite and > 0`);
  });
  return { ks, afterSwitch, full: fullRows as number[] };
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
  const builtin = tryParseFill(fill);
  return builtin !== undefined ? { label: builtin.kind, strategy: builtin } : { label: fill, strategy: undefined };
}

/**
 * Predicted fraction of sampling time a skip schedule saves. `options.fill` (a strategy, or a
 * label such as `'interpolate'` or `'cache:3'`) adds the interpolate fill's side-path FLOPs and
 * the cache fill's full-depth refreshes. By FLOPs unless `options.cost` is `'measured'`: then
 * from `options.costs`, the measured milliseconds per predict() at each depth.
 *
 * @throws LevelskipError `INVALID_OPTION` for empty or out-of-range timesteps, an unknown `cost`,
 *   or measured costs missing, of the wrong length or not positive (naming the entry).
 *
 * @example
 * ```ts
 * // DDIM-50 at c = 2 on a 4-level U-Net whose predict() takes 5.0, 3.1, 2.2, 1.8 ms at k = 0..3:
 * predictedTimeSaved(spec, powerSchedule({ c: 2 }), 50, { cost: 'measured', costs: { ks: [5.0, 3.1, 2.2, 1.8] } }).fractionSaved;
 * ```
 */
export function predictedTimeSaved(
  spec: UNetSpec,
  schedule: SkipSchedule,
  timesteps: number | readonly number[],
  options: PredictedTimeSavedOptions = {},
): TimeSavedPrediction {
  const cost = options.cost ?? 'flops';
  if (cost !== 'flops' && cost !== 'measured') throw costError('cost', `must be 'flops' or 'measured', got ${JSON.stringify(cost)}`);
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
  if (cost === 'flops') return { fullFlops: full, scheduledFlops: scheduled, fractionSaved: 1 - scheduled / full, ks, cost };
  const measured = measuredCostTable(options.costs, arch.levels, arch.decoders.length);
  // One row serves every stage; otherwise the step's stage picks its row.
  const row = <V>(rows: readonly V[], stage: number): V => (rows.length === 1 ? rows[0]! : rows[stage]!);
  let fullMs = 0;
  let scheduledMs = 0;
  ks.forEach((k, i) => {
    fullMs += row(measured.full, stages[i]!);
    // A step at another depth than the one before runs another graph (the first step: the same as the baseline's).
    const switched = i > 0 && (k !== ks[i - 1] || stages[i] !== stages[i - 1]);
    scheduledMs += row(switched ? measured.afterSwitch : measured.ks, stages[i]!)[k]!;
  });
  return { fullFlops: full, scheduledFlops: scheduled, fractionSaved: 1 - scheduledMs / fullMs, ks, cost, fullMs, scheduledMs };
}
