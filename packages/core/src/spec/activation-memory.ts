/**
 * An estimate of the activation memory one forward pass needs, so a caller (the CLI, a sampler)
 * can refuse a request that cannot fit before allocating anything: `--batch 100000` on the CIFAR
 * model would otherwise grow to gigabytes before failing.
 *
 * The approximation, in float32 values per sample, at k = 0 (every level runs; skipping levels
 * only needs less):
 *
 *   peak ≈ S + W
 *
 *   S  the skip stack, every tensor the encoder saves for the decoder: conv_in's output, each
 *      encoder block's output c_l·s_l², each downsample's output c_l·(s_l/2)². All of it is live
 *      when the decoder starts.
 *   W  the largest working set of one operation, over every block of the network:
 *      - a res block: input + 2 × output (the input, conv1's output and the block's output live
 *        together; the norms and conv2 reuse or free their temporaries); a decoder block's input
 *        is the concatenation of h and the skip;
 *      - an attention: 4 × c·s² (q, k, v, output) + 2 × heads × (s²)² (the score matrix before and
 *        after softmax);
 *      - a conv (conv_in, downsample, upsample, conv_out): input + output, an upsample's input
 *        counted at the finer size (the nearest ×2 copy) plus the coarse original.
 *
 * Bytes = 4 × batch × peak. The time embedding and the weights are not counted (the weights are
 * 4 × `parameterCount(spec)` bytes, independent of the batch). Backends keep some extra
 * temporaries (im2col buffers, tfjs's gradients in training), so treat the result as a lower
 * bound of the real peak for inference and compare it with a limit that leaves headroom.
 */
import { describeArchitecture, type ResBlockDescription } from '../geometry/architecture.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import type { UNetSpec } from './unet-spec.js';

const bytesPerFloat = 4;

function resBlockFloats(block: ResBlockDescription, size: number): number {
  const area = size * size;
  return block.inChannels * area + 2 * block.outChannels * area;
}

function attentionFloats(channels: number, heads: number, size: number): number {
  const area = size * size;
  return 4 * channels * area + 2 * heads * area * area;
}

/** The estimate's parts, in float32 values per sample (see the module comment). */
export interface ActivationEstimate {
  /** S: the skip stack. */
  readonly skipFloats: number;
  /** W: the largest working set of one operation. */
  readonly largestOperationFloats: number;
  /** S + W. */
  readonly perSampleFloats: number;
}

/** The parts of `estimateActivationBytes`, per sample. */
export function estimateActivationFloats(spec: UNetSpec): ActivationEstimate {
  const arch = describeArchitecture(spec);
  const sizes = arch.sizes;
  const size = (l: number): number => sizes[l]!;

  let skip = arch.channels[0]! * size(0) * size(0);
  let largest = (spec.inChannels + arch.convIn.outChannels) * size(0) * size(0);
  const consider = (floats: number): void => {
    if (floats > largest) largest = floats;
  };

  for (const level of arch.encoder) {
    for (const block of level.blocks) {
      consider(resBlockFloats(block, level.size));
      skip += level.channels * level.size * level.size;
    }
    for (const attention of level.attentions) consider(attentionFloats(attention.channels, attention.heads, level.size));
    if (level.downsample) {
      const half = level.size / 2;
      skip += level.channels * half * half;
      consider(level.channels * level.size * level.size + level.channels * half * half);
    }
  }
  for (const block of arch.middle.blocks) consider(resBlockFloats(block, arch.middle.size));
  if (arch.middle.attention) consider(attentionFloats(arch.middle.attention.channels, arch.middle.attention.heads, arch.middle.size));
  for (const decoder of arch.decoders) {
    for (const level of decoder.levels) {
      for (const block of level.blocks) consider(resBlockFloats(block, level.size));
      for (const attention of level.attentions) consider(attentionFloats(attention.channels, attention.heads, level.size));
      if (level.upsample) {
        const fine = level.size * 2;
        consider(level.channels * level.size * level.size + (level.upsample.inChannels + level.upsample.outChannels) * fine * fine);
      }
    }
    consider((decoder.convOut.inChannels + decoder.convOut.outChannels) * size(0) * size(0));
  }
  return { skipFloats: skip, largestOperationFloats: largest, perSampleFloats: skip + largest };
}

/**
 * Estimates the peak activation memory, in bytes, of one forward pass of `batch` samples (at
 * k = 0, float32): 4 × batch × (skip stack + largest single-operation working set). See the module
 * comment for what is counted. Use it to refuse a request before allocating.
 *
 * @throws LevelskipError `INVALID_OPTION` when `batch` is not a positive integer.
 */
export function estimateActivationBytes(spec: UNetSpec, batch: number): number {
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new LevelskipError('INVALID_OPTION', `batch must be a positive integer, got ${String(batch)}`);
  }
  return bytesPerFloat * batch * estimateActivationFloats(spec).perSampleFloats;
}
