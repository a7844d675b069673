/**
 * Validation of the image batches FD-LeNet reads: NCHW float32, N × 1 × 32 × 32, in [-1, 1]
 * (what levelskip's samplers produce for the `mnistSmall` preset and what @levelskip/datasets'
 * `loadMnist` yields).
 */
import { LevelskipError } from '@levelskip/core';
import { lenetImageSize, lenetInputChannels } from './lenet-architecture.js';

/** Values in one image. */
export const lenetImageValues = lenetInputChannels * lenetImageSize * lenetImageSize;

/**
 * Checks that `images` holds exactly `count` finite 1 × 32 × 32 images.
 *
 * @param field The option's name in messages (`generated`, `images`, …).
 * @throws LevelskipError `INVALID_OPTION` for a count that is not a positive integer, an array
 *   that is not a Float32Array, or a NaN / infinite value (naming its image and pixel);
 *   `INVALID_SHAPE` when the length is not count × 1024.
 */
export function checkImageBatch(images: unknown, count: unknown, field: string, countField = 'count'): asserts images is Float32Array {
  if (!(typeof count === 'number' && Number.isSafeInteger(count) && count >= 1)) {
    throw new LevelskipError('INVALID_OPTION', `${countField} must be a positive integer (the number of images in ${field}), got ${String(count)}`, {
      issues: [{ path: [countField], message: 'must be a positive integer' }],
    });
  }
  if (!(images instanceof Float32Array)) {
    const got = images === null ? 'null' : typeof images === 'object' ? (images.constructor?.name ?? 'object') : typeof images;
    throw new LevelskipError('INVALID_OPTION', `${field} must be a Float32Array of NCHW images (N × 1 × 32 × 32 in [-1, 1]), got ${got}; convert it with Float32Array.from()`, {
      issues: [{ path: [field], message: 'must be a Float32Array' }],
    });
  }
  const expected = count * lenetImageValues;
  if (images.length !== expected) {
    const whole = images.length % lenetImageValues === 0 ? ` (it holds ${images.length / lenetImageValues} images)` : '';
    throw new LevelskipError(
      'INVALID_SHAPE',
      `${field} has ${images.length} values but ${countField} = ${count} needs ${count} × ${lenetImageValues} = ${expected} (NCHW, 1 × 32 × 32 each)${whole}; pass the matching ${countField} or pad 28 × 28 digits to 32 × 32`,
      { issues: [{ path: [field], message: `length must be ${countField} × ${lenetImageValues}` }] },
    );
  }
  for (let i = 0; i < images.length; i++) {
    if (!Number.isFinite(images[i]!)) {
      const image = Math.floor(i / lenetImageValues);
      throw new LevelskipError(
        'INVALID_OPTION',
        `${field} contains ${String(images[i])} at image ${image}, pixel ${i % lenetImageValues}: every value must be finite (a diverged sampler?)`,
        { issues: [{ path: [field, i], message: 'must be finite' }] },
      );
    }
  }
}
