/**
 * `TensorOps` over float64 `ReferenceTensor`s: the oracle for every backend's ops.
 * Plain row-major loops; tensors are garbage-collected, so `dispose` does nothing.
 */
import type { ResizeMode, TensorOps } from '../../backend/tensor-ops.js';
import { shapeSize } from '../../backend/tensor-ops.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import { avgPoolReference } from './avg-pool.js';
import { resizeReference } from './resize.js';
import { referenceTensor, type ReferenceTensor } from './reference-tensor.js';

function sameShape(a: ReferenceTensor, b: ReferenceTensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new LevelskipError('INVALID_SHAPE', `${op}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}

function elementwise(a: ReferenceTensor, b: ReferenceTensor, op: string, f: (x: number, y: number) => number): ReferenceTensor {
  sameShape(a, b, op);
  const out = referenceTensor(a.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[i]!, b.data[i]!);
  return out;
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function concat(xs: readonly ReferenceTensor[], axis: number): ReferenceTensor {
  const first = xs[0];
  if (first === undefined) throw new LevelskipError('INVALID_SHAPE', 'concat needs at least one tensor');
  const rank = first.shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new LevelskipError('INVALID_SHAPE', `concat axis ${axis} is outside [0, ${rank - 1}]`);
  }
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new LevelskipError('INVALID_SHAPE', `concat along axis ${axis}: shapes [${first.shape.join(', ')}] and [${x.shape.join(', ')}] do not match`);
    }
  }
  const shape = [...first.shape];
  shape[axis] = xs.reduce((sum, x) => sum + x.shape[axis]!, 0);
  const out = referenceTensor(shape);
  // Each tensor contributes a contiguous run of (its axis size × inner size) values per outer index.
  const outer = shapeSize(first.shape.slice(0, axis));
  const inner = shapeSize(first.shape.slice(axis + 1));
  let offset = 0;
  for (const x of xs) {
    const run = x.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) {
      out.data.set(x.data.subarray(o * run, (o + 1) * run), o * shape[axis]! * inner + offset);
    }
    offset += run;
  }
  return out;
}

function slice(x: ReferenceTensor, begin: readonly number[], size: readonly number[]): ReferenceTensor {
  const rank = x.shape.length;
  if (begin.length !== rank || size.length !== rank) {
    throw new LevelskipError('INVALID_SHAPE', `slice needs ${rank} begin and size entries for shape [${x.shape.join(', ')}]`);
  }
  for (let d = 0; d < rank; d++) {
    const b = begin[d]!;
    const s = size[d]!;
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > x.shape[d]!) {
      throw new LevelskipError('INVALID_SHAPE', `slice [${begin.join(', ')}] + [${size.join(', ')}] leaves shape [${x.shape.join(', ')}]`);
    }
  }
  const out = referenceTensor(size);
  const inStrides = strides(x.shape);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let rest = i;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = rest % size[d]!;
      rest = Math.floor(rest / size[d]!);
    }
    let src = 0;
    for (let d = 0; d < rank; d++) src += (index[d]! + begin[d]!) * inStrides[d]!;
    out.data[i] = x.data[src]!;
  }
  return out;
}

/** The reference `TensorOps`. */
export const referenceOps: TensorOps<ReferenceTensor> = Object.freeze({
  name: 'reference',
  shape: (x: ReferenceTensor): readonly number[] => x.shape,
  fromFloat32: (data: Float32Array, shape: readonly number[]): ReferenceTensor => referenceTensor(shape, data),
  toFloat32: (x: ReferenceTensor): Promise<Float32Array> => Promise.resolve(Float32Array.from(x.data)),
  zeros: (shape: readonly number[]): ReferenceTensor => referenceTensor(shape),
  add: (a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor => elementwise(a, b, 'add', (x, y) => x + y),
  sub: (a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor => elementwise(a, b, 'sub', (x, y) => x - y),
  mul: (a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor => elementwise(a, b, 'mul', (x, y) => x * y),
  scale: (x: ReferenceTensor, factor: number): ReferenceTensor => referenceTensor(x.shape, x.data.map((v) => v * factor)),
  clamp: (x: ReferenceTensor, min: number, max: number): ReferenceTensor =>
    referenceTensor(x.shape, x.data.map((v) => Math.min(max, Math.max(min, v)))),
  concat,
  slice,
  resize: (x: ReferenceTensor, height: number, width: number, mode: ResizeMode): ReferenceTensor => resizeReference(x, height, width, mode),
  avgPool: (x: ReferenceTensor, window: number, stride: number): ReferenceTensor => avgPoolReference(x, window, stride),
  clone: (x: ReferenceTensor): ReferenceTensor => referenceTensor(x.shape, x.data),
  dispose: (): void => {},
});
