/**
 * Fill strategies: what a skipped U-Net feeds its first computed decoder level in place of
 * the missing deep features `h` (channels of level L+1, spatial size of level L).
 *
 * Built-in fills are plain data so that a backend can fuse them into its graph; custom fills
 * are functions over core's backend-neutral `TensorOps`.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import type { TensorOps } from '../backend/tensor-ops.js';
import type { UNetSpec } from '../spec/unet-spec.js';

/** Zero tensor of the missing input's shape (the paper's zero fill). */
export interface ZeroFill {
  readonly kind: 'zero';
}
/** The cut level's own encoder skip features, tiled (or truncated) along channels. */
export interface DuplicateFill {
  readonly kind: 'duplicate';
}
/** Learned side paths: encoder level → middle shape → decoder level, with bicubic resizes. Needs `sidePaths`. */
export interface InterpolateFill {
  readonly kind: 'interpolate';
}
/**
 * Deep features reused from the most recent step of the same sampling run that computed them
 * (training-free, in the spirit of DeepCache: Ma et al., "DeepCache: Accelerating Diffusion Models
 * for Free", 2023). Needs a per-run `FeatureCache` in the predict options. A step whose cache
 * entry is still empty runs at full depth and fills it; with `interval` m, so does a step whose
 * cached features are m or more steps old (DeepCache's cache interval: with a constant k = N − 1
 * schedule, full depth at steps 0, m, 2m, …). `cacheDepths` computes the depths this gives.
 */
export interface CacheFill {
  readonly kind: 'cache';
  /** Recompute the cached features at full depth once they are this many steps old (an integer ≥ 1); undefined: never. */
  readonly interval?: number;
}

/** Everything a custom fill may look at. Tensors here are owned by the caller: do not dispose them. */
export interface FillContext<T> {
  /** The cut level L = N - 1 - k whose decoder input is missing. */
  readonly level: number;
  /** Levels skipped. */
  readonly k: number;
  /** Number of levels N. */
  readonly levels: number;
  /** Decoder stage in use (0 for single-decoder U-Nets). */
  readonly stage: number;
  /** NCHW shape the fill must return: [B, channels of decoder level L+1, size of level L, size of level L]. */
  readonly shape: readonly [number, number, number, number];
  /** Skip features that decoder level L's first block concatenates with the fill. */
  readonly skip: T;
  /** The whole skip stack, in push order (conv_in output first). */
  readonly skips: readonly T[];
  /** Deep features cached from an earlier step of this run, when a `FeatureCache` was passed. */
  readonly cached: T | undefined;
  /** Diffusion timesteps of the batch. */
  readonly timesteps: readonly number[];
  readonly spec: UNetSpec;
}

/** A user-supplied fill. It returns a new tensor of `context.shape`, which the caller then owns. */
export interface CustomFill<T> {
  readonly kind: 'custom';
  /** Shown in progress output and errors. */
  readonly name: string;
  readonly fill: (context: FillContext<T>, ops: TensorOps<T>) => T;
}

export type BuiltinFill = ZeroFill | DuplicateFill | InterpolateFill | CacheFill;
export type BuiltinFillKind = BuiltinFill['kind'];
export type FillStrategy<T = unknown> = BuiltinFill | CustomFill<T>;
export type FillKind = FillStrategy['kind'];

export const builtinFillKinds: readonly BuiltinFillKind[] = ['zero', 'duplicate', 'interpolate', 'cache'];

export const zeroFill: ZeroFill = Object.freeze({ kind: 'zero' });
export const duplicateFill: DuplicateFill = Object.freeze({ kind: 'duplicate' });
export const interpolateFill: InterpolateFill = Object.freeze({ kind: 'interpolate' });
export const cacheFill: CacheFill = Object.freeze({ kind: 'cache' });

/**
 * A fill written only against core's `TensorOps`, for any tensor type: generic in the tensor type,
 * so it is a `CustomFill<T>` of every backend (ONNX, tfjs, the reference) at once.
 */
export type PortableFillFunction = <T>(context: FillContext<T>, ops: TensorOps<T>) => T;

/** A custom fill that runs on every backend: assignable to `CustomFill<T>` for any `T`. */
export interface PortableCustomFill {
  readonly kind: 'custom';
  readonly name: string;
  readonly fill: PortableFillFunction;
}

/**
 * Wraps a function as a custom fill.
 *
 * Written with core's `ops` only and no type argument, the fill is portable: one value works with
 * every backend's denoiser. A fill that needs one backend's own tensors names that backend's
 * tensor type: `customFill<tf.Tensor>('blur', (context, ops) => …)` is a `CustomFill<tf.Tensor>`.
 *
 * @example
 * ```ts
 * // The cut level's skip features, smoothed by a 3×3 average pool (when the decoder level
 * // expects as many channels as the skip holds; otherwise zeros).
 * const smooth = customFill('smooth', (context, ops) =>
 *   ops.shape(context.skip)[1] === context.shape[1] ? ops.avgPool(context.skip, 3, 1) : ops.zeros(context.shape),
 * );
 * // `smooth` is a CustomFill of every backend: pass it to an ONNX or a tfjs denoiser alike.
 * ```
 */
export function customFill(name: string, fill: PortableFillFunction): PortableCustomFill;
export function customFill<T>(name: string, fill: (context: FillContext<T>, ops: TensorOps<T>) => T): CustomFill<T>;
export function customFill<T>(name: string, fill: (context: FillContext<T>, ops: TensorOps<T>) => T): CustomFill<T> {
  return Object.freeze({ kind: 'custom', name, fill });
}

function checkCacheInterval(interval: unknown): number {
  if (!(typeof interval === 'number' && Number.isSafeInteger(interval) && interval >= 1)) {
    throw new LevelskipError('INVALID_FILL', `cache fill interval must be an integer ≥ 1 (steps between full-depth refreshes, e.g. cache:3), got ${String(interval)}`, {
      issues: [{ path: ['fill', 'interval'], message: 'must be an integer ≥ 1' }],
    });
  }
  return interval;
}

/** The cache fill that recomputes its features at full depth every `interval` steps (DeepCache's uniform caching with k = N − 1). */
export function cacheFillEvery(interval: number): CacheFill {
  return Object.freeze({ kind: 'cache', interval: checkCacheInterval(interval) });
}

/**
 * Parses a built-in fill (`'zero' | 'duplicate' | 'interpolate' | 'cache'`, or `'cache:m'` for the
 * cache fill with refresh interval m), e.g. from a CLI flag; the inverse of `fillLabel`.
 */
export function parseFill(name: string): BuiltinFill {
  if ((builtinFillKinds as readonly string[]).includes(name)) return Object.freeze({ kind: name as BuiltinFillKind });
  const interval = /^cache:(.*)$/.exec(name);
  if (interval !== null) {
    const text = interval[1]!;
    if (!/^\d+$/.test(text)) checkCacheInterval(text);
    return cacheFillEvery(Number(text));
  }
  throw new LevelskipError('INVALID_FILL', `Unknown fill "${name}": use one of ${builtinFillKinds.join(', ')} (cache:m recomputes the cache every m steps), or a custom fill function`);
}

/**
 * Checks that a fill can run on a model: called when a denoiser is built and before a sampling
 * run starts, so an impossible combination fails at once, not at step 700.
 */
export function assertFillSupported<T>(spec: UNetSpec, fill: FillStrategy<T>): void {
  if (typeof fill !== 'object' || fill === null || typeof (fill as { kind?: unknown }).kind !== 'string') {
    throw new LevelskipError('INVALID_FILL', 'fill must be an object with a kind, e.g. { kind: "zero" } or customFill(name, fn)');
  }
  switch (fill.kind) {
    case 'zero':
    case 'duplicate':
      return;
    case 'cache':
      if (fill.interval !== undefined) checkCacheInterval(fill.interval);
      return;
    case 'interpolate':
      if (!spec.sidePaths) {
        throw new LevelskipError(
          'INVALID_FILL',
          'fill "interpolate" needs learned side paths, but this model was built with sidePaths: false; use zero, duplicate or cache, or train a model with sidePaths: true',
        );
      }
      return;
    case 'custom':
      if (typeof fill.fill !== 'function') {
        throw new LevelskipError('INVALID_FILL', `custom fill "${fill.name}" has no fill function; build it with customFill(name, fn)`);
      }
      return;
    default:
      throw new LevelskipError('INVALID_FILL', `Unknown fill kind "${(fill as { kind: string }).kind}": use ${builtinFillKinds.join(', ')} or custom`);
  }
}

/** A short label for tables and logs (`parseFill` reads back the built-in ones). */
export function fillLabel<T>(fill: FillStrategy<T>): string {
  if (fill.kind === 'custom') return `custom:${fill.name}`;
  if (fill.kind === 'cache' && fill.interval !== undefined) return `cache:${fill.interval}`;
  return fill.kind;
}

/**
 * The depth each step of a run really uses, given the depths `ks` a skip schedule asks for (in
 * step order) and the fill. Only the cache fill changes them: a step asking for k > 0 reads the
 * features cached at its cut level, which the most recent earlier step with a smaller k computed
 * (a step computes every level above its own cut); if no earlier step did, or (with `interval` m)
 * that step is m or more steps back, the step runs at full depth instead, refreshing every level.
 * Multi-decoder U-Nets cache per decoder stage: pass each step's stage in `stages`, and only
 * earlier steps of the same stage count. The sampling loop and the FLOP prediction both use this,
 * so what is predicted is what runs.
 */
export function cacheDepths<T>(ks: readonly number[], fill: FillStrategy<T> | undefined, stages?: readonly number[]): number[] {
  if (fill === undefined || fill.kind !== 'cache') return [...ks];
  if (stages !== undefined && stages.length !== ks.length) {
    throw new LevelskipError('INVALID_OPTION', `cacheDepths: stages has ${stages.length} entries but ks has ${ks.length}; pass one stage per step`);
  }
  const interval = fill.interval ?? Number.POSITIVE_INFINITY;
  const stageOf = (step: number): number => stages?.[step] ?? 0;
  const out: number[] = [];
  ks.forEach((asked, step) => {
    let k = asked;
    if (k > 0) {
      let source = step - 1;
      while (source >= 0 && (stageOf(source) !== stageOf(step) || out[source]! >= k)) source--;
      if (source < 0 || step - source >= interval) k = 0;
    }
    out.push(k);
  });
  return out;
}
