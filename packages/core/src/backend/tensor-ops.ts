/**
 * Backend-neutral tensor operations. Custom fills, samplers and the generic level-skipping
 * composition are written against this interface, so they run on every backend.
 *
 * Layout: every image-like tensor is logically NCHW at this boundary, whatever a backend
 * stores internally. Each op returns a new tensor that the caller owns and must `dispose`.
 */
import { LevelskipError } from '../errors/levelskip-error.js';

export interface TensorOps<T> {
  /** Name of the backend these ops belong to (for error messages). */
  readonly name: string;
  /** The logical shape (NCHW for images). */
  shape(x: T): readonly number[];
  /** Copies host data in. `data.length` must equal the product of `shape`. */
  fromFloat32(data: Float32Array, shape: readonly number[]): T;
  /** Copies data out to the host (async: device backends read back asynchronously). */
  toFloat32(x: T): Promise<Float32Array>;
  zeros(shape: readonly number[]): T;
  /** Elementwise a + b (same shapes). */
  add(a: T, b: T): T;
  /** Elementwise a - b (same shapes). */
  sub(a: T, b: T): T;
  /** Elementwise a * b (same shapes). */
  mul(a: T, b: T): T;
  /** x * factor. */
  scale(x: T, factor: number): T;
  /** Elementwise min(max(x, min), max). */
  clamp(x: T, min: number, max: number): T;
  /** Concatenation along `axis` (1 = channels for NCHW). */
  concat(xs: readonly T[], axis: number): T;
  /** A box `[begin, begin + size)` per dimension. */
  slice(x: T, begin: readonly number[], size: readonly number[]): T;
  /** Resizes an NCHW tensor; `bicubic` is PyTorch's convention (a = -0.75, half-pixel, no antialias). */
  resize(x: T, height: number, width: number, mode: ResizeMode): T;
  /** Average pooling of an NCHW tensor with a square window, 'same' padding, padded cells excluded. */
  avgPool(x: T, window: number, stride: number): T;
  clone(x: T): T;
  dispose(x: T | readonly T[]): void;
  /**
   * Optional fused Σ cᵢ·xᵢ over same-shaped tensors, in one pass: each product cᵢ·xᵢ rounded to
   * float32 and the sum accumulated in the order given, rounded to float32 after each addition
   * (exactly what the chain `scale(x₀, c₀)`, `add(·, scale(xᵢ, cᵢ))` computes, so implementing it
   * changes no result), then clamped to [clamp.min, clamp.max] when `clamp` is given. Samplers
   * use it when present: one pass and one new tensor per update instead of one per term.
   */
  combine?(terms: readonly (readonly [coefficient: number, tensor: T])[], clamp?: { readonly min: number; readonly max: number }): T;
  /**
   * Optional `fromFloat32` without the copy: the tensor may keep `data` itself as its storage.
   * The caller hands the array over and must neither read nor write it afterwards. Samplers give
   * it the step noise they have just drawn (on a host backend at batch 1, the copy and its
   * allocation cost as much as the arithmetic of the step). Call it through core's
   * `adoptFloat32(ops, data, shape)`, which falls back to `fromFloat32`.
   */
  adoptFloat32?(data: Float32Array, shape: readonly number[]): T;
  /**
   * Optional `toFloat32` without the copy: the values of `x`, possibly its own storage. The caller
   * must not write to the array, nor keep it past `dispose(x)`. Samplers scan the prediction for
   * NaN through it. Call it through core's `viewFloat32(ops, x)`, which falls back to `toFloat32`.
   */
  viewFloat32?(x: T): Promise<Float32Array>;
  /**
   * Optional: a new tensor of `shape` whose values `write(data)` puts straight into the storage
   * the tensor will keep, every element of `data` (what it holds before `write` is unspecified).
   * A host backend may hand out the storage of a tensor disposed earlier, so a loop that disposes
   * what it no longer needs allocates nothing per step; `data` must not be kept past `write`.
   * Samplers draw their step noise into it. Call it through core's `writeFloat32(ops, shape, write)`,
   * which falls back to a new array and `adoptFloat32`.
   */
  writeFloat32?(shape: readonly number[], write: (data: Float32Array) => void): T;
}

/** `ops.adoptFloat32(data, shape)` where the backend has it (no copy), else `ops.fromFloat32`; either way the caller gives `data` up. */
export function adoptFloat32<T>(ops: TensorOps<T>, data: Float32Array, shape: readonly number[]): T {
  return ops.adoptFloat32 === undefined ? ops.fromFloat32(data, shape) : ops.adoptFloat32(data, shape);
}

/** `ops.viewFloat32(x)` where the backend has it (no copy), else `ops.toFloat32(x)`: values to read, not to write or keep. */
export function viewFloat32<T>(ops: TensorOps<T>, x: T): Promise<Float32Array> {
  return ops.viewFloat32 === undefined ? ops.toFloat32(x) : ops.viewFloat32(x);
}

/**
 * `ops.writeFloat32(shape, write)` where the backend has it (the values written into the
 * backend's storage, possibly recycled), else `write` into a new array that `adoptFloat32` hands
 * over. `write` must set every element of the array it gets and not keep it.
 */
export function writeFloat32<T>(ops: TensorOps<T>, shape: readonly number[], write: (data: Float32Array) => void): T {
  if (ops.writeFloat32 !== undefined) return ops.writeFloat32(shape, write);
  // Checked here, before an array of that size is made (a backend's fromFloat32 checks too late for that).
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new LevelskipError('INVALID_SHAPE', `writeFloat32: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (typeof write !== 'function') throw new LevelskipError('INVALID_OPTION', 'writeFloat32(ops, shape, write): write must be a function (data: Float32Array) => void');
  const data = new Float32Array(shapeSize(shape));
  write(data);
  return adoptFloat32(ops, data, shape);
}

export type ResizeMode = 'nearest' | 'bilinear' | 'bicubic';

/** Host-side tensor: how weights and data move between checkpoints, backends and users. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Named weights, PyTorch layouts (NCHW activations, OIHW convs, [out, in] linears). */
export type NamedTensors = ReadonlyMap<string, HostTensor>;

/** Product of a shape's dimensions. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
