/**
 * Backends built around the reference backend for testing the conformance suite itself: one that
 * tracks live tensors (a correct backend with a leak counter), and deliberately broken ones that
 * the suite must catch.
 */
import type { Backend } from '../../src/backend/backend.js';
import type { Denoiser, DisposableDenoiser, PredictOptions, PrepareOptions } from '../../src/backend/denoiser.js';
import { LevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import type { TensorOps } from '../../src/backend/tensor-ops.js';
import { FeatureCache } from '../../src/fills/feature-cache.js';
import { createReferenceBackend, referenceTensor, type ReferenceTensor } from '../../src/testing/reference/index.js';

type R = ReferenceTensor;
type Predict = (inner: Denoiser<R>, x: R, timesteps: number | readonly number[], options?: PredictOptions<R>) => Promise<R>;

export interface Wrapping {
  /** Replaces `predict` (default: the inner denoiser's). */
  readonly predict?: Predict;
  /** Replaces some ops. */
  readonly ops?: (inner: TensorOps<R>) => Partial<TensorOps<R>>;
  /** Replaces `createFeatureCache`. */
  readonly createFeatureCache?: (inner: Denoiser<R>, ops: TensorOps<R>) => FeatureCache<R>;
  /** Replaces `prepare` (default: the inner denoiser's). */
  readonly prepare?: (inner: Denoiser<R>, options?: PrepareOptions<R>) => Promise<void>;
  /** Rewrites every error that predict, prepare and createDenoiser reject with. */
  readonly mapError?: (error: unknown) => unknown;
}

/** Every method of `ops`, delegated (reference ops are a frozen object; spreading it would also do, but be explicit). */
function delegateOps(inner: TensorOps<R>, overrides: Partial<TensorOps<R>>): TensorOps<R> {
  return {
    name: inner.name,
    shape: (x) => inner.shape(x),
    fromFloat32: (data, shape) => inner.fromFloat32(data, shape),
    toFloat32: (x) => inner.toFloat32(x),
    zeros: (shape) => inner.zeros(shape),
    add: (a, b) => inner.add(a, b),
    sub: (a, b) => inner.sub(a, b),
    mul: (a, b) => inner.mul(a, b),
    scale: (x, f) => inner.scale(x, f),
    clamp: (x, min, max) => inner.clamp(x, min, max),
    concat: (xs, axis) => inner.concat(xs, axis),
    slice: (x, begin, size) => inner.slice(x, begin, size),
    resize: (x, h, w, mode) => inner.resize(x, h, w, mode),
    avgPool: (x, window, stride) => inner.avgPool(x, window, stride),
    clone: (x) => inner.clone(x),
    dispose: (x) => inner.dispose(x),
    ...overrides,
  };
}

/** The reference backend with some behaviour replaced. */
export function wrapReferenceBackend(wrapping: Wrapping): Backend<R> {
  const base = createReferenceBackend();
  const ops = delegateOps(base.ops, wrapping.ops?.(base.ops) ?? {});
  const mapped = <V>(promise: Promise<V>): Promise<V> => (wrapping.mapError ? promise.catch((error: unknown) => Promise.reject(wrapping.mapError!(error))) : promise);
  const wrapDenoiser = (inner: Denoiser<R>): DisposableDenoiser<R> => ({
    specificationVersion: inner.specificationVersion,
    spec: inner.spec,
    levels: inner.levels,
    backend: `wrapped-${inner.backend}`,
    ops,
    predict: (x, timesteps, options) => mapped(wrapping.predict ? wrapping.predict(inner, x, timesteps, options) : inner.predict(x, timesteps, options)),
    createFeatureCache: () => (wrapping.createFeatureCache ? wrapping.createFeatureCache(inner, ops) : inner.createFeatureCache()),
    prepare: (options) => mapped(wrapping.prepare ? wrapping.prepare(inner, options) : (inner.prepare?.(options) ?? Promise.resolve())),
    dispose: () => inner.dispose(),
    [Symbol.dispose]: () => inner.dispose(),
  });
  return {
    specificationVersion: base.specificationVersion,
    name: 'wrapped-reference',
    capabilities: base.capabilities,
    ops,
    createDenoiser: async (spec, weights, options) => wrapDenoiser(await mapped(base.createDenoiser(spec, weights, options))),
    dispose: () => base.dispose(),
    [Symbol.dispose]: () => base.dispose(),
  };
}

/**
 * A correct backend with a live-tensor count: every tensor its ops or predict hand out is
 * registered in `live` until disposed, so the suite's leak checks run and the suite's own
 * disposal discipline is tested with it.
 */
export function trackedReferenceBackend(live: Set<R>): Backend<R> {
  const track = (x: R): R => {
    live.add(x);
    return x;
  };
  const creating = ['fromFloat32', 'zeros', 'add', 'sub', 'mul', 'scale', 'clamp', 'concat', 'slice', 'resize', 'avgPool', 'clone'] as const;
  return wrapReferenceBackend({
    ops: (inner) => {
      const overrides: Partial<TensorOps<R>> = {
        dispose: (x) => {
          for (const t of Array.isArray(x) ? (x as readonly R[]) : [x as R]) live.delete(t);
          inner.dispose(x);
        },
      };
      for (const method of creating) {
        const original = inner[method] as (...args: unknown[]) => R;
        (overrides as Record<string, unknown>)[method] = (...args: unknown[]) => track(original.apply(inner, args));
      }
      return overrides;
    },
    predict: async (inner, x, timesteps, options) => track(await inner.predict(x, timesteps, options)),
    createFeatureCache: (_inner, ops) => new FeatureCache(ops),
  });
}

/** Adds `delta` to every value of a prediction. */
export function perturbed(delta: number): Backend<R> {
  return wrapReferenceBackend({
    predict: async (inner, x, timesteps, options) => {
      const out = await inner.predict(x, timesteps, options);
      return referenceTensor(out.shape, out.data.map((v) => v + delta));
    },
  });
}

/** Always predicts the full network (k ignored once the arguments were validated). */
export function ignoresK(): Backend<R> {
  return wrapReferenceBackend({
    predict: async (inner, x, timesteps, options) => {
      const out = await inner.predict(x, timesteps, options);
      return options?.k ? inner.predict(x, timesteps, { ...options, k: 0 }) : out;
    },
  });
}

/** Runs every skipped prediction with the zero fill, whatever fill was asked for. */
export function ignoresFill(): Backend<R> {
  return wrapReferenceBackend({
    predict: (inner, x, timesteps, options) => {
      if (options === undefined) return inner.predict(x, timesteps);
      const { fill: _fill, ...rest } = options;
      // Validate the requested fill first, so only the numbers are wrong.
      return inner.predict(x, timesteps, options).then(() => inner.predict(x, timesteps, rest));
    },
  });
}

/** Correct predictions, but its live-tensor count grows by one per prediction. */
export function leaking(counter: { live: number }): Backend<R> {
  return wrapReferenceBackend({
    predict: async (inner, x, timesteps, options) => {
      counter.live++;
      return inner.predict(x, timesteps, options);
    },
  });
}

/** Resizes bicubic requests bilinearly. */
export function bilinearForBicubic(): Backend<R> {
  return wrapReferenceBackend({
    ops: (inner) => ({ resize: (x, h, w, mode) => inner.resize(x, h, w, mode === 'bicubic' ? 'bilinear' : mode) }),
  });
}

/** Rejects bad input with a plain Error instead of a LevelskipError. */
export function plainErrors(): Backend<R> {
  return wrapReferenceBackend({
    predict: async (inner, x, timesteps, options) => {
      const [, c, h, w] = x.shape;
      if (x.shape.length !== 4 || c !== inner.spec.inChannels || h !== inner.spec.imageSize || w !== inner.spec.imageSize) throw new Error('bad input');
      return inner.predict(x, timesteps, options);
    },
  });
}

/** One feature cache shared by every run (never cleared): state leaks from one sampling run into the next. */
export function sharedFeatureCache(): Backend<R> {
  let shared: FeatureCache<R> | undefined;
  return wrapReferenceBackend({
    createFeatureCache: (inner) => {
      shared ??= inner.createFeatureCache();
      const store = shared;
      // A view of the shared cache whose dispose keeps the entries (FeatureCache has private fields, hence the cast).
      const view = {
        get: (stage: number, level: number) => store.get(stage, level),
        has: (stage: number, level: number) => store.has(stage, level),
        set: (stage: number, level: number, value: R) => store.set(stage, level, value),
        get size() {
          return store.size;
        },
        dispose: () => undefined,
      };
      return view as unknown as FeatureCache<R>;
    },
  });
}

/** Correct, but rejects with code `to` wherever a correct backend uses `from` (e.g. use after dispose as INVALID_OPTION). */
export function recodedErrors(from: LevelskipErrorCode, to: LevelskipErrorCode): Backend<R> {
  return wrapReferenceBackend({
    mapError: (error) => (LevelskipError.is(error) && error.code === from ? new LevelskipError(to, error.message, { cause: error }) : error),
  });
}

/** Rounds a fractional k (at predict and prepare) instead of refusing it. */
export function roundsK(): Backend<R> {
  return wrapReferenceBackend({
    predict: (inner, x, timesteps, options) => inner.predict(x, timesteps, options?.k === undefined ? options : { ...options, k: Math.round(options.k) }),
    prepare: (inner, options) => inner.prepare!(options?.ks === undefined ? options : { ...options, ks: options.ks.map((k) => Math.round(k)) }),
  });
}
