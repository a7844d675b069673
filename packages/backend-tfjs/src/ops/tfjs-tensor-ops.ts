/**
 * Core's backend-neutral `TensorOps` over `tf.Tensor`. The contract is logically NCHW; rank-4
 * tensors are stored NHWC (tfjs's native image layout, see `layout.ts`), so this file translates
 * shapes and axes and transposes only when data crosses to or from the host.
 */
import * as tf from '@tensorflow/tfjs';
import { LevelskipError, shapeSize, type ResizeMode, type TensorOps } from '@levelskip/core';
import { resizeBicubic } from './bicubic.js';
import { isImageRank, nchwToNhwc, nhwcToNchw, storageAxis, toLogicalOrder, toStorageOrder } from './layout.js';

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LevelskipError('INVALID_SHAPE', `${what}: shape ${formatShape(shape)} must be a list of non-negative integers`);
  }
}

function sameShape(a: tf.Tensor, b: tf.Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new LevelskipError(
      'INVALID_SHAPE',
      `ops.${op}: shapes ${formatShape(toLogicalOrder(a.shape))} and ${formatShape(toLogicalOrder(b.shape))} differ (no broadcasting)`,
    );
  }
}

function imageTensor(x: tf.Tensor, op: string): tf.Tensor4D {
  if (!isImageRank(x.rank)) {
    throw new LevelskipError('INVALID_SHAPE', `ops.${op} needs an NCHW (rank 4) tensor, got shape ${formatShape(x.shape)}`);
  }
  return x as tf.Tensor4D;
}

function positiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new LevelskipError('INVALID_OPTION', `${what} must be a positive integer, got ${value}`);
}

function concat(xs: readonly tf.Tensor[], axis: number): tf.Tensor {
  const first = xs[0];
  if (first === undefined) throw new LevelskipError('INVALID_SHAPE', 'ops.concat needs at least one tensor');
  const rank = first.rank;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new LevelskipError('INVALID_SHAPE', `ops.concat: axis ${axis} is outside [0, ${rank - 1}]`);
  }
  const stored = storageAxis(axis, rank);
  for (const x of xs) {
    if (x.rank !== rank || x.shape.some((d, i) => i !== stored && d !== first.shape[i])) {
      throw new LevelskipError(
        'INVALID_SHAPE',
        `ops.concat along axis ${axis}: shapes ${formatShape(toLogicalOrder(first.shape))} and ${formatShape(toLogicalOrder(x.shape))} do not match`,
      );
    }
  }
  // tf.concat of a single tensor returns that tensor; the contract promises a new one.
  return xs.length === 1 ? first.clone() : tf.concat([...xs], stored);
}

function slice(x: tf.Tensor, begin: readonly number[], size: readonly number[]): tf.Tensor {
  const logical = toLogicalOrder(x.shape);
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new LevelskipError('INVALID_SHAPE', `ops.slice needs ${x.rank} begin and size entries for shape ${formatShape(logical)}`);
  }
  for (let d = 0; d < x.rank; d++) {
    const b = begin[d]!;
    const s = size[d]!;
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > logical[d]!) {
      throw new LevelskipError('INVALID_SHAPE', `ops.slice ${formatShape(begin)} + ${formatShape(size)} leaves shape ${formatShape(logical)}`);
    }
  }
  return tf.slice(x, toStorageOrder(begin), toStorageOrder(size));
}

function resize(x: tf.Tensor, height: number, width: number, mode: ResizeMode): tf.Tensor {
  const image = imageTensor(x, 'resize');
  positiveInteger(height, 'ops.resize height');
  positiveInteger(width, 'ops.resize width');
  switch (mode) {
    // Without half-pixel centres tfjs's nearest takes src = ⌊dst · in / out⌋, PyTorch's 'nearest'.
    case 'nearest':
      return tf.image.resizeNearestNeighbor(image, [height, width], false, false);
    // Half-pixel bilinear equals PyTorch's align_corners=False (both clamp the source at the border).
    case 'bilinear':
      return tf.image.resizeBilinear(image, [height, width], false, true);
    case 'bicubic':
      return resizeBicubic(image, height, width);
    default:
      throw new LevelskipError('INVALID_OPTION', `unknown resize mode "${String(mode)}": use nearest, bilinear or bicubic`);
  }
}

function avgPool(x: tf.Tensor, window: number, stride: number): tf.Tensor {
  const image = imageTensor(x, 'avgPool');
  positiveInteger(window, 'ops.avgPool window');
  positiveInteger(stride, 'ops.avgPool stride');
  // tfjs's 'same' average pooling already leaves padded cells out of each mean.
  return tf.avgPool(image, window, stride, 'same');
}

/**
 * `TensorOps` over `tf.Tensor` for the tfjs engine registered as `tfBackend`.
 *
 * @param name Shown in error messages (the levelskip backend's name, e.g. `tfjs-wasm`).
 * @param activate Called before each op; makes this engine tfjs's active one again.
 */
export function createTfjsTensorOps(name: string, activate: () => void = () => undefined): TensorOps<tf.Tensor> {
  const run = <R>(body: () => R): R => {
    activate();
    return body();
  };
  return Object.freeze({
    name,
    shape: (x: tf.Tensor): readonly number[] => toLogicalOrder(x.shape),
    fromFloat32: (data: Float32Array, shape: readonly number[]): tf.Tensor =>
      run(() => {
        checkShape(shape, 'ops.fromFloat32');
        if (!(data instanceof Float32Array) || data.length !== shapeSize(shape)) {
          throw new LevelskipError(
            'INVALID_SHAPE',
            `ops.fromFloat32: shape ${formatShape(shape)} needs a Float32Array of ${shapeSize(shape)} values, got ${data?.length ?? 'no data'}`,
          );
        }
        // Copy, so that later writes to the caller's array cannot reach the tensor on any engine.
        if (!isImageRank(shape.length)) return tf.tensor(data.slice(), [...shape], 'float32');
        return tf.tidy(() => tf.transpose(tf.tensor(data, [...shape], 'float32'), [...nchwToNhwc]));
      }),
    toFloat32: async (x: tf.Tensor): Promise<Float32Array> => {
      activate();
      const logical = isImageRank(x.rank) ? tf.transpose(x, [...nhwcToNchw]) : x;
      try {
        // Some engines hand back their own storage: copy, so the caller may write to the result.
        return Float32Array.from((await logical.data()) as Float32Array);
      } finally {
        if (logical !== x) logical.dispose();
      }
    },
    zeros: (shape: readonly number[]): tf.Tensor =>
      run(() => {
        checkShape(shape, 'ops.zeros');
        return tf.zeros(toStorageOrder(shape), 'float32');
      }),
    add: (a: tf.Tensor, b: tf.Tensor): tf.Tensor => run(() => (sameShape(a, b, 'add'), tf.add(a, b))),
    sub: (a: tf.Tensor, b: tf.Tensor): tf.Tensor => run(() => (sameShape(a, b, 'sub'), tf.sub(a, b))),
    mul: (a: tf.Tensor, b: tf.Tensor): tf.Tensor => run(() => (sameShape(a, b, 'mul'), tf.mul(a, b))),
    scale: (x: tf.Tensor, factor: number): tf.Tensor => run(() => tf.mul(x, factor)),
    clamp: (x: tf.Tensor, min: number, max: number): tf.Tensor => run(() => tf.clipByValue(x, min, max)),
    concat: (xs: readonly tf.Tensor[], axis: number): tf.Tensor => run(() => concat(xs, axis)),
    slice: (x: tf.Tensor, begin: readonly number[], size: readonly number[]): tf.Tensor => run(() => slice(x, begin, size)),
    resize: (x: tf.Tensor, height: number, width: number, mode: ResizeMode): tf.Tensor => run(() => resize(x, height, width, mode)),
    avgPool: (x: tf.Tensor, window: number, stride: number): tf.Tensor => run(() => avgPool(x, window, stride)),
    clone: (x: tf.Tensor): tf.Tensor => run(() => x.clone()),
    dispose: (x: tf.Tensor | readonly tf.Tensor[]): void => {
      tf.dispose(Array.isArray(x) ? [...(x as readonly tf.Tensor[])] : (x as tf.Tensor));
    },
  } satisfies TensorOps<tf.Tensor>);
}
