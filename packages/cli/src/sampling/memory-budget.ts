/**
 * The memory check of the sampling commands: before a backend starts, the memory a request needs
 * is estimated from the model and the flags, and a request above `--max-memory` is refused with an
 * error that says which flag to lower, how far, and how to raise the limit instead.
 *
 * needed ≈ 4 × estimateActivationBytes(spec, batch)
 *        + the images the command keeps on the host (eval, demo: every sample, float32)
 *        + the PNG grid's pixels (and as much again for its encoding)
 *
 * Core's per-pass estimate is a lower bound: backends keep im2col buffers, arenas and the
 * sampler's x, ε̂ and noise besides. Measured on mnistSmall with onnxruntime on the CPU, the
 * process grew by 3.5–3.8 MiB per image at batch 64 and 256, against core's 1.0 MiB; hence 4×.
 */
import { LevelskipError, estimateActivationBytes, type UNetSpec } from '@levelskip/core';
import { flagBounds } from '../options/flag-bounds.js';
import { formatByteSize, formatCount } from '../options/option-values.js';

/** Backend temporaries and the sampler's own tensors, beside core's per-pass estimate (see above). */
export const activationHeadroom = 4;

export interface MemoryRequest {
  readonly spec: UNetSpec;
  /** Images per forward pass (`--batch`). */
  readonly batch: number;
  /** Float32 images held on the host at once (eval and demo keep every sample), default `batch`. */
  readonly hostImages?: number;
  /** Bytes of the PNG grid's pixels, if one is written. */
  readonly gridBytes?: number;
  /** The limit in bytes (`--max-memory`). */
  readonly maxBytes: number;
}

/** Bytes a request is estimated to need (see the module comment). */
export function estimateSamplingBytes(request: Omit<MemoryRequest, 'maxBytes'>): number {
  const { spec, batch } = request;
  const imageBytes = 4 * spec.inChannels * spec.imageSize * spec.imageSize;
  return activationHeadroom * estimateActivationBytes(spec, batch) + imageBytes * (request.hostImages ?? batch) + 2 * (request.gridBytes ?? 0);
}

/**
 * Refuses a request whose estimate exceeds `maxBytes`.
 *
 * @throws LevelskipError `INVALID_OPTION` naming `--batch` (with the largest batch that fits) and
 *   `--max-memory`.
 */
export function checkSamplingMemory(request: MemoryRequest): void {
  const needed = estimateSamplingBytes(request);
  if (needed <= request.maxBytes) return;
  let fits = 0;
  for (let low = 1, high = Math.min(request.batch, flagBounds.batch.max); low <= high; ) {
    const middle = Math.floor((low + high) / 2);
    if (estimateSamplingBytes({ ...request, batch: middle, hostImages: request.hostImages === undefined ? middle : request.hostImages }) <= request.maxBytes) {
      fits = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  const lower = fits >= 1 ? `use --batch ${formatCount(fits)} or less` : 'no batch fits: use a smaller model';
  const raise = `raise the limit with --max-memory ${Math.ceil((needed * 1.1) / 1024 ** 3)}GiB`;
  throw new LevelskipError(
    'INVALID_OPTION',
    `--batch ${formatCount(request.batch)} needs about ${formatByteSize(needed)} for this ${request.spec.imageSize}×${request.spec.imageSize} model ` +
      `(U-Net activations × batch${request.gridBytes ? ', plus the PNG grid' : ''}), more than the limit of ${formatByteSize(request.maxBytes)}; ` +
      `${lower}, or ${raise} if the machine has the memory`,
    { issues: [{ path: ['--batch'], message: `needs about ${formatByteSize(needed)}` }] },
  );
}
