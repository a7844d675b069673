/**
 * Validation of `Denoiser.predict` arguments, shared by every backend so that bad input
 * gets the same clear error everywhere.
 *
 * Validate once: a run's boundary (`sample()`, a pipeline) checks its fill against the model's
 * spec once with `resolveFill`, which marks the (frozen) fill as checked for that spec.
 * `resolvePrediction`, called by every `predict`, then only looks the mark up (a `WeakMap` hit)
 * instead of checking the fill again at every step; an unmarked fill is checked in full, so a
 * direct `predict` call is validated as before.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { assertFillSupported, fillNeedsCache, zeroFill, type BuiltinFill } from '../fills/fill-registry.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { FeatureCache } from '../fills/feature-cache.js';
import { stageForTime, type Architecture } from '../geometry/architecture.js';
import type { PredictOptions } from '../backend/denoiser.js';
import type { UNetSpec } from '../spec/unet-spec.js';

declare const resolvedFillBrand: unique symbol;

/**
 * A fill checked against a spec by `resolveFill`: frozen (so it cannot change after the check)
 * and registered as supported by that spec. Any `FillStrategy` API takes it.
 */
export type ResolvedFill<T> = FillStrategy<T> & ResolvedMark;

/** The mark `resolveFill` puts on a fill's type. */
export interface ResolvedMark {
  readonly [resolvedFillBrand]: true;
}

/** Fills `resolveFill` accepted, with the specs (by identity) each was checked against. */
const checkedFills = new WeakMap<object, WeakSet<UNetSpec>>();

/** Whether `fill` is one `resolveFill` checked against this very `spec` object. A `WeakMap` lookup. */
export function isResolvedFill<T>(spec: UNetSpec, fill: FillStrategy<T> | undefined): fill is ResolvedFill<T> {
  return typeof fill === 'object' && fill !== null && checkedFills.get(fill)?.has(spec) === true;
}

/**
 * Checks `fill` against `spec` once, at a run's boundary, and returns it
 * frozen (itself when already frozen, else a frozen shallow copy) and marked as checked for `spec`,
 * so that `resolvePrediction` does not check it again at every step. Idempotent: a fill already
 * resolved for `spec` is returned as it is.
 *
 * @throws LevelskipError `INVALID_FILL` naming the fill, what is wrong and the fix (as `assertFillSupported`).
 */
export function resolveFill<F extends BuiltinFill>(spec: UNetSpec, fill: F): F & ResolvedMark;
export function resolveFill<T>(spec: UNetSpec, fill: FillStrategy<T>): ResolvedFill<T>;
export function resolveFill<T>(spec: UNetSpec, fill: FillStrategy<T>): ResolvedFill<T> {
  if (isResolvedFill(spec, fill)) return fill;
  assertFillSupported(spec, fill);
  const frozen: FillStrategy<T> = Object.isFrozen(fill) ? fill : Object.freeze({ ...fill });
  let specs = checkedFills.get(frozen);
  if (specs === undefined) {
    specs = new WeakSet<UNetSpec>();
    checkedFills.set(frozen, specs);
  }
  specs.add(spec);
  return frozen as ResolvedFill<T>;
}

export interface ResolvedPrediction<T> {
  readonly batch: number;
  /** One timestep per sample. */
  readonly timesteps: readonly number[];
  readonly k: number;
  readonly fill: FillStrategy<T>;
  readonly cache: FeatureCache<T> | undefined;
  readonly stage: number;
}

/**
 * Checks shapes, timesteps, k, fill and stage; returns them normalised. Throws `LevelskipError`.
 * Cheap for a run's steps: a fill from `resolveFill` for `arch.spec` is not checked again, and a
 * given `options.stage` (as `sample()` passes it) is only range-checked, not re-derived per sample.
 */
export function resolvePrediction<T>(
  arch: Architecture,
  xShape: readonly number[],
  timesteps: number | readonly number[],
  options: PredictOptions<T> = {},
): ResolvedPrediction<T> {
  const { spec } = arch;
  const expected = `[B, ${spec.inChannels}, ${spec.imageSize}, ${spec.imageSize}]`;
  if (
    xShape.length !== 4 ||
    xShape[1] !== spec.inChannels ||
    xShape[2] !== spec.imageSize ||
    xShape[3] !== spec.imageSize ||
    !Number.isInteger(xShape[0]) ||
    xShape[0]! < 1
  ) {
    throw new LevelskipError('INVALID_SHAPE', `x has shape [${xShape.join(', ')}] but this model takes ${expected} (NCHW)`);
  }
  const batch = xShape[0]!;
  const given = typeof timesteps === 'number' ? [timesteps] : [...timesteps];
  const list = given.length === 1 ? new Array<number>(batch).fill(given[0]!) : given;
  if (list.length !== batch) {
    throw new LevelskipError('INVALID_SHAPE', `timesteps has ${list.length} entries for a batch of ${batch}: pass one per sample or a single number`);
  }
  const T = spec.trainTimesteps;
  for (const t of list) {
    if (!Number.isFinite(t) || t < 0 || t > T) {
      throw new LevelskipError('INVALID_OPTION', `timestep ${t} is outside [0, ${T}] (the model was trained with trainTimesteps = ${T})`);
    }
  }
  const k = options.k ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > arch.levels - 1) {
    throw new LevelskipError('INVALID_OPTION', `k must be an integer in [0, ${arch.levels - 1}] for this ${arch.levels}-level U-Net, got ${k}`);
  }
  const fill = (options.fill ?? zeroFill) as FillStrategy<T>;
  if (!isResolvedFill(spec, fill)) assertFillSupported(spec, fill);
  if (fillNeedsCache(fill) && options.cache === undefined) {
    throw new LevelskipError(
      'INVALID_FILL',
      `fill "${fill.kind}" needs a per-run cache: pass { cache: denoiser.createFeatureCache() } (and dispose it when the run ends)`,
    );
  }
  let stage: number;
  if (options.stage !== undefined) {
    stage = options.stage;
    if (!Number.isInteger(stage) || stage < 0 || stage >= arch.decoders.length) {
      throw new LevelskipError('INVALID_OPTION', `stage must be an integer in [0, ${arch.decoders.length - 1}], got ${stage}`);
    }
  } else {
    stage = stageForTime(arch, list[0]! / T);
    for (const t of list) {
      if (stageForTime(arch, t / T) !== stage) {
        throw new LevelskipError(
          'INVALID_OPTION',
          'the batch mixes timesteps of different decoder stages; split it by stage or pass options.stage',
        );
      }
    }
  }
  return { batch, timesteps: list, k, fill, cache: options.cache, stage };
}
