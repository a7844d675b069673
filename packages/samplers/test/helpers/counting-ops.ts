/**
 * A `TensorOps` wrapper that tracks every tensor it creates, so a test can prove that a run
 * leaves nothing alive. It also fails loudly on use after dispose and double dispose, which a
 * plain count would miss. Tensors it did not create (e.g. a model's own) pass through untracked.
 */
import type { TensorOps } from '@levelskip/core';

export interface CountingOps<T extends object> extends TensorOps<T> {
  /** Tensors created and not yet disposed. */
  readonly live: Set<T>;
  /** Tensors created so far. */
  readonly created: () => number;
  /** Registers a tensor made elsewhere (e.g. by a wrapped model) as live. */
  track(x: T): T;
}

export function countingOps<T extends object>(inner: TensorOps<T>): CountingOps<T> {
  const live = new Set<T>();
  const disposed = new WeakSet<T>();
  let created = 0;
  const track = (x: T): T => {
    live.add(x);
    created++;
    return x;
  };
  const use = (...xs: T[]): void => {
    for (const x of xs) if (disposed.has(x)) throw new Error(`${inner.name}: tensor used after dispose`);
  };
  const dispose = (x: T): void => {
    if (disposed.has(x)) throw new Error(`${inner.name}: tensor disposed twice`);
    if (live.delete(x)) disposed.add(x);
    inner.dispose(x);
  };
  return {
    name: `counting(${inner.name})`,
    live,
    created: () => created,
    track,
    shape: (x) => (use(x), inner.shape(x)),
    fromFloat32: (data, shape) => track(inner.fromFloat32(data, shape)),
    toFloat32: (x) => (use(x), inner.toFloat32(x)),
    zeros: (shape) => track(inner.zeros(shape)),
    add: (a, b) => (use(a, b), track(inner.add(a, b))),
    sub: (a, b) => (use(a, b), track(inner.sub(a, b))),
    mul: (a, b) => (use(a, b), track(inner.mul(a, b))),
    scale: (x, factor) => (use(x), track(inner.scale(x, factor))),
    clamp: (x, min, max) => (use(x), track(inner.clamp(x, min, max))),
    concat: (xs, axis) => (use(...xs), track(inner.concat(xs, axis))),
    slice: (x, begin, size) => (use(x), track(inner.slice(x, begin, size))),
    resize: (x, height, width, mode) => (use(x), track(inner.resize(x, height, width, mode))),
    avgPool: (x, window, stride) => (use(x), track(inner.avgPool(x, window, stride))),
    clone: (x) => (use(x), track(inner.clone(x))),
    dispose: (x) => {
      if (Array.isArray(x)) for (const item of x as readonly T[]) dispose(item);
      else dispose(x as T);
    },
  };
}
