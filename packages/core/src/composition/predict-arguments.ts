/**
 * Validation of `Denoiser.predict` arguments, shared by every backend so that bad input
 * gets the same clear error everywhere.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { assertFillSupported, fillNeedsCache, zeroFill } from '../fills/fill-registry.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { FeatureCache } from '../fills/feature-cache.js';
import { stageForTime, type Architecture } from '../geometry/architecture.js';
import type { PredictOptions } from '../backend/denoiser.js';

export interface ResolvedPrediction<T> {
  readonly batch: number;
  /** One timestep per sample. */
  readonly timesteps: readonly number[];
  readonly k: number;
  readonly fill: FillStrategy<T>;
  readonly cache: FeatureCache<T> | undefined;
  readonly stage: number;
}

/** Checks shapes, timesteps, k, fill and stage; returns them normalised. Throws `LevelskipError`. */
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
  assertFillSupported(spec, fill);
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
