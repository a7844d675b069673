/**
 * Core's backend-neutral `TensorOps` over onnxruntime `Tensor`s (float32, CPU location). ORT
 * tensors are NCHW already, so nothing is transposed; the ops run on the host (see
 * `host-kernels.ts`) because fills and samplers touch one batch of images at a time and a
 * `session.run` per elementwise op would cost more than the op.
 *
 * Every tensor these ops (or a denoiser) hand out is counted until disposed, so leaks show in
 * `liveTensorCount()`.
 *
 * Host arrays are recycled: the arrays the ops allocate for their results go back to a pool of the
 * ops when their tensor is disposed, and the next result (or `writeFloat32`) of the same length
 * reuses one, so a sampling loop that disposes what it no longer needs allocates no tensor storage
 * per step (allocating, and the garbage collections it brings, cost as much as the arithmetic of a
 * step at batch 1). Hence core's contract: a tensor's data is not used after `dispose`.
 */
import type * as ort from 'onnxruntime-common';
import { LevelskipError, shapeSize, type ResizeMode, type TensorOps } from '@levelskip/core';
import type { OnnxRuntime } from '../runtime/onnx-runtime.js';
import { avgPoolHost, resizeHost } from './host-kernels.js';

/** An onnxruntime tensor (onnxruntime-common's `Tensor`, whichever runtime made it). */
export type OnnxTensor = ort.Tensor;

/** The runtime's `Tensor` class: tensors are made by, and checked against, the injected runtime. */
type TensorClass = OnnxRuntime['Tensor'];

const live = new WeakSet<ort.Tensor>();
let liveCount = 0;

/** Tensors handed out by ONNX-backend ops and denoisers and not yet disposed (all backends of the process). */
export function liveTensorCount(): number {
  return liveCount;
}

/** Registers a tensor created for the caller (counted until `dispose`). */
export function track(t: ort.Tensor): ort.Tensor {
  if (!live.has(t)) {
    live.add(t);
    liveCount++;
  }
  return t;
}

/** Wraps host data (not copied) as a tracked float32 tensor of runtime class `Tensor`. */
export function hostTensor(Tensor: TensorClass, data: Float32Array, shape: readonly number[]): ort.Tensor {
  return track(new Tensor('float32', data, [...shape]));
}

/** Free arrays kept per length, and in all, at most: enough for a sampler's step, bounded memory. */
const POOL_ARRAYS_PER_LENGTH = 8;
const POOL_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Arrays of disposed tensors, to back new ones. Only arrays the pool itself allocated come back
 * (an adopted array, or an output of onnxruntime, is never reused), and an array comes back once
 * per tensor: `dispose` returns it only when the tensor was live.
 */
class HostArrayPool {
  readonly #free = new Map<number, Float32Array[]>();
  readonly #owned = new WeakSet<Float32Array>();
  #freeBytes = 0;

  /** An array of `length` values, recycled where one is free: its contents are unspecified. */
  take(length: number): Float32Array {
    const recycled = this.#free.get(length)?.pop();
    if (recycled !== undefined) {
      this.#freeBytes -= recycled.byteLength;
      return recycled;
    }
    const fresh = new Float32Array(length);
    this.#owned.add(fresh);
    return fresh;
  }

  /** Takes back the array of a tensor that was just disposed, if the pool made it and has room. */
  give(array: Float32Array): void {
    if (!this.#owned.has(array) || array.length === 0 || this.#freeBytes + array.byteLength > POOL_MAX_BYTES) return;
    let list = this.#free.get(array.length);
    if (list === undefined) this.#free.set(array.length, (list = []));
    if (list.length >= POOL_ARRAYS_PER_LENGTH) return;
    list.push(array);
    this.#freeBytes += array.byteLength;
  }
}

/** `data` checked as the values of a float32 tensor of `shape` (for `op`). */
function hostData(data: Float32Array, shape: readonly number[], op: string): Float32Array {
  checkShape(shape, `ops.${op}`);
  if (!(data instanceof Float32Array)) throw new LevelskipError('INVALID_OPTION', `ops.${op} takes a Float32Array`);
  if (data.length !== shapeSize(shape)) {
    throw new LevelskipError('INVALID_SHAPE', `ops.${op}: ${data.length} values do not fill shape ${formatShape(shape)} (${shapeSize(shape)} values)`);
  }
  return data;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The float32 host data of `x`; a clear error for other tensors, including another runtime's. */
export function float32Data(Tensor: TensorClass, x: ort.Tensor, op: string): Float32Array {
  if (x === null || typeof x !== 'object' || !(x instanceof Tensor)) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `ops.${op}: expected a Tensor of this backend's onnxruntime (make one with ops.fromFloat32; a tensor of another onnxruntime module does not mix)`,
    );
  }
  if (x.type !== 'float32' || x.location !== 'cpu') {
    throw new LevelskipError('INVALID_OPTION', `ops.${op}: expected a float32 CPU tensor, got ${x.type} on ${x.location}`);
  }
  try {
    return x.data as Float32Array;
  } catch (error) {
    throw new LevelskipError('DISPOSED', `ops.${op}: the tensor has been disposed`, { cause: error });
  }
}

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LevelskipError('INVALID_SHAPE', `${what}: shape ${formatShape(shape)} must be a list of non-negative integers`);
  }
}

function imageShape(x: ort.Tensor, op: string): [number, number, number, number] {
  if (x.dims.length !== 4) throw new LevelskipError('INVALID_SHAPE', `ops.${op} needs an NCHW (rank 4) tensor, got shape ${formatShape(x.dims)}`);
  return x.dims as unknown as [number, number, number, number];
}

function positiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new LevelskipError('INVALID_OPTION', `${what} must be a positive integer, got ${value}`);
}

function elementwise(T: TensorClass, pool: HostArrayPool, a: ort.Tensor, b: ort.Tensor, op: string, f: (x: number, y: number) => number): ort.Tensor {
  const x = float32Data(T, a, op);
  const y = float32Data(T, b, op);
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    throw new LevelskipError('INVALID_SHAPE', `ops.${op}: shapes ${formatShape(a.dims)} and ${formatShape(b.dims)} differ (no broadcasting)`);
  }
  const out = pool.take(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, y[i]!);
  return hostTensor(T, out, a.dims);
}

function map(T: TensorClass, pool: HostArrayPool, a: ort.Tensor, op: string, f: (x: number) => number): ort.Tensor {
  const x = float32Data(T, a, op);
  const out = pool.take(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!);
  return hostTensor(T, out, a.dims);
}

/**
 * Σ cᵢ·xᵢ, optionally clamped, with the rounding of the chain `scale`, `add` (each product and
 * each partial sum rounded to float32, in order), into one new array in one pass: no
 * intermediate tensors. A coefficient of ±1 needs no special case: fround(±1·x) = ±x exactly.
 */
function combine(
  T: TensorClass,
  pool: HostArrayPool,
  terms: readonly (readonly [number, ort.Tensor])[],
  clamp: { readonly min: number; readonly max: number } | undefined,
): ort.Tensor {
  const first = terms[0];
  if (first === undefined) throw new LevelskipError('INVALID_SHAPE', 'ops.combine needs at least one term');
  const dims = first[1].dims;
  const data: Float32Array[] = [];
  const cs: number[] = [];
  for (const [coefficient, x] of terms) {
    if (typeof coefficient !== 'number') throw new LevelskipError('INVALID_OPTION', `ops.combine: coefficients must be numbers, got ${String(coefficient)}`);
    if (x.dims.length !== dims.length || x.dims.some((d, i) => d !== dims[i])) {
      throw new LevelskipError('INVALID_SHAPE', `ops.combine: shapes ${formatShape(dims)} and ${formatShape(x.dims)} differ (no broadcasting)`);
    }
    data.push(float32Data(T, x, 'combine'));
    cs.push(coefficient);
  }
  const n = data[0]!.length;
  const out = pool.take(n);
  const f = Math.fround;
  const min = clamp?.min ?? Number.NEGATIVE_INFINITY;
  const max = clamp?.max ?? Number.POSITIVE_INFINITY;
  // The common sizes get a loop of their own (one read of each input, one write); the sum is
  // rounded after every addition, exactly as storing each unfused op's result would.
  if (data.length === 1) {
    const [a] = data as [Float32Array];
    const [ca] = cs as [number];
    for (let i = 0; i < n; i++) out[i] = Math.min(max, Math.max(min, f(ca * a[i]!)));
  } else if (data.length === 2) {
    const [a, b] = data as [Float32Array, Float32Array];
    const [ca, cb] = cs as [number, number];
    for (let i = 0; i < n; i++) out[i] = Math.min(max, Math.max(min, f(f(ca * a[i]!) + f(cb * b[i]!))));
  } else if (data.length === 3) {
    const [a, b, c] = data as [Float32Array, Float32Array, Float32Array];
    const [ca, cb, cc] = cs as [number, number, number];
    for (let i = 0; i < n; i++) out[i] = Math.min(max, Math.max(min, f(f(f(ca * a[i]!) + f(cb * b[i]!)) + f(cc * c[i]!))));
  } else {
    for (let i = 0; i < n; i++) out[i] = cs[0]! * data[0]![i]!;
    for (let t = 1; t < data.length; t++) {
      const x = data[t]!;
      const c = cs[t]!;
      for (let i = 0; i < n; i++) out[i] = out[i]! + f(c * x[i]!);
    }
    if (clamp !== undefined) for (let i = 0; i < n; i++) out[i] = Math.min(max, Math.max(min, out[i]!));
  }
  return hostTensor(T, out, dims);
}

function concat(T: TensorClass, pool: HostArrayPool, xs: readonly ort.Tensor[], axis: number): ort.Tensor {
  const first = xs[0];
  if (first === undefined) throw new LevelskipError('INVALID_SHAPE', 'ops.concat needs at least one tensor');
  const rank = first.dims.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new LevelskipError('INVALID_SHAPE', `ops.concat: axis ${axis} is outside [0, ${rank - 1}]`);
  for (const x of xs) {
    if (x.dims.length !== rank || x.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
      throw new LevelskipError('INVALID_SHAPE', `ops.concat along axis ${axis}: shapes ${formatShape(first.dims)} and ${formatShape(x.dims)} do not match`);
    }
  }
  const shape = [...first.dims];
  shape[axis] = xs.reduce((sum, x) => sum + x.dims[axis]!, 0);
  // Every value is written below (the inputs tile the result).
  const out = pool.take(shapeSize(shape));
  // Each tensor contributes a contiguous run of (its axis size × inner size) values per outer index.
  const outer = shapeSize(first.dims.slice(0, axis));
  const inner = shapeSize(first.dims.slice(axis + 1));
  let offset = 0;
  for (const x of xs) {
    const data = float32Data(T, x, 'concat');
    const run = x.dims[axis]! * inner;
    for (let o = 0; o < outer; o++) out.set(data.subarray(o * run, (o + 1) * run), o * shape[axis]! * inner + offset);
    offset += run;
  }
  return hostTensor(T, out, shape);
}

function slice(T: TensorClass, pool: HostArrayPool, x: ort.Tensor, begin: readonly number[], size: readonly number[]): ort.Tensor {
  const data = float32Data(T, x, 'slice');
  const shape = x.dims;
  const rank = shape.length;
  if (begin.length !== rank || size.length !== rank) {
    throw new LevelskipError('INVALID_SHAPE', `ops.slice needs ${rank} begin and size entries for shape ${formatShape(shape)}`);
  }
  for (let d = 0; d < rank; d++) {
    const b = begin[d]!;
    const s = size[d]!;
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > shape[d]!) {
      throw new LevelskipError('INVALID_SHAPE', `ops.slice ${formatShape(begin)} + ${formatShape(size)} leaves shape ${formatShape(shape)}`);
    }
  }
  // Every value is written below (one run per row).
  const out = pool.take(shapeSize(size));
  if (out.length === 0) return hostTensor(T, out, size);
  // Copy contiguous runs along the last axis.
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  const run = size[rank - 1]!;
  const rows = out.length / run;
  const index = new Array<number>(rank).fill(0);
  for (let r = 0; r < rows; r++) {
    let rest = r;
    let src = begin[rank - 1]!;
    for (let d = rank - 2; d >= 0; d--) {
      index[d] = rest % size[d]!;
      rest = Math.floor(rest / size[d]!);
      src += (index[d]! + begin[d]!) * strides[d]!;
    }
    out.set(data.subarray(src, src + run), r * run);
  }
  return hostTensor(T, out, size);
}

function resize(T: TensorClass, x: ort.Tensor, height: number, width: number, mode: ResizeMode): ort.Tensor {
  const shape = imageShape(x, 'resize');
  positiveInteger(height, 'ops.resize height');
  positiveInteger(width, 'ops.resize width');
  if (mode !== 'nearest' && mode !== 'bilinear' && mode !== 'bicubic') {
    throw new LevelskipError('INVALID_OPTION', `unknown resize mode "${String(mode)}": use nearest, bilinear or bicubic`);
  }
  return hostTensor(T, resizeHost(float32Data(T, x, 'resize'), shape, height, width, mode), [shape[0], shape[1], height, width]);
}

function avgPool(T: TensorClass, x: ort.Tensor, window: number, stride: number): ort.Tensor {
  const shape = imageShape(x, 'avgPool');
  positiveInteger(window, 'ops.avgPool window');
  positiveInteger(stride, 'ops.avgPool stride');
  const out = avgPoolHost(float32Data(T, x, 'avgPool'), shape, window, stride);
  return hostTensor(T, out.data, out.shape);
}

/** Disposes live tensors (once: disposing again does nothing), their pool-made arrays back to `pool`. */
function dispose(pool: HostArrayPool, x: ort.Tensor | readonly ort.Tensor[]): void {
  const list = Array.isArray(x) ? (x as readonly ort.Tensor[]) : [x as ort.Tensor];
  for (const t of list) {
    if (t === undefined || t === null) continue;
    if (live.delete(t)) {
      liveCount--;
      // Read before dispose (which drops it); only CPU float32 tensors hold a Float32Array.
      const data = t.location === 'cpu' && t.type === 'float32' ? (t.data as Float32Array) : undefined;
      t.dispose();
      if (data !== undefined) pool.give(data);
    }
  }
}

/** `write`'s values in a recycled (or new) array of the pool, as a tensor; the array goes back if `write` throws. */
function written(T: TensorClass, pool: HostArrayPool, shape: readonly number[], write: (data: Float32Array) => void): ort.Tensor {
  checkShape(shape, 'ops.writeFloat32');
  if (typeof write !== 'function') throw new LevelskipError('INVALID_OPTION', 'ops.writeFloat32(shape, write): write must be a function (data: Float32Array) => void');
  const data = pool.take(shapeSize(shape));
  try {
    write(data);
  } catch (error) {
    pool.give(data);
    throw error;
  }
  return hostTensor(T, data, shape);
}

/**
 * The `TensorOps` of ONNX backend `name` (e.g. `onnx-cpu`) over `runtime`'s tensors: what the ops
 * make is a `runtime.Tensor`, and only those are accepted (each runtime module has its own class).
 */
export function createOnnxTensorOps(name: string, runtime: OnnxRuntime): TensorOps<ort.Tensor> {
  const T = runtime.Tensor;
  const pool = new HostArrayPool();
  /** A pool array holding a copy of `data`. */
  const copied = (data: Float32Array): Float32Array => {
    const out = pool.take(data.length);
    out.set(data);
    return out;
  };
  return Object.freeze({
    name,
    shape: (x: ort.Tensor): readonly number[] => x.dims,
    fromFloat32: (data: Float32Array, shape: readonly number[]): ort.Tensor => hostTensor(T, copied(hostData(data, shape, 'fromFloat32')), shape),
    // The tensor keeps the caller's array (core's contract: the caller gives it up).
    adoptFloat32: (data: Float32Array, shape: readonly number[]): ort.Tensor => hostTensor(T, hostData(data, shape, 'adoptFloat32'), shape),
    toFloat32: (x: ort.Tensor): Promise<Float32Array> => {
      try {
        return Promise.resolve(float32Data(T, x, 'toFloat32').slice());
      } catch (error) {
        return Promise.reject(error);
      }
    },
    // The tensor's own storage, to read only (core's contract).
    viewFloat32: (x: ort.Tensor): Promise<Float32Array> => {
      try {
        return Promise.resolve(float32Data(T, x, 'viewFloat32'));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    zeros(shape: readonly number[]): ort.Tensor {
      checkShape(shape, 'ops.zeros');
      return hostTensor(T, pool.take(shapeSize(shape)).fill(0), shape);
    },
    add: (a: ort.Tensor, b: ort.Tensor) => elementwise(T, pool, a, b, 'add', (x, y) => x + y),
    sub: (a: ort.Tensor, b: ort.Tensor) => elementwise(T, pool, a, b, 'sub', (x, y) => x - y),
    mul: (a: ort.Tensor, b: ort.Tensor) => elementwise(T, pool, a, b, 'mul', (x, y) => x * y),
    scale: (x: ort.Tensor, factor: number) => map(T, pool, x, 'scale', (v) => v * factor),
    clamp: (x: ort.Tensor, min: number, max: number) => map(T, pool, x, 'clamp', (v) => Math.min(max, Math.max(min, v))),
    concat: (xs: readonly ort.Tensor[], axis: number) => concat(T, pool, xs, axis),
    slice: (x: ort.Tensor, begin: readonly number[], size: readonly number[]) => slice(T, pool, x, begin, size),
    resize: (x: ort.Tensor, height: number, width: number, mode: ResizeMode) => resize(T, x, height, width, mode),
    avgPool: (x: ort.Tensor, window: number, stride: number) => avgPool(T, x, window, stride),
    clone: (x: ort.Tensor) => hostTensor(T, copied(float32Data(T, x, 'clone')), x.dims),
    dispose: (x: ort.Tensor | readonly ort.Tensor[]) => dispose(pool, x),
    combine: (terms: readonly (readonly [number, ort.Tensor])[], clamp?: { readonly min: number; readonly max: number }) => combine(T, pool, terms, clamp),
    // Straight into a recycled array (core's contract: write sets every element, keeps nothing).
    writeFloat32: (shape: readonly number[], write: (data: Float32Array) => void) => written(T, pool, shape, write),
  });
}
