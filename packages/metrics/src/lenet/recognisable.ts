/**
 * The "recognisable" rate of a set of digits: the share that the classifier assigns to one class
 * with probability above a threshold (softmax of its 10 logits; default p > 0.9). A coarse,
 * readable companion of FD-LeNet: FD-LeNet compares distributions, this counts images a reader
 * would call a digit. Report it beside the rate of real digits at the same count.
 */
import { LevelskipError } from '@levelskip/core';
import type { Lenet } from './lenet.js';

/** Largest softmax probability of each image's logits (`count × classes`, row-major). */
export function maxClassProbabilities(logits: Float32Array, count: number, classes: number): Float64Array {
  const out = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[n * classes + c]!);
    // max p = exp(l_max) / Σ exp(l_c) = 1 / Σ exp(l_c − l_max): stable for any logit scale.
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[n * classes + c]! - max);
    out[n] = 1 / sum;
  }
  return out;
}

/**
 * Share of the `count` images (NCHW, `count × 1 × 32 × 32`, in [−1, 1]) that `lenet` classifies
 * with a top-class probability above `threshold`.
 *
 * @throws LevelskipError `INVALID_OPTION` for a threshold outside (0, 1); the classifier's own
 *   errors for a malformed batch.
 */
export function recognisableRate(lenet: Lenet, images: Float32Array, count: number, threshold = 0.9): number {
  if (!(threshold > 0 && threshold < 1)) {
    throw new LevelskipError('INVALID_OPTION', `recognisableRate: threshold must be in (0, 1), got ${threshold}`);
  }
  const probabilities = maxClassProbabilities(lenet.logits(images, count), count, lenet.classes);
  let confident = 0;
  for (const p of probabilities) if (p > threshold) confident += 1;
  return confident / count;
}
