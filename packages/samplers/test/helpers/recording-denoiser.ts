/**
 * A fake denoiser that records what each step asked for (timestep, k, fill, cache) and returns
 * ε̂ = 0.1·x, with hooks to run code inside a call (e.g. abort, or throw at a chosen step).
 */
import { FeatureCache, parseUNetSpec, specificationVersion, type Denoiser, type PredictOptions, type TensorOps, type UNetSpec } from '@levelskip/core';

/** Four levels (8×8, 4×4, 2×2, 1×1), one channel: the smallest spec with N = 4. */
export const fourLevelSpec: UNetSpec = parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2, 2, 2], groups: 4 });

/** The tiny spec of the issue: 1×4×4 images, N = 2. */
export const tinySpec: UNetSpec = parseUNetSpec({ imageSize: 4, inChannels: 1, baseChannels: 8, channelMults: [1, 2], groups: 4 });

export interface RecordedCall<T> {
  readonly timesteps: number | readonly number[];
  readonly shape: readonly number[];
  readonly options: PredictOptions<T> | undefined;
}

export interface RecordingDenoiser<T> extends Denoiser<T> {
  readonly calls: RecordedCall<T>[];
  readonly caches: { cache: FeatureCache<T>; disposed: boolean }[];
}

export function recordingDenoiser<T>(
  ops: TensorOps<T>,
  spec: UNetSpec = fourLevelSpec,
  onPredict?: (call: number) => void | Promise<void>,
): RecordingDenoiser<T> {
  const calls: RecordedCall<T>[] = [];
  const caches: { cache: FeatureCache<T>; disposed: boolean }[] = [];
  return {
    specificationVersion,
    spec,
    levels: spec.channelMults.length,
    backend: `recording(${ops.name})`,
    ops,
    calls,
    caches,
    async predict(x: T, timesteps: number | readonly number[], options?: PredictOptions<T>): Promise<T> {
      calls.push({ timesteps, shape: ops.shape(x), options });
      await onPredict?.(calls.length);
      return ops.scale(x, 0.1);
    },
    createFeatureCache() {
      const cache = new FeatureCache(ops);
      const entry = { cache, disposed: false };
      const dispose = cache.dispose.bind(cache);
      cache.dispose = () => {
        entry.disposed = true;
        dispose();
      };
      caches.push(entry);
      return cache;
    },
    dispose() {},
  };
}
