/**
 * Where training batches come from, with a resumable position:
 *
 * - an in-memory dataset, reshuffled at the start of every epoch with the trainer's seeded RNG
 *   (Fisher–Yates, Knuth TAOCP vol. 2 §3.4.2, Algorithm P). Batches run across epoch
 *   boundaries: a batch that exhausts the epoch takes its remaining samples from the next
 *   permutation. The position (epoch, offset in the epoch's permutation, and the shuffle RNG's
 *   state before that permutation was drawn) makes a resume exact;
 * - an (async) iterable of batches, used as given. Its position is (pass, batches consumed in the
 *   pass); on resume a new pass starts and skips the consumed batches, which is exact only if
 *   the iterable yields the same batches in the same order on every pass. When it ends, a new
 *   pass starts (calling `[Symbol.asyncIterator]()` / `[Symbol.iterator]()` again).
 *
 * Images are NCHW float32 in [-1, 1] (the model's data range; not enforced).
 */
import { LevelskipError, SeededRng, type HostTensor, type RngState } from '@levelskip/core';

/** An in-memory dataset: `count` images, NCHW, row-major. */
export interface InMemoryDataset {
  /** count × C × H × W values, normally in [-1, 1]. */
  readonly images: Float32Array;
  readonly count: number;
  /** [count, C, H, W] (or the per-image [C, H, W]). */
  readonly shape: readonly number[];
}

/** One batch from an iterable: n × C × H × W values (n ≥ 1), or a host tensor of shape [n, C, H, W]. */
export type TrainingBatch = Float32Array | HostTensor;

/** Training data: an in-memory dataset, or an (async) iterable of batches. */
export type TrainingData = InMemoryDataset | AsyncIterable<TrainingBatch> | Iterable<TrainingBatch>;

/** JSON-serialisable position of a batch source. */
export type DataPosition =
  | { readonly kind: 'memory'; readonly epoch: number; readonly offset: number; readonly shuffle: RngState }
  | { readonly kind: 'iterable'; readonly pass: number; readonly batchInPass: number };

/** A batch: `count` images, NCHW. */
export interface HostBatch {
  readonly images: Float32Array;
  readonly count: number;
}

export interface BatchSource {
  readonly kind: 'memory' | 'iterable';
  /** Images in one epoch (memory) or undefined (iterable). */
  readonly epochSize: number | undefined;
  /**
   * The next batch (`batchSize` images for a dataset; whatever the iterable yields otherwise), or
   * undefined when `maxPasses` passes of an iterable are complete.
   */
  next(): Promise<HostBatch | undefined>;
  /** Batches per pass of an iterable, once its first pass has ended. */
  batchesPerPass(): number | undefined;
  position(): DataPosition;
}

/** C·H·W of one image. */
function imageSize(imageShape: readonly [number, number, number]): number {
  return imageShape[0] * imageShape[1] * imageShape[2];
}

/** Whether `data` is an in-memory dataset rather than an iterable. */
export function isInMemoryDataset(data: unknown): data is InMemoryDataset {
  return typeof data === 'object' && data !== null && 'images' in data;
}

function dataError(message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION'): LevelskipError {
  return new LevelskipError(code, `train: data ${message}`, { issues: [{ path: ['data'], message }] });
}

/**
 * Checks an in-memory dataset against the model's image shape [C, H, W].
 *
 * @throws LevelskipError `INVALID_OPTION` / `INVALID_SHAPE` naming `data`.
 */
export function checkInMemoryDataset(data: InMemoryDataset, imageShape: readonly [number, number, number]): void {
  const { images, count, shape } = data;
  if (!(images instanceof Float32Array)) throw dataError('.images must be a Float32Array (NCHW, values in [-1, 1])');
  if (!(Number.isSafeInteger(count) && count >= 1)) throw dataError(`.count must be an integer ≥ 1, got ${String(count)}`);
  const expected = `[${count}, ${imageShape.join(', ')}]`;
  const perImage = Array.isArray(shape) && shape.length === 4 ? shape.slice(1) : shape;
  if (
    !Array.isArray(shape) ||
    (shape.length === 4 && shape[0] !== count) ||
    perImage.length !== 3 ||
    perImage.some((d, i) => d !== imageShape[i])
  ) {
    throw dataError(`.shape is ${JSON.stringify(shape)} but the model takes images of shape ${expected} (NCHW)`, 'INVALID_SHAPE');
  }
  if (images.length !== count * imageSize(imageShape)) {
    throw dataError(`.images has ${images.length} values; ${expected} needs ${count * imageSize(imageShape)}`, 'INVALID_SHAPE');
  }
  for (let i = 0; i < images.length; i++) {
    if (!Number.isFinite(images[i]!)) throw dataError(`.images[${i}] is ${images[i]}; every value must be finite (scale images to [-1, 1])`);
  }
}

/** Fisher–Yates permutation of 0..n−1 drawn from `rng`. */
export function shuffledIndices(rng: SeededRng, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.integer(i + 1);
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/**
 * A source over an in-memory dataset, starting at `position` (or at epoch 0 of `shuffleRng`).
 * Each batch takes the next `batchSize` indices of the epoch permutations, in order.
 */
export function memoryBatchSource(
  data: InMemoryDataset,
  imageShape: readonly [number, number, number],
  batchSize: number,
  shuffleRng: SeededRng,
  position?: Extract<DataPosition, { kind: 'memory' }>,
): BatchSource {
  const size = imageSize(imageShape);
  const count = data.count;
  let epoch = position?.epoch ?? 0;
  let offset = position?.offset ?? 0;
  const rng = position === undefined ? shuffleRng : SeededRng.fromState(position.shuffle);
  let epochStart = rng.state();
  let order = shuffledIndices(rng, count);
  return {
    kind: 'memory',
    epochSize: count,
    next() {
      const images = new Float32Array(batchSize * size);
      for (let i = 0; i < batchSize; i++) {
        if (offset === count) {
          epoch += 1;
          offset = 0;
          epochStart = rng.state();
          order = shuffledIndices(rng, count);
        }
        const index = order[offset++]!;
        images.set(data.images.subarray(index * size, (index + 1) * size), i * size);
      }
      return Promise.resolve({ images, count: batchSize });
    },
    batchesPerPass: () => undefined,
    position: () => ({ kind: 'memory', epoch, offset, shuffle: epochStart }),
  };
}

function toHostBatch(item: TrainingBatch, imageShape: readonly [number, number, number], index: number): HostBatch {
  const size = imageSize(imageShape);
  const where = `batch ${index} of the pass`;
  let images: Float32Array;
  if (item instanceof Float32Array) {
    images = item;
  } else if (typeof item === 'object' && item !== null && (item as HostTensor).data instanceof Float32Array) {
    const { shape, data } = item as HostTensor;
    if (shape.length !== 4 || shape.slice(1).some((d, i) => d !== imageShape[i]) || shape[0]! * size !== data.length) {
      throw dataError(`${where} has shape ${JSON.stringify(shape)}; it must be [n, ${imageShape.join(', ')}] (NCHW)`, 'INVALID_SHAPE');
    }
    images = data;
  } else {
    throw dataError(`${where} is not a Float32Array or { shape, data } host tensor`);
  }
  const count = images.length / size;
  if (!(Number.isInteger(count) && count >= 1)) {
    throw dataError(`${where} has ${images.length} values, not a positive multiple of C·H·W = ${size} (shape [n, ${imageShape.join(', ')}])`, 'INVALID_SHAPE');
  }
  for (let i = 0; i < images.length; i++) {
    if (!Number.isFinite(images[i]!)) throw dataError(`${where} holds ${images[i]} at index ${i}; every value must be finite (scale images to [-1, 1])`);
  }
  return { images, count };
}

function startPass(data: AsyncIterable<TrainingBatch> | Iterable<TrainingBatch>): AsyncIterator<TrainingBatch> | Iterator<TrainingBatch> {
  if (Symbol.asyncIterator in data) return data[Symbol.asyncIterator]();
  return data[Symbol.iterator]();
}

/**
 * A source over an (async) iterable. At most `maxPasses` passes (undefined: unbounded); resuming
 * at `position` starts pass `position.pass` afresh and skips its first `batchInPass` batches.
 */
export function iterableBatchSource(
  data: AsyncIterable<TrainingBatch> | Iterable<TrainingBatch>,
  imageShape: readonly [number, number, number],
  maxPasses: number | undefined,
  position?: Extract<DataPosition, { kind: 'iterable' }>,
): BatchSource {
  let pass = position?.pass ?? 0;
  let batchInPass = 0;
  let perPass: number | undefined;
  let iterator: AsyncIterator<TrainingBatch> | Iterator<TrainingBatch> | undefined;
  let toSkip = position?.batchInPass ?? 0;

  const pull = async (): Promise<TrainingBatch | undefined> => {
    for (;;) {
      if (maxPasses !== undefined && pass >= maxPasses) return undefined;
      iterator ??= startPass(data);
      const result = await iterator.next();
      if (result.done !== true) return result.value;
      // The pass has ended.
      if (batchInPass === 0) throw dataError('yielded no batch in a pass; an iterable must yield at least one batch every time it is iterated');
      if (toSkip > 0) {
        throw dataError(
          `ended after ${batchInPass} batches, before the ${batchInPass + toSkip} consumed when the checkpoint was written; resuming needs the same batches in the same order`,
        );
      }
      perPass ??= batchInPass;
      pass += 1;
      batchInPass = 0;
      iterator = undefined;
    }
  };

  return {
    kind: 'iterable',
    epochSize: undefined,
    async next() {
      while (toSkip > 0) {
        if ((await pull()) === undefined) return undefined;
        batchInPass += 1;
        toSkip -= 1;
      }
      const item = await pull();
      if (item === undefined) return undefined;
      const batch = toHostBatch(item, imageShape, batchInPass);
      batchInPass += 1;
      return batch;
    },
    batchesPerPass: () => perPass,
    position: () => ({ kind: 'iterable', pass, batchInPass }),
  };
}
