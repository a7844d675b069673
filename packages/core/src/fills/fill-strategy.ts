/**
 * Fill strategies: what a skipped U-Net feeds its first computed decoder level in place of
 * the missing deep features `h` (channels of level L+1, spatial size of level L).
 *
 * Built-in fills are plain data so that a backend can fuse them into its graph; they are defined,
 * parsed and checked by the fill registry (`fill-registry.ts`). Custom fills are functions over
 * core's backend-neutral `TensorOps`.
 */
import type { TensorOps } from '../backend/tensor-ops.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import type { BuiltinFill } from './fill-registry.js';

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

export type FillStrategy<T = unknown> = BuiltinFill | CustomFill<T>;
export type FillKind = FillStrategy['kind'];

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
