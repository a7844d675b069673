/**
 * FD-LeNet: the squared Fréchet distance (Heusel et al. 2017's FID formula) between generated and
 * real MNIST digits, in the 84-dimensional fc2 feature space of levelskip's LeNet classifier
 * instead of Inception-v3's pool3 space. Values are comparable only with other FD-LeNet values.
 *
 * FD has a sample-size bias (fewer samples, larger FD), so a score means little alone. Alongside
 * the score we report the real-vs-real floor at the same n:
 *
 *   R         the reference set (real), summarised once as (μ_R, Σ_R);
 *   H         a held-out real set, disjoint from R, in a fixed order;
 *   score(n)  FD(stats of the n generated images, stats of R);
 *   floor(n)  FD(stats of n real images of H, stats of R): for each of the first
 *             m = min(10, ⌊|H| / n⌋) disjoint consecutive blocks of n images of H (block j =
 *             images j·n … (j+1)·n − 1), one FD; the floor is their mean, with their min and max.
 *
 * Real-vs-real FD at a given n varies from one sample of n to another (by about ±20 % at n = 500
 * on MNIST), which is why the floor averages several disjoint samples and reports their range. A
 * perfect generator scores within about that range; a score far above it is a real gap.
 */
import { LevelskipError } from '@levelskip/core';
import { featureStatistics, type FeatureStatistics } from '../frechet/feature-statistics.js';
import { frechetDistance } from '../frechet/frechet-distance.js';
import { checkImageBatch } from '../lenet/image-batch.js';
import type { Lenet } from '../lenet/lenet.js';

/** A batch of NCHW float32 images, `count × 1 × 32 × 32`, in [-1, 1]. */
export interface ImageSet {
  readonly images: Float32Array;
  readonly count: number;
}

/** What generated images are compared with: real statistics and held-out real features. */
export interface FdLenetReference {
  /** The classifier that produced the features; generated images are measured with it too. */
  readonly lenet: Lenet;
  /** μ_R and Σ_R of the reference set R. */
  readonly statistics: FeatureStatistics;
  /** Features of the held-out real set H, `heldOutCount × featureDim`; the floor at n uses the first n rows. */
  readonly heldOutFeatures: Float32Array;
  /** Images in H: the largest n at which a floor exists. */
  readonly heldOutCount: number;
}

/** Options of {@link createFdLenetReference}. */
export interface CreateFdLenetReferenceOptions {
  /** The reference set R (real images). */
  readonly reference: ImageSet;
  /** The held-out real set H, disjoint from R, in the order the floor takes its first n. */
  readonly heldOut: ImageSet;
  /**
   * The classifier. In Node it defaults to the shipped one (`loadLenet()`); in a browser pass it
   * (`lenetFromSafetensors(bytes)` of the fetched `weights/lenet.safetensors`).
   */
  readonly lenet?: Lenet;
}

/** Options of {@link fdLenet}. */
export interface FdLenetOptions {
  /** NCHW float32 images, `count × 1 × 32 × 32`, in [-1, 1] (a sampler's `images`). */
  readonly generated: Float32Array;
  /** Number of generated images, at least 2. */
  readonly count: number;
  /** The real side, from `loadMnistReference()` or `createFdLenetReference()`. */
  readonly reference: FdLenetReference;
}

/** The real-vs-real floor at one sample size: FDs of disjoint blocks of n held-out real images vs R. */
export interface FdLenetFloor {
  /** Mean FD over the blocks: the floor. */
  readonly mean: number;
  /** Smallest and largest block FD: how much real-vs-real FD varies at this n. */
  readonly min: number;
  readonly max: number;
  /** Number of disjoint blocks of H averaged: min(10, ⌊heldOutCount / count⌋). */
  readonly blocks: number;
  /** The sample size n. */
  readonly count: number;
}

/** An FD-LeNet score with its real-vs-real floor at the same sample size. */
export interface FdLenetResult {
  /** FD(generated, R). */
  readonly fd: number;
  /** The floor at `count`; `null` when H has fewer than `count` images. */
  readonly floor: FdLenetFloor | null;
  /** The sample size both use. */
  readonly count: number;
}

/** Most disjoint blocks of H averaged for one floor. */
export const fdLenetFloorMaxBlocks = 10;

/**
 * Summarises real images into an {@link FdLenetReference}: the statistics of `reference` (R) and
 * the features of `heldOut` (H).
 *
 * @throws LevelskipError for bad image batches (see {@link fdLenet}) or a set with fewer than 2 images.
 */
export async function createFdLenetReference(options: CreateFdLenetReferenceOptions): Promise<FdLenetReference> {
  return createFdLenetReferenceWith(options, () => {
    throw new LevelskipError(
      'INVALID_OPTION',
      'createFdLenetReference: pass options.lenet here (there is no file system to read the shipped classifier from): lenetFromSafetensors(bytes) of @levelskip/metrics\'s weights/lenet.safetensors, fetched',
    );
  });
}

/** `createFdLenetReference` with the classifier to use when `options.lenet` is absent (Node: the shipped one). */
export async function createFdLenetReferenceWith(options: CreateFdLenetReferenceOptions, defaultLenet: () => Promise<Lenet>): Promise<FdLenetReference> {
  const { reference, heldOut } = options ?? ({} as Partial<CreateFdLenetReferenceOptions>);
  checkImageBatch(reference?.images, reference?.count, 'reference.images', 'reference.count');
  checkImageBatch(heldOut?.images, heldOut?.count, 'heldOut.images', 'heldOut.count');
  const lenet = options.lenet ?? (await defaultLenet());
  const statistics = featureStatistics(lenet.features(reference.images, reference.count), reference.count, lenet.featureDim);
  const heldOutFeatures = lenet.features(heldOut.images, heldOut.count);
  return { lenet, statistics, heldOutFeatures, heldOutCount: heldOut.count };
}

function checkReference(value: unknown): asserts value is FdLenetReference {
  const reference = value as FdLenetReference | null | undefined;
  const valid =
    typeof reference === 'object' &&
    reference !== null &&
    typeof reference.lenet?.features === 'function' &&
    reference.heldOutFeatures instanceof Float32Array &&
    reference.heldOutFeatures.length === reference.heldOutCount * reference.lenet.featureDim &&
    reference.statistics?.dim === reference.lenet.featureDim;
  if (!valid) {
    throw new LevelskipError('INVALID_OPTION', 'reference must be an FdLenetReference from loadMnistReference() or createFdLenetReference()', {
      issues: [{ path: ['reference'], message: 'must be an FdLenetReference' }],
    });
  }
}

const floorCache = new WeakMap<FdLenetReference, Map<number, FdLenetFloor>>();

/**
 * The real-vs-real floor at sample size `count`: the mean (and range) of FD(block, R) over the
 * first min(10, ⌊heldOutCount / count⌋) disjoint blocks of `count` consecutive images of H.
 * Cached per reference and count.
 *
 * @throws LevelskipError `INVALID_OPTION` when `count` is not an integer in [2, reference.heldOutCount].
 */
export function fdLenetFloor(reference: FdLenetReference, count: number): FdLenetFloor {
  checkReference(reference);
  if (!(Number.isSafeInteger(count) && count >= 2 && count <= reference.heldOutCount)) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `count must be an integer in [2, ${reference.heldOutCount}] (the held-out real set's size), got ${String(count)}`,
      { issues: [{ path: ['count'], message: `must be an integer in [2, ${reference.heldOutCount}]` }] },
    );
  }
  let floors = floorCache.get(reference);
  if (floors === undefined) floorCache.set(reference, (floors = new Map()));
  const known = floors.get(count);
  if (known !== undefined) return known;

  const dim = reference.lenet.featureDim;
  const blocks = Math.min(fdLenetFloorMaxBlocks, Math.floor(reference.heldOutCount / count));
  const distances: number[] = [];
  for (let j = 0; j < blocks; j++) {
    const block = reference.heldOutFeatures.subarray(j * count * dim, (j + 1) * count * dim);
    distances.push(frechetDistance(featureStatistics(block, count, dim), reference.statistics));
  }
  const floor: FdLenetFloor = {
    mean: distances.reduce((sum, d) => sum + d, 0) / blocks,
    min: Math.min(...distances),
    max: Math.max(...distances),
    blocks,
    count,
  };
  floors.set(count, floor);
  return floor;
}

/**
 * FD-LeNet of generated digits against a real reference, with the real-vs-real floor at the same n.
 *
 * @example
 * ```ts
 * const reference = await loadMnistReference();
 * const { fd, floor } = fdLenet({ generated: result.images, count: 1000, reference });
 * console.log(`FD-LeNet ${fd.toFixed(2)}, floor ${floor?.mean.toFixed(2)}`);
 * ```
 * @throws LevelskipError `INVALID_OPTION` for a count below 2, a non-Float32Array or NaN / infinite
 *   pixels, or a malformed reference; `INVALID_SHAPE` when `generated.length` is not count × 1024.
 */
export function fdLenet(options: FdLenetOptions): FdLenetResult {
  const { generated, count, reference } = options ?? ({} as Partial<FdLenetOptions>);
  checkReference(reference);
  checkImageBatch(generated, count, 'generated');
  const { lenet } = reference;
  if (count < 2) {
    throw new LevelskipError('INVALID_OPTION', `count must be at least 2 (a covariance needs two images), got ${count}`, {
      issues: [{ path: ['count'], message: 'must be at least 2' }],
    });
  }
  const statistics = featureStatistics(lenet.features(generated, count), count, lenet.featureDim);
  const fd = frechetDistance(statistics, reference.statistics);
  const floor = count <= reference.heldOutCount ? fdLenetFloor(reference, count) : null;
  return { fd, floor, count };
}
