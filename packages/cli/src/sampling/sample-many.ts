/**
 * Many images in batches: the loop behind `eval` and `demo`. Batch i is `sample()` with seed
 * `seed + i`, so a set of n images is the same whatever else runs, and two schedules compared
 * with the same seed start from the same noise.
 */
import type { Denoiser, FillStrategy, SkipSchedule } from '@levelskip/core';
import { sample, type PredictionType, type Sampler } from '@levelskip/samplers';

export interface SampleManyOptions<T> {
  readonly denoiser: Denoiser<T>;
  readonly sampler: Sampler;
  readonly skip: SkipSchedule;
  readonly fill: FillStrategy<T>;
  /** Images in all. */
  readonly count: number;
  /** Images per `sample()` call (the last batch may be smaller). */
  readonly batch: number;
  readonly seed: number;
  /** What the model outputs (default ε); see `sample`'s `prediction`. */
  readonly prediction?: PredictionType;
  /** After every step of every batch: images finished so far and the current step's k. */
  readonly onStep?: (done: { readonly stepsDone: number; readonly stepsTotal: number; readonly k: number }) => void;
  readonly signal?: AbortSignal;
}

export interface SampleManyResult {
  /** NCHW, `count` images. */
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, number];
  /** Wall time of the sampling calls alone (ms). */
  readonly sampleMs: number;
  /** k of each step (the same for every batch). */
  readonly ks: readonly number[];
}

export async function sampleMany<T>(options: SampleManyOptions<T>): Promise<SampleManyResult> {
  const { denoiser, count, batch } = options;
  const { inChannels, imageSize } = denoiser.spec;
  const perImage = inChannels * imageSize * imageSize;
  const images = new Float32Array(count * perImage);
  const batches = Math.ceil(count / batch);
  const stepsPerBatch = options.sampler.timesteps.length;
  let sampleMs = 0;
  let ks: readonly number[] = [];
  for (let b = 0; b < batches; b++) {
    const size = Math.min(batch, count - b * batch);
    const started = performance.now();
    const result = await sample({
      denoiser,
      sampler: options.sampler,
      skip: options.skip,
      fill: options.fill,
      batch: size,
      seed: options.seed + b,
      ...(options.prediction === undefined ? {} : { prediction: options.prediction }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onProgress: ({ step, k }) => options.onStep?.({ stepsDone: b * stepsPerBatch + step, stepsTotal: batches * stepsPerBatch, k }),
    });
    sampleMs += performance.now() - started;
    images.set(result.images, b * batch * perImage);
    ks = result.ks;
  }
  return { images, shape: [count, inChannels, imageSize, imageSize], sampleMs, ks };
}
