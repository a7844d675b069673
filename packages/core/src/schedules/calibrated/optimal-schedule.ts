/**
 * Calibrated skip schedules: the depth k of every step of a sampler, chosen from a model's
 * calibration table to minimise the error the skipping adds to the final sample within a time
 * budget. Beyond the paper's one-parameter family (eq. 1) and DeepCache's uniform refresh interval,
 * the schedule looks at the model it runs.
 *
 * The objective is Σ_i w_i · err_i(k_i): err_i the calibrated mean ‖ε_k − ε_0‖² at step i's
 * timestep (`calibration-lookup.ts`), w_i how much an ε error at step i moves the final sample
 * (`error-weights.ts`, derived for DDIM and DDPM there). The constraint: the steps' summed cost, from
 * the table (measured ms per predict, or FLOPs), saves at least the budget's fraction of the
 * full-depth run. Both are additive over steps, so dynamic programming over steps × saved cost
 * (discretised, `budgeted-search.ts`) finds the exact optimum of the discretised problem.
 *
 * The cache fill (training-free, DeepCache-like) has memory: a step that skips reads deep features
 * computed at the last full-depth step, and its error grows with that step's age. The same DP then
 * carries a state, the cache's age and the smallest depth used since its refresh, and chooses
 * which steps refresh at full depth. Depths within a refresh cycle never increase, so every cached
 * step reads features of the full-depth step itself (what the calibration measured), never features
 * that an earlier skipping step recomputed from the cache; core's `cacheDepths` then runs exactly
 * the depths planned (the run must use the `cache` fill without an interval).
 *
 * A measured negative result, kept so nobody repeats it blind: pricing the cache's refresh cycles
 * as units, with the steps that read one cache correlated (ρ) and cycles independent, costs
 * (1 − ρ) Σ w_i err_i + ρ (Σ √(w_i err_i))² per cycle and needs a DP over cycles instead of steps.
 * On mnist-full (DDIM-50 η = 1; `bench/dev/cache-correlation.mjs`) the ε errors are indeed
 * correlated within a cycle (cosine 0.68–0.79 for neighbouring steps) and not across (−0.1…0.0),
 * but such plans scored FD-LeNet 55.1 / 62.2 / 78.6 / 108.9 at 33.7 / 44.5 / 49.9 / 53.9 % FLOPs
 * saved against `coherent`'s 51.6 / 63.2 / 77.2 / 109.8 (`bench/dev/table5-error-models.mjs`, 500
 * images; `coherent` with the search as it was before commit 1dcab61, whose rounding hid some
 * plans: it now scores 51.7 / 57.9 / 78.8 / 86.7): no consistent gain, so it was not kept (it is in
 * the history at commit 7ba8d5e). The weights may matter more: a single cycle of cached steps at
 * t ≥ 800 moves the final sample 120–530× more than the table's propagation (measured along the
 * zero fill's error) predicts (`bench/dev/cache-cycle-influence.mjs`). But hand-made plans that
 * refresh more often early scored worse than the uniform interval (`bench/dev/cache-plan-search.mjs`),
 * and the objective as it is ranks Table 5's schedules as FD-LeNet does (Spearman ρ 0.95–1.00 per
 * row, `scheduleError` in `pnpm bench report`). Likely, a larger move of the sample early in the
 * run is mostly a different digit, not a worse one, which FD-LeNet does not count (not measured).
 *
 * The result is a stage-table schedule (one row per step, rows split halfway between steps), so it
 * serialises, and every backend and sampler runs it; `plan` tells what was optimised.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { parseFill, type BuiltinFill } from '../../fills/fill-registry.js';
import { noiseScheduleFromConfig, type NoiseSchedule } from '../../noise/noise-schedule.js';
import type { SkipSchedule, SkipScheduleJSON, StageEntry } from '../skip-schedule.js';
import { stageSchedule } from '../stage-schedule.js';
import { solveBudgeted, type BudgetedProblem, type ScheduleAction } from './budgeted-search.js';
import { cacheErrorAt, statelessErrorAt } from './calibration-lookup.js';
import { calibratedFillKinds, type CalibratedCacheFill, type CalibratedFill, type CalibratedFillKind, type CalibrationPropagation, type CalibrationTable } from './calibration-table.js';
import { calibratedSamplerKind, errorWeights, type CalibratedSamplerKind } from './error-weights.js';

/** How the steps' errors add up in the final sample (`OptimalScheduleOptions.errorModel`). */
export type CalibratedErrorModel = 'coherent' | 'independent';

/** The error models `optimalSchedule` accepts. */
export const calibratedErrorModels: readonly CalibratedErrorModel[] = Object.freeze(['coherent', 'independent']);

/** A time budget: a fraction of the full-depth run's time to save (e.g. 0.4), or a target time in ms for the whole run (tables with `costUnit: 'ms'`). */
export type ScheduleBudget = number | { readonly fractionSaved: number } | { readonly ms: number };

/** The sampler a schedule is planned for: its kind, DDIM's η, and optionally its timesteps and noise schedule (a samplers-package `Sampler` spread with its η fits). */
export interface CalibratedSamplerDescription {
  /** `ddim`, `ddpm`, `dpm-solver` (or the samplers package's kinds: `dpmSolverPlusPlus`). */
  readonly kind: string;
  /** DDIM's η in [0, 1] (default 0). */
  readonly eta?: number;
  /** The sampler's timesteps in step order; `steps` may give them instead. */
  readonly timesteps?: readonly number[];
  /** Default: the calibration table's noise schedule. */
  readonly noiseSchedule?: NoiseSchedule;
}

export interface OptimalScheduleOptions {
  /** `'ddim' | 'ddpm' | 'dpm-solver'`, or a description with η and timesteps. */
  readonly sampler: string | CalibratedSamplerDescription;
  /**
   * The sampler's timesteps in step order (e.g. `sampler.timesteps`), or a step count for DDIM and
   * DDPM meaning diffusers' default "leading" spacing ⌊T/n⌋·(n − 1 − i). Default: the sampler
   * description's `timesteps`.
   */
  readonly steps?: number | readonly number[];
  readonly budget: ScheduleBudget;
  /** The fill the run uses (default: the table's first fill). It must be in the table. */
  readonly fill?: CalibratedFillKind;
  /**
   * How the steps' errors add up in the final sample: `coherent` (default) as parallel vectors,
   * ‖Σ δ_i‖ = Σ ‖δ_i‖, so the DP minimises Σ √(w_i err_i) and predicts (Σ √(w_i err_i))²; or
   * `independent`, in quadrature, minimising and predicting Σ w_i err_i. Skipping errors are
   * systematic (the same missing features, or the same stale cache, step after step), and on the
   * shipped MNIST models coherent addition predicts the measured deviation far better.
   */
  readonly errorModel?: CalibratedErrorModel;
  /**
   * With a stateless fill (every fill but the cache): whether the depth may only fall as the run
   * goes on (k_i ≤ k_{i−1}, high noise first), as eq. (1)'s schedules do and as skip-trained models
   * were trained. Default true. The first-order error model weighs an ε error late in the run (low noise)
   * lightly, and so, unconstrained, the DP puts k = N − 1 there; on mnist-zero-c2, which never ran
   * that depth at low noise in training, such a plan at 41 % saved scored FD-LeNet 861.6 against
   * eq. (1)'s 349.9 at c = 2 (`pnpm bench quality --only table5`). `false` searches every sequence.
   * The cache fill ignores it (its depth alternates with the refreshes by design).
   */
  readonly monotone?: boolean;
  /**
   * s² of the error weights' Gaussian-data Jacobian (`errorWeights`); default the table's
   * `dataVariance`, else 1. Given, it also replaces the table's measured `propagation`.
   */
  readonly dataVariance?: number;
}

/** What a calibrated schedule was optimised for and what it predicts. */
export interface CalibratedSchedulePlan {
  readonly fill: CalibratedFillKind;
  readonly sampler: CalibratedSamplerKind;
  readonly eta: number;
  /** s² the weights were computed with (when they come from the Gaussian-data model). */
  readonly dataVariance: number;
  /** Where the weights' propagation to the final sample comes from: the table's measurement, or the Gaussian-data model. */
  readonly weightModel: 'measured' | 'gaussian';
  /** The steps' diffusion timesteps, in step order. */
  readonly timesteps: readonly number[];
  /** The depth of every step (with the cache fill, 0 at its full-depth refreshes). */
  readonly ks: readonly number[];
  /** w_i of every step. */
  readonly weights: readonly number[];
  /** w_i · err_i(k_i) of every step. */
  readonly stepErrors: readonly number[];
  /** The predicted squared error added to each final sample (first order): (Σ √(w_i err_i))² for coherent errors, Σ w_i err_i for independent ones. */
  readonly predictedError: number;
  readonly errorModel: CalibratedErrorModel;
  /** Whether the depth was constrained to fall over the run (`OptimalScheduleOptions.monotone`). */
  readonly monotone: boolean;
  /** The fraction of the full-depth run's cost saved, from the table's costs. */
  readonly fractionSaved: number;
  /** The fraction the budget asked for. */
  readonly requiredFractionSaved: number;
  /** The run's cost and the full-depth run's, in `costUnit` (ms at the table's `costBatch`, or FLOPs per sample). */
  readonly cost: number;
  readonly fullCost: number;
  readonly costUnit: 'ms' | 'flops';
  /** Cost units per full-depth step of the discretisation (savings rounded up, then down if the plan found does not really meet the budget). */
  readonly resolution: number;
}

/** A calibrated schedule: a stage-table `SkipSchedule` with its plan. */
export interface CalibratedSchedule extends SkipSchedule {
  readonly kind: 'stage';
  readonly plan: CalibratedSchedulePlan;
  toJSON(): SkipScheduleJSON;
}

/** A calibrated schedule with the fill it was planned for: spread into `sample()`'s options. */
export interface AutoScheduleSettings {
  readonly skip: CalibratedSchedule;
  readonly fill: BuiltinFill;
}

/** Work bound of the search (cells × actions); the discretisation is chosen to stay below it. */
const searchWork = 1.5e8;
/** Bound on the backtracking table (bytes at one byte per cell). */
const searchCells = 6e7;
const maxResolution = 1000;
const minResolution = 4;

function optionError(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `optimalSchedule: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

function resolveSampler(options: Pick<OptimalScheduleOptions, 'sampler' | 'steps'>, table: CalibrationTable): { kind: CalibratedSamplerKind; eta: number; timesteps: readonly number[]; noiseSchedule: NoiseSchedule } {
  const description: CalibratedSamplerDescription = typeof options.sampler === 'string' ? { kind: options.sampler } : options.sampler;
  if (typeof description !== 'object' || description === null) throw optionError('sampler', `must be 'ddim', 'ddpm', 'dpm-solver' or { kind, eta, timesteps }, got ${String(description)}`);
  const kind = calibratedSamplerKind(description.kind);
  const eta = kind === 'ddim' ? (description.eta ?? 0) : 0;
  const noiseSchedule = description.noiseSchedule ?? noiseScheduleFromConfig(table.noiseSchedule);
  const T = noiseSchedule.trainTimesteps;
  if (T !== table.noiseSchedule.trainTimesteps) {
    throw optionError('sampler', `uses a noise schedule with T = ${T}, but the model was calibrated with T = ${table.noiseSchedule.trainTimesteps}; plan with the model's own schedule`);
  }
  const steps = options.steps ?? description.timesteps;
  let timesteps: readonly number[];
  if (steps === undefined) throw optionError('steps', "is needed: the sampler's timesteps (sampler.timesteps) or, for ddim and ddpm, a step count");
  if (typeof steps === 'number') {
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= T)) throw optionError('steps', `must be an integer in [1, ${T}] or a list of timesteps, got ${String(steps)}`);
    if (kind === 'dpm-solver') throw optionError('steps', "must be the sampler's timestep list for dpm-solver (its default spacing differs from DDIM's): pass sampler.timesteps");
    const ratio = Math.floor(T / steps);
    timesteps = Array.from({ length: steps }, (_, i) => ratio * (steps - 1 - i));
  } else if (Array.isArray(steps)) {
    timesteps = steps;
  } else {
    throw optionError('steps', `must be a step count or a list of timesteps, got ${String(steps)}`);
  }
  return { kind, eta, timesteps, noiseSchedule };
}

/** How far below the budget a plan's saving may fall (rounding): a fraction of the full run. */
const budgetTolerance = 1e-12;

/** The budget as a fraction of the full-depth cost to save. */
function requiredFraction(budget: ScheduleBudget, table: CalibrationTable, fullCost: number): number {
  const fraction = typeof budget === 'number' ? budget : typeof budget === 'object' && budget !== null && 'fractionSaved' in budget ? budget.fractionSaved : undefined;
  if (fraction !== undefined) {
    if (!(typeof fraction === 'number' && fraction >= 0 && fraction < 1)) throw optionError('budget', `must be a fraction of the time to save in [0, 1), e.g. 0.4, got ${String(fraction)}`);
    return fraction;
  }
  const ms = typeof budget === 'object' && budget !== null && 'ms' in budget ? budget.ms : undefined;
  if (!(typeof ms === 'number' && Number.isFinite(ms) && ms > 0)) throw optionError('budget', `must be a fraction to save (e.g. 0.4), { fractionSaved } or { ms } with a positive time, got ${JSON.stringify(budget)}`);
  if (table.costUnit !== 'ms') {
    throw optionError('budget', `{ ms: ${ms} } needs a table with measured times, but this one holds FLOPs (costUnit "flops"); give a fraction to save, or recalibrate with measured costs`);
  }
  return Math.max(0, 1 - ms / fullCost);
}

/**
 * P(s) between the measured timesteps: linear in log P, from P = 1 at s = −1 (the final sample)
 * through the measurements, constant beyond the last.
 */
export function propagationLookup(propagation: CalibrationPropagation): (timestep: number) => number {
  const xs = [-1, ...propagation.timesteps];
  const logs = [0, ...propagation.factors.map(Math.log)];
  return (s) => {
    if (s >= xs[xs.length - 1]!) return Math.exp(logs[logs.length - 1]!);
    let hi = 1;
    while (xs[hi]! < s) hi++;
    const w = (s - xs[hi - 1]!) / (xs[hi]! - xs[hi - 1]!);
    return Math.exp(logs[hi - 1]! + w * (logs[hi]! - logs[hi - 1]!));
  };
}

/** Decoder stage of a diffusion timestep (`stageEnds` as `stageForTime` reads decoder stages). */
function stageOf(table: CalibrationTable, timestep: number): number {
  const t = timestep / table.noiseSchedule.trainTimesteps;
  let stage = 0;
  while (stage < table.stageEnds.length && t >= table.stageEnds[stage]!) stage++;
  return stage;
}

/** One stage-table row per step, split halfway between consecutive steps' normalised times, equal neighbours merged. */
export function stageTableFromSteps(timesteps: readonly number[], ks: readonly number[], trainTimesteps: number): StageEntry[] {
  const order = timesteps.map((t, i) => ({ t: t / trainTimesteps, k: ks[i]! })).sort((a, b) => a.t - b.t);
  const rows: StageEntry[] = [];
  order.forEach((step, i) => {
    const tStart = i === 0 ? 0 : (order[i - 1]!.t + step.t) / 2;
    const tEnd = i === order.length - 1 ? 1 : (step.t + order[i + 1]!.t) / 2;
    const last = rows[rows.length - 1];
    if (last !== undefined && last.k === step.k) rows[rows.length - 1] = { tStart: last.tStart, tEnd, k: step.k };
    else rows.push({ tStart, tEnd, k: step.k });
  });
  return rows;
}

/** The sampler, its steps' error weights w_i and where they come from. */
function stepWeights(table: CalibrationTable, options: Pick<OptimalScheduleOptions, 'sampler' | 'steps' | 'dataVariance'>) {
  const sampler = resolveSampler(options, table);
  const dataVariance = options.dataVariance ?? table.dataVariance ?? 1;
  const propagation = options.dataVariance === undefined && table.propagation !== undefined ? propagationLookup(table.propagation) : undefined;
  const weights = errorWeights({ sampler: sampler.kind, eta: sampler.eta, noiseSchedule: sampler.noiseSchedule, timesteps: sampler.timesteps, dataVariance, ...(propagation === undefined ? {} : { propagation }) });
  return { sampler, dataVariance, weights, weightModel: propagation === undefined ? ('gaussian' as const) : ('measured' as const) };
}

/** The error model asked for, checked. */
function resolveErrorModel(errorModel: CalibratedErrorModel | undefined): CalibratedErrorModel {
  const model = errorModel ?? 'coherent';
  if (!calibratedErrorModels.includes(model)) throw optionError('errorModel', `must be one of ${calibratedErrorModels.join(', ')}, got ${JSON.stringify(model)}`);
  return model;
}

/** The predicted squared error of the steps' w_i · err_i under an error model. */
function predicted(stepErrors: readonly number[], errorModel: CalibratedErrorModel): number {
  return errorModel === 'coherent' ? stepErrors.reduce((sum, e) => sum + Math.sqrt(e), 0) ** 2 : stepErrors.reduce((sum, e) => sum + e, 0);
}

/** The fill's entry in the table, or an error naming the fills it has. */
function fillEntry(table: CalibrationTable, fill: CalibratedFillKind | undefined): CalibratedFill {
  const name = fill ?? table.fills[0]!.fill;
  const entry = table.fills.find((f) => f.fill === name);
  if (entry === undefined) {
    const known = table.fills.map((f) => f.fill).join(', ');
    throw optionError('fill', `"${String(name)}" was not calibrated for this model (the table has ${known}); pick one of those, or recalibrate with it${(calibratedFillKinds as readonly string[]).includes(String(name)) ? '' : ` (fills: ${calibratedFillKinds.join(', ')})`}`);
  }
  return entry;
}

/** The table's cost of one step at depth k (0: full depth) with this fill. */
function depthCost(table: CalibrationTable, entry: CalibratedFill, k: number): number {
  return k === 0 ? entry.cost[0]! : entry.cost[table.ks.indexOf(k) + 1]!;
}

/** Runs the search for one fill. */
function plan(table: CalibrationTable, entry: CalibratedFill, options: OptimalScheduleOptions): CalibratedSchedulePlan {
  const resolved = stepWeights(table, options);
  const { sampler, weights } = resolved;
  const { timesteps } = sampler;
  const n = timesteps.length;
  const levels = table.levels;
  const costOf = (k: number): number => depthCost(table, entry, k);
  const fullStep = entry.cost[0]!;
  const fullCost = n * fullStep;
  const required = requiredFraction(options.budget, table, fullCost);

  const cache = entry.fill === 'cache' ? (entry as CalibratedCacheFill) : undefined;
  // The oldest cache (in this run's steps) any step may read: its gap stays within the ages measured.
  let maxAge = 0;
  if (cache !== undefined) {
    const maxGap = cache.ages[cache.ages.length - 1]! * cache.stepSpacing;
    for (let i = 0; i < n; i++) {
      let a = maxAge + 1;
      while (i - a >= 0 && timesteps[i - a]! - timesteps[i]! <= maxGap) a++;
      maxAge = Math.max(maxAge, a - 1);
    }
  }
  // Cache states: age 0 (empty) … maxAge + 1 (too old to read) × smallest depth since the refresh (1 … N, N = none yet).
  const monotone = cache === undefined && options.monotone !== false;
  // Stateless fills: one state, or, monotone, the previous step's depth (the first step may take any).
  const states = cache === undefined ? (monotone ? levels : 1) : (maxAge + 2) * levels;
  const actionsPerState = table.ks.length + 1;
  const byWork = Math.floor(searchWork / (n * n * states * actionsPerState));
  const byCells = Math.floor(searchCells / (n * n * states));
  const resolution = Math.min(maxResolution, byWork, byCells);
  if (resolution < minResolution) {
    throw new LevelskipError(
      'UNSUPPORTED',
      `optimalSchedule: ${n} steps${cache === undefined ? '' : ` with cache ages up to ${maxAge} steps`} make the search too large; plan for fewer steps${cache === undefined ? '' : ', or calibrate fewer cache ages'}`,
    );
  }
  // Savings in units, rounded up (`optimistic`: every plan that meets the budget exactly also meets
  // it quantised, so the search's optimum is at least as good as the true one) or down (a plan that
  // meets the budget quantised meets it exactly).
  const savingUnits = (k: number, optimistic: boolean): number => {
    const units = (resolution * (fullStep - costOf(k))) / fullStep;
    return Math.max(0, optimistic ? Math.ceil(units - 1e-9) : Math.floor(units + 1e-9));
  };
  // A budget is met to within 1e-12 of the full run (so a budget of 3e-13 needs no skipping at all).
  // The tolerance also absorbs the rounding of the product; no further slack, or a budget just above
  // it (1e-12 + 2e-28) would be met with nothing saved.
  const requiredUnits = Math.max(0, Math.ceil((required - budgetTolerance) * n * resolution));
  const errorModel = resolveErrorModel(options.errorModel);
  // What the DP sums per step: the squared error (independent errors add in quadrature) or its root (coherent errors add in amplitude).
  const term = (squared: number): number => (errorModel === 'coherent' ? Math.sqrt(squared) : squared);

  const problem = (optimistic: boolean): BudgetedProblem => ({
    steps: n,
    states,
    initialState: cache === undefined ? (monotone ? levels - 1 : 0) : levels - 1,
    required: requiredUnits,
    actions(step, state) {
      const t = timesteps[step]!;
      const w = weights[step]!;
      if (cache === undefined) {
        const list: ScheduleAction[] = [{ k: 0, next: 0, saving: 0, error: 0 }];
        table.ks.forEach((k, j) => {
          if (monotone && k > state) return;
          list.push({ k, next: monotone ? k : 0, saving: savingUnits(k, optimistic), error: term(w * statelessErrorAt(table.timesteps, entry as Exclude<CalibratedFill, CalibratedCacheFill>, t, j)) });
        });
        return list;
      }
      const age = Math.floor(state / levels);
      const smallest = (state % levels) + 1;
      const list: ScheduleAction[] = [{ k: 0, next: levels + levels - 1, saving: 0, error: 0 }];
      if (age === 0 || age > maxAge) return list;
      const refresh = step - age;
      if (stageOf(table, timesteps[refresh]!) !== stageOf(table, t)) return list;
      const gap = timesteps[refresh]! - t;
      table.ks.forEach((k, j) => {
        if (k > smallest) return;
        const error = cacheErrorAt(table.timesteps, cache, t, j, gap);
        if (error === undefined) return;
        list.push({ k, next: Math.min(age + 1, maxAge + 1) * levels + (k - 1), saving: savingUnits(k, optimistic), error: term(w * error) });
      });
      return list;
    },
  });
  // Quantising the savings either way can miss the optimum: rounded down, a plan that saves just
  // enough looks short (found by the monotone property test: three steps at k = 2 saving 55.49 % of
  // a step against 55.20 % required, 554 units against 553); rounded up, a plan just short looks
  // enough. So: the optimistic search first, whose optimum is the true one when it really meets the
  // budget (checked exactly); else the conservative search, whose plan always meets it.
  const meetsBudget = (ks: readonly number[]): boolean => 1 - ks.reduce((sum, k) => sum + costOf(k), 0) / fullCost >= required - budgetTolerance;
  const optimistic = solveBudgeted(problem(true));
  const { solution, maxSaving } = optimistic.solution !== undefined && meetsBudget(optimistic.solution.ks) ? optimistic : solveBudgeted(problem(false));
  if (solution === undefined) {
    const most = maxSaving / (n * resolution);
    throw new LevelskipError(
      'INVALID_OPTION',
      `optimalSchedule: budget asks to save ${(100 * required).toFixed(1)}% of the time, but with the ${entry.fill} fill this model saves at most about ${(100 * most).toFixed(1)}% ` +
        `over ${n} steps${cache === undefined ? '' : ' (the first step of each decoder stage must run at full depth to fill the cache, and caches older than the ages calibrated are not used)'}; ask for less`,
      { issues: [{ path: ['budget'], message: `at most about ${most.toFixed(3)}` }] },
    );
  }
  // Errors recomputed per step from the chosen depths (and, for the cache, the age each step reads).
  return { ...outcome(table, entry, resolved, solution.ks, errorModel), monotone, requiredFractionSaved: required, resolution };
}

function checkTable(table: unknown): CalibrationTable {
  const t = table as Partial<CalibrationTable> | null;
  if (typeof t !== 'object' || t === null || t.format !== 'levelskip-calibration' || !Array.isArray(t.fills)) {
    throw new LevelskipError('INVALID_OPTION', 'optimalSchedule: calibration must be a calibration table from calibrate() or parseCalibrationTable(json)', {
      issues: [{ path: ['calibration'], message: 'not a calibration table' }],
    });
  }
  return t as CalibrationTable;
}

function toSchedule(table: CalibrationTable, result: CalibratedSchedulePlan): CalibratedSchedule {
  const rows = stageTableFromSteps(result.timesteps, result.ks, table.noiseSchedule.trainTimesteps);
  const inner = stageSchedule(rows);
  const description = `auto(fill=${result.fill}, saves ${(100 * result.fractionSaved).toFixed(1)}%, ${result.sampler} ${result.timesteps.length} steps)`;
  return Object.freeze({
    kind: 'stage' as const,
    description,
    kAt: (t: number, levels: number) => inner.kAt(t, levels),
    toJSON: () => inner.toJSON() as SkipScheduleJSON,
    plan: Object.freeze(result),
  });
}

/**
 * The skip schedule that adds the least error to the final sample for a time budget, on a
 * calibrated model (see the file comment): k per step by dynamic programming over steps × saved
 * cost, and with the cache fill the steps that refresh at full depth.
 *
 * @param calibration A table from `calibrate()` or `parseCalibrationTable(json)` (model.json's `calibration`).
 * @throws LevelskipError `INVALID_OPTION` naming the option for an unknown sampler, bad steps or
 *   budget, a fill the table lacks, or a budget the model cannot reach (saying how much it can);
 *   `UNSUPPORTED` when the search would be too large (thousands of steps with the cache fill).
 *
 * @example
 * ```ts
 * const sampler = ddim({ steps: 50, eta: 1 });
 * const skip = optimalSchedule(calibration, { sampler: { kind: 'ddim', eta: 1 }, steps: sampler.timesteps, budget: 0.4, fill: 'cache' });
 * await sample({ denoiser, sampler, skip, fill: cacheFill, seed: 0 });
 * ```
 */
export function optimalSchedule(calibration: CalibrationTable, options: OptimalScheduleOptions): CalibratedSchedule {
  const table = checkTable(calibration);
  if (typeof options !== 'object' || options === null) throw optionError('options', 'must be an object { sampler, steps, budget, fill? }');
  return toSchedule(table, plan(table, fillEntry(table, options.fill), options));
}

/**
 * What the depths `ks` (one per step) predict: each step's w_i · err_i (with the cache fill, at the
 * age of the cache it reads) and their sum under the error model, and the cost. Refuses, naming the
 * step, depths a run cannot execute as calibrated.
 */
function outcome(table: CalibrationTable, entry: CalibratedFill, resolved: ReturnType<typeof stepWeights>, ks: readonly number[], errorModel: CalibratedErrorModel): ScheduleErrorPrediction {
  const { sampler, dataVariance, weights, weightModel } = resolved;
  const { timesteps } = sampler;
  const costOf = (k: number): number => depthCost(table, entry, k);
  const cache = entry.fill === 'cache' ? (entry as CalibratedCacheFill) : undefined;
  let refresh = -1;
  let smallest = table.levels;
  const stepErrors = ks.map((k, i) => {
    const t = timesteps[i]!;
    if (k !== 0 && !table.ks.includes(k)) throw optionError(`ks[${i}]`, `must be 0 or a depth the table calibrated (${table.ks.join(', ')}), got ${String(k)}`);
    if (k === 0) {
      refresh = i;
      smallest = table.levels;
      return 0;
    }
    const j = table.ks.indexOf(k);
    if (cache === undefined) return weights[i]! * statelessErrorAt(table.timesteps, entry as Exclude<CalibratedFill, CalibratedCacheFill>, t, j);
    if (refresh < 0 || stageOf(table, timesteps[refresh]!) !== stageOf(table, t)) {
      throw optionError(`ks[${i}]`, `is ${k} with the cache fill, but no full-depth step of this decoder stage filled the cache before it; set the stage's first step to 0`);
    }
    if (k > smallest) throw optionError(`ks[${i}]`, `is ${k}, deeper than the ${smallest} of an earlier step in its refresh cycle: with the cache fill the depth may not increase until the next step at 0`);
    smallest = k;
    const error = cacheErrorAt(table.timesteps, cache, t, j, timesteps[refresh]! - t);
    if (error === undefined) {
      throw optionError(`ks[${i}]`, `reads a cache ${i - refresh} steps (${timesteps[refresh]! - t} timesteps) old, older than the ages this table calibrated (up to ${cache.ages[cache.ages.length - 1]! * cache.stepSpacing} timesteps); refresh sooner, or recalibrate with more ages`);
    }
    return weights[i]! * error;
  });
  const cost = ks.reduce((sum, k) => sum + costOf(k), 0);
  const fullCost = timesteps.length * entry.cost[0]!;
  return {
    fill: entry.fill,
    sampler: sampler.kind,
    eta: sampler.eta,
    dataVariance,
    weightModel,
    timesteps: [...timesteps],
    ks: [...ks],
    weights,
    stepErrors,
    predictedError: predicted(stepErrors, errorModel),
    errorModel,
    fractionSaved: 1 - cost / fullCost,
    cost,
    fullCost,
    costUnit: table.costUnit,
  };
}

export interface ScheduleErrorOptions extends Pick<OptimalScheduleOptions, 'sampler' | 'steps' | 'fill' | 'errorModel' | 'dataVariance'> {
  /**
   * The depth of every step, in step order (0 = full depth; with the cache fill, a step at 0
   * refreshes the cache): a `SkipSchedule`'s `kAt` at each step, through `cacheDepths(ks, fill)`
   * for the depths the run really uses (`cache:m`'s refreshes included).
   */
  readonly ks: readonly number[];
}

/** What a schedule's depths predict on a calibrated model (`scheduleError`). */
export type ScheduleErrorPrediction = Pick<
  CalibratedSchedulePlan,
  'fill' | 'sampler' | 'eta' | 'dataVariance' | 'weightModel' | 'timesteps' | 'ks' | 'weights' | 'stepErrors' | 'predictedError' | 'errorModel' | 'fractionSaved' | 'cost' | 'fullCost' | 'costUnit'
>;

/**
 * The error that `optimalSchedule` would predict for any schedule's depths: the same objective
 * (w_i · err_i per step, added coherently or independently) and cost, for a plan made by hand,
 * eq. (1) or DeepCache's uniform interval, so that calibrated and hand-made schedules are compared on
 * the model's own calibration (the bench's Table 5 prints it beside FD-LeNet).
 *
 * With the cache fill, each skipping step reads the cache of the last step at k = 0 (its age is
 * the timesteps between them), and depths within a refresh cycle may not increase (as `cacheDepths`
 * runs them and as the calibration measured).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option, as `optimalSchedule`, and `ks` when its
 *   length is not the step count, a depth is not 0 or one of the table's ks, or, with the cache fill,
 *   a step reads no cache (the first step of a decoder stage must be at k = 0), a cache older than
 *   the ages calibrated, or a depth greater than an earlier one of its refresh cycle.
 *
 * @example
 * ```ts
 * // DeepCache's cache:3 at k = 3 over DDIM-50: refresh every third step.
 * const ks = cacheDepths(new Array(50).fill(3), parseFill('cache:3'));
 * const { predictedError, fractionSaved } = scheduleError(calibration, { sampler: { kind: 'ddim', eta: 1 }, steps: 50, fill: 'cache', ks });
 * ```
 */
export function scheduleError(calibration: CalibrationTable, options: ScheduleErrorOptions): ScheduleErrorPrediction {
  const table = checkTable(calibration);
  if (typeof options !== 'object' || options === null) throw optionError('options', 'must be an object { sampler, steps, ks, fill? }');
  const entry = fillEntry(table, options.fill);
  const errorModel = resolveErrorModel(options.errorModel);
  const { ks } = options;
  const resolved = stepWeights(table, options);
  const n = resolved.sampler.timesteps.length;
  if (!Array.isArray(ks) || ks.length !== n) {
    throw optionError('ks', `must list one depth per step (${n} for these steps), got ${Array.isArray(ks) ? `${ks.length} depths` : String(ks)}`);
  }
  return Object.freeze(outcome(table, entry, resolved, ks, errorModel));
}

const fillStrategies: Readonly<Record<CalibratedFillKind, BuiltinFill>> = Object.fromEntries(calibratedFillKinds.map((kind) => [kind, parseFill(kind)])) as Record<
  CalibratedFillKind,
  BuiltinFill
>;

/**
 * The calibrated schedule and fill to sample with: `optimalSchedule` for `options.fill`, or, when no
 * fill is given, for every fill in the table, keeping the one with the least predicted error.
 * With the cache fill the returned fill is `cacheFill` (no interval: the schedule places the refreshes).
 *
 * @throws LevelskipError as `optimalSchedule`; when no fill reaches the budget, the error of the
 *   fill that came closest.
 *
 * @example
 * ```ts
 * const { skip, fill } = autoSchedule(calibration, { sampler: { kind: 'ddim', eta: 1 }, steps: 50, budget: 0.4 });
 * await sample({ denoiser, sampler: ddim({ steps: 50, eta: 1 }), skip, fill, seed: 0 });
 * ```
 */
export function autoSchedule(calibration: CalibrationTable, options: OptimalScheduleOptions): AutoScheduleSettings {
  const table = checkTable(calibration);
  if (options?.fill !== undefined) {
    const skip = optimalSchedule(table, options);
    return Object.freeze({ skip, fill: fillStrategies[skip.plan.fill] });
  }
  let best: CalibratedSchedule | undefined;
  let firstError: unknown;
  for (const entry of table.fills) {
    try {
      const candidate = optimalSchedule(table, { ...options, fill: entry.fill });
      if (best === undefined || candidate.plan.predictedError < best.plan.predictedError) best = candidate;
    } catch (error) {
      if (!(LevelskipError.is(error) && error.code === 'INVALID_OPTION' && error.issues[0]?.path[0] === 'budget')) throw error;
      firstError ??= error;
    }
  }
  if (best === undefined) throw firstError;
  return Object.freeze({ skip: best, fill: fillStrategies[best.plan.fill] });
}
