/**
 * The calibration table: what skipping costs and what it does to the prediction, measured on one
 * model (`calibrate`), small enough to ship in the model's `model.json` (`calibration`) and read
 * by `optimalSchedule` / `autoSchedule` in any environment.
 *
 * For each calibrated diffusion timestep t, depth k and fill, held-out images x₀ are noised to
 * x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε and the table records
 *
 *   epsilonError = mean over the images of ‖ε_k(x_t) − ε_0(x_t)‖²      (summed over C·H·W pixels)
 *   x0Error      = (1 − ᾱ_t)/ᾱ_t · epsilonError
 *
 * the second being the same error seen in the predicted x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t, which
 * moves by −√(1 − ᾱ_t)/√ᾱ_t · δε. Divide by `dimensions` for a per-pixel mean square.
 *
 * The cache fill's error depends on the age of its cache as well: `ages[a]` counts sampler steps of
 * `stepSpacing` diffusion timesteps between the full-depth step that filled the cache and the step
 * that reads it, so its errors are indexed [timestep][k][age]; `null` where the full-depth step
 * would lie beyond the last training timestep (nothing to measure).
 *
 * Costs are per prediction, index 0 = full depth and j + 1 = `ks[j]`: milliseconds per predict at
 * `costBatch` on the backend that calibrated (`costUnit: 'ms'`), or FLOPs per sample from core's
 * FLOP model (`costUnit: 'flops'`).
 */
import * as z from 'zod/mini';
import { LevelskipError } from '../../errors/levelskip-error.js';
import { noiseScheduleFromConfig, type NoiseScheduleConfig, type ResolvedNoiseScheduleConfig } from '../../noise/noise-schedule.js';
import { safeZodIssues, unetSpecLimits, zodMessages } from '../../spec/unet-spec.js';
import { builtinFillKinds, fillDefinition, type BuiltinFillKind } from '../../fills/fill-registry.js';

/** A built-in fill a calibration table can describe (custom fills have no portable name). */
export type CalibratedFillKind = BuiltinFillKind;
/** A calibrated fill whose error depends on the timestep and k only (every built-in fill but the cache). */
export type CalibratedStatelessFillKind = Exclude<CalibratedFillKind, 'cache'>;

/**
 * The fills a calibration table can describe, from core's fill registry: every stateless built-in
 * fill, and the cache (whose error also depends on the age of its features).
 */
export const calibratedFillKinds: readonly CalibratedFillKind[] = Object.freeze(builtinFillKinds.filter((kind) => kind === 'cache' || !fillDefinition(kind).stateful));
/** The calibrated fills other than the cache. */
export const calibratedStatelessFillKinds: readonly CalibratedStatelessFillKind[] = Object.freeze(
  calibratedFillKinds.filter((kind): kind is CalibratedStatelessFillKind => kind !== 'cache'),
);

/** A calibrated fill other than the cache: errors per [timestep][k]. */
export interface CalibratedStatelessFill {
  readonly fill: CalibratedStatelessFillKind;
  /** Cost per prediction: [full depth, then one per `ks` entry], in the table's `costUnit`. */
  readonly cost: readonly number[];
  /** `epsilonError[i][j]`: mean ‖ε_k − ε_0‖² at `timesteps[i]`, k = `ks[j]`. */
  readonly epsilonError: readonly (readonly number[])[];
  /** `x0Error[i][j]` = (1 − ᾱ_t)/ᾱ_t · `epsilonError[i][j]`. */
  readonly x0Error: readonly (readonly number[])[];
}

/** The calibrated cache fill: errors per [timestep][k][age]. */
export interface CalibratedCacheFill {
  readonly fill: 'cache';
  /** Diffusion timesteps per sampler step at which the ages were measured (T / steps of the sampler calibrated for). */
  readonly stepSpacing: number;
  /** Cache ages measured, in steps of `stepSpacing`, increasing, each ≥ 1. */
  readonly ages: readonly number[];
  /** Cost per prediction: [full depth (the step that refreshes the cache), then one per `ks` entry (a step reading it)]. */
  readonly cost: readonly number[];
  /** `epsilonError[i][j][a]`: mean ‖ε_k − ε_0‖² at `timesteps[i]`, k = `ks[j]`, cache age `ages[a]`; null: not measurable. */
  readonly epsilonError: readonly (readonly (readonly (number | null)[])[])[];
  readonly x0Error: readonly (readonly (readonly (number | null)[])[])[];
}

export type CalibratedFill = CalibratedStatelessFill | CalibratedCacheFill;

/**
 * How an error in the sample at timestep s reaches the final sample, measured on the model with a
 * sampler (`measurePropagation` in @levelskip/samplers): `factors[j]` = E‖δx_final‖² / ‖δx_s‖² for
 * a perturbation of the sample at `timesteps[j]` (the direction of the model's own skip error),
 * the rest of the run unchanged. The error weights use it in place of the Gaussian-data model.
 */
export interface CalibrationPropagation {
  /** The sampler it was measured with. */
  readonly sampler: 'ddim' | 'ddpm' | 'dpm-solver';
  readonly eta: number;
  /** Its number of steps. */
  readonly steps: number;
  /** Images the factors are averaged over. */
  readonly samples: number;
  /** Diffusion timesteps s of the perturbed samples, increasing. */
  readonly timesteps: readonly number[];
  /** E‖δx_final‖² / ‖δx_s‖² at each of them (> 0). */
  readonly factors: readonly number[];
}

/** A model's calibration table (see the file comment); `parseCalibrationTable` checks one read from outside. */
export interface CalibrationTable {
  readonly format: 'levelskip-calibration';
  readonly version: 1;
  /** N, the model's levels. */
  readonly levels: number;
  /** The noise schedule the model was calibrated with, as `NoiseSchedule.config` writes it. */
  readonly noiseSchedule: ResolvedNoiseScheduleConfig;
  /** Normalised times at which the decoder stage changes (multi-decoder U-Nets: every stage's tEnd but the last); empty otherwise. */
  readonly stageEnds: readonly number[];
  /** C·H·W, the number of values ‖·‖² sums over. */
  readonly dimensions: number;
  /** Held-out images the errors are averaged over. */
  readonly samples: number;
  /** Seed of the noise ε the images were noised with. */
  readonly seed: number;
  /** s², the held-out images' per-pixel variance (mean over pixels), which the error weights' Gaussian-data Jacobian uses (absent: 1). */
  readonly dataVariance?: number;
  /** Diffusion timesteps calibrated, increasing. */
  readonly timesteps: readonly number[];
  /** Depths calibrated (k ≥ 1, increasing); k = 0 has no error by definition. */
  readonly ks: readonly number[];
  readonly costUnit: 'ms' | 'flops';
  /** Batch size of the timed predictions (`costUnit: 'ms'`). */
  readonly costBatch?: number;
  readonly fills: readonly CalibratedFill[];
  /** Measured propagation of errors to the final sample (absent: the weights' Gaussian-data model). */
  readonly propagation?: CalibrationPropagation;
  /** The backend that ran the model, e.g. `onnx-cpu`. */
  readonly backend?: string;
  /** Wall-clock seconds the calibration took. */
  readonly seconds?: number;
  /** ISO 8601 time of calibration. */
  readonly createdAt?: string;
}

/** Upper bounds that keep a table small and every loop over it cheap. */
export const calibrationLimits = Object.freeze({ timesteps: 1000, ages: 64, samples: 1_000_000 });

const nonNegative = z.number().check(z.minimum(0));
const positive = z.number().check(z.positive());
const errorMatrix = z.array(z.array(nonNegative));
const cacheErrors = z.array(z.array(z.array(z.nullable(nonNegative))));

const propagationSchema = z.strictObject({
  sampler: z.enum(['ddim', 'ddpm', 'dpm-solver']),
  eta: z.number().check(z.minimum(0), z.maximum(1)),
  steps: z.int().check(z.minimum(1), z.maximum(unetSpecLimits.trainTimesteps)),
  samples: z.int().check(z.minimum(1), z.maximum(calibrationLimits.samples)),
  timesteps: z.array(z.int().check(z.minimum(0))).check(z.minLength(1), z.maxLength(calibrationLimits.timesteps)),
  factors: z.array(positive).check(z.minLength(1), z.maxLength(calibrationLimits.timesteps)),
});

const statelessFillSchema = z.strictObject({
  fill: z.enum(calibratedStatelessFillKinds as readonly [CalibratedStatelessFillKind, ...CalibratedStatelessFillKind[]]),
  cost: z.array(positive),
  epsilonError: errorMatrix,
  x0Error: errorMatrix,
});

const cacheFillSchema = z.strictObject({
  fill: z.literal('cache'),
  stepSpacing: z.int().check(z.minimum(1), z.maximum(unetSpecLimits.trainTimesteps)),
  ages: z.array(z.int().check(z.minimum(1), z.maximum(10_000))).check(z.minLength(1), z.maxLength(calibrationLimits.ages)),
  cost: z.array(positive),
  epsilonError: cacheErrors,
  x0Error: cacheErrors,
});

// Checked by rebuilding it (consistencyIssues), so every kind core knows is accepted.
const noiseScheduleSchema = z.looseObject({ kind: z.string(), trainTimesteps: z.int().check(z.minimum(1), z.maximum(unetSpecLimits.trainTimesteps)) });

type Issue = { readonly path: readonly (string | number)[]; readonly message: string };

/** Checks what zod's shapes cannot: lengths that must agree, increasing lists, ranges that depend on other fields. */
function consistencyIssues(table: CalibrationTable): Issue[] {
  const issues: Issue[] = [];
  const T = table.noiseSchedule.trainTimesteps;
  const add = (path: readonly (string | number)[], message: string): void => void issues.push({ path, message });
  try {
    noiseScheduleFromConfig(table.noiseSchedule as NoiseScheduleConfig);
  } catch (error) {
    add(['noiseSchedule'], `is not a valid noise schedule (${(error as Error).message})`);
  }
  const increasing = (list: readonly number[]): boolean => list.every((value, i) => i === 0 || value > list[i - 1]!);
  if (!table.timesteps.every((t) => Number.isInteger(t) && t >= 0 && t < T)) add(['timesteps'], `every timestep must be an integer in [0, ${T - 1}] (trainTimesteps = ${T})`);
  if (!increasing(table.timesteps)) add(['timesteps'], 'must be increasing, without repeats');
  if (!table.ks.every((k) => Number.isInteger(k) && k >= 1 && k <= table.levels - 1)) add(['ks'], `every k must be an integer in [1, ${table.levels - 1}] for a ${table.levels}-level U-Net`);
  if (!increasing(table.ks)) add(['ks'], 'must be increasing, without repeats');
  if (!increasing(table.stageEnds) || !table.stageEnds.every((t) => t > 0 && t < 1)) add(['stageEnds'], 'must be increasing normalised times in (0, 1)');
  if (table.costUnit === 'ms' && table.costBatch === undefined) add(['costBatch'], 'is needed with costUnit "ms": the batch size the predictions were timed at');
  const propagation = table.propagation;
  if (propagation !== undefined) {
    if (propagation.factors.length !== propagation.timesteps.length) add(['propagation', 'factors'], `must hold one factor per timestep (${propagation.timesteps.length})`);
    if (!increasing(propagation.timesteps) || !propagation.timesteps.every((t) => t < T)) add(['propagation', 'timesteps'], `must be increasing timesteps in [0, ${T - 1}]`);
  }
  const seen = new Set<string>();
  table.fills.forEach((entry, f) => {
    if (seen.has(entry.fill)) add(['fills', f, 'fill'], `fill "${entry.fill}" is listed twice`);
    seen.add(entry.fill);
    if (entry.cost.length !== table.ks.length + 1) add(['fills', f, 'cost'], `must hold ${table.ks.length + 1} costs: full depth, then one per k in ks`);
    for (const key of ['epsilonError', 'x0Error'] as const) {
      const rows = entry[key] as readonly (readonly unknown[])[];
      if (rows.length !== table.timesteps.length) {
        add(['fills', f, key], `must hold one row per calibrated timestep (${table.timesteps.length}), got ${rows.length}`);
        continue;
      }
      rows.forEach((row, i) => {
        if (row.length !== table.ks.length) add(['fills', f, key, i], `must hold one entry per k in ks (${table.ks.length}), got ${row.length}`);
        if (entry.fill !== 'cache') return;
        row.forEach((ages, j) => {
          if ((ages as readonly unknown[]).length !== entry.ages.length) add(['fills', f, key, i, j], `must hold one entry per cache age (${entry.ages.length})`);
        });
      });
    }
    if (entry.fill === 'cache' && !increasing(entry.ages)) add(['fills', f, 'ages'], 'must be increasing, without repeats');
  });
  return issues;
}

/** The zod schema of a calibration table, consistency checks included (the manifest schema embeds it). */
export const calibrationTableSchema = z
  .strictObject({
    format: z.literal('levelskip-calibration'),
    version: z.literal(1),
    levels: z.int().check(z.minimum(1), z.maximum(unetSpecLimits.levels)),
    noiseSchedule: noiseScheduleSchema,
    stageEnds: z.array(z.number()).check(z.maxLength(unetSpecLimits.decoderStages)),
    dimensions: z.int().check(z.minimum(1)),
    samples: z.int().check(z.minimum(1), z.maximum(calibrationLimits.samples)),
    seed: z.int().check(z.minimum(0)),
    dataVariance: z.optional(positive),
    timesteps: z.array(z.int()).check(z.minLength(1), z.maxLength(calibrationLimits.timesteps)),
    ks: z.array(z.int()).check(z.maxLength(unetSpecLimits.levels)),
    costUnit: z.enum(['ms', 'flops']),
    costBatch: z.optional(z.int().check(z.minimum(1))),
    fills: z.array(z.union([statelessFillSchema, cacheFillSchema])).check(z.minLength(1), z.maxLength(calibratedFillKinds.length)),
    propagation: z.optional(propagationSchema),
    backend: z.optional(z.string().check(z.maxLength(200))),
    seconds: z.optional(nonNegative),
    createdAt: z.optional(z.string().check(z.maxLength(100))),
  })
  .check(
    z.superRefine((table, context) => {
      for (const issue of consistencyIssues(table as unknown as CalibrationTable)) {
        context.issues.push({ code: 'custom', message: issue.message, path: [...issue.path], input: table });
      }
    }),
  );

/**
 * Checks a calibration table read from outside (a JSON file, model.json) and returns it typed.
 *
 * @throws LevelskipError `INVALID_SCHEDULE` listing every problem with its field path, e.g.
 *   `fills[1].epsilonError[3]: must hold one entry per k in ks (3), got 2`.
 */
export function parseCalibrationTable(json: unknown, source = 'calibration table'): CalibrationTable {
  const result = calibrationTableSchema.safeParse(json, { error: zodMessages });
  if (!result.success) {
    const issues = safeZodIssues(result.error);
    const lines = issues.map((issue) => `${issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)'}: ${issue.message}`);
    throw new LevelskipError('INVALID_SCHEDULE', `${source} is not valid:\n  ${lines.slice(0, 10).join('\n  ')}${lines.length > 10 ? `\n  … and ${lines.length - 10} more` : ''}\nRecalibrate the model (levelskip calibrate) to get a fresh table.`, {
      cause: result.error,
      issues,
    });
  }
  return result.data as unknown as CalibrationTable;
}

/** The table's entry for `fill`, or undefined when that fill was not calibrated. */
export function calibratedFill(table: CalibrationTable, fill: CalibratedFillKind): CalibratedFill | undefined {
  return table.fills.find((entry) => entry.fill === fill);
}
