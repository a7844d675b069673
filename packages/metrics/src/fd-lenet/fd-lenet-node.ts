/**
 * FD-LeNet's reference in Node: as `createFdLenetReference` of the shared entry, with the shipped
 * classifier (read from this package's weights/) when none is given.
 */
import { loadLenet } from '../lenet/lenet-files.js';
import { createFdLenetReferenceWith, type CreateFdLenetReferenceOptions, type FdLenetReference } from './fd-lenet.js';

/**
 * Summarises real images into an `FdLenetReference`: the statistics of `reference` (R) and the
 * features of `heldOut` (H), with `options.lenet` or the shipped classifier.
 *
 * @throws LevelskipError for bad image batches or a set with fewer than 2 images.
 */
export function createFdLenetReference(options: CreateFdLenetReferenceOptions): Promise<FdLenetReference> {
  return createFdLenetReferenceWith(options, () => loadLenet());
}
