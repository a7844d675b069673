/**
 * The memory a training run needs, estimated from the spec and the batch size before anything is
 * allocated, so that a batch too large for the machine fails at once with an error that says how
 * to override the limit, instead of growing for minutes and dying with a raw RangeError or an
 * out-of-memory kill.
 *
 * The estimate is deliberately simple and on the high side: the forward activations of one image
 * at full depth (k = 0, every decoder of a multi-decoder U-Net), counted tensor by tensor as the
 * tfjs graph keeps them for the backward pass, times the batch, times 3 (the forward activations
 * are kept, and the backward pass holds gradients of about the same size at its peak), plus six
 * copies of the parameters (raw, EMA, Adam m and v, gradients, the update's temporaries).
 *
 * Why not a multiple of core's `estimateActivationBytes`: that is the peak of an inference pass
 * (the skip stack plus the largest single operation, intermediates freed as it goes), whereas
 * tfjs's gradient tape keeps every intermediate of the forward pass until the backward pass has
 * used it. For mnistSmall the tape is 9.7 MB per image against core's 1.06 MB inference peak; a
 * process that had trained one step at batch 8 on the cpu engine was 494 MB resident (Node and
 * tfjs themselves included), where this estimate says 291 MiB and 4 × core's would say 34 MB.
 */
import { totalmem } from 'node:os';
import { describeArchitecture, parameterLayout, type AttentionDescription, type ResBlockDescription, type UNetSpec } from '@levelskip/core';

const floatBytes = 4;
/** Backward pass: forward activations kept + gradients of about the same size at the peak, + slack. */
const backwardFactor = 3;
/** Parameter-sized tensors alive during a step: raw, EMA, Adam m, Adam v, gradients, update temporaries. */
const parameterCopies = 6;

/** Floats a res block keeps per image at spatial size `size`: 2 norms, 2 activations, 2 convs, the time embedding's sum, the shortcut, the residual sum. */
function resBlockFloats(block: ResBlockDescription, size: number, spec: UNetSpec): number {
  const perPass = (2 * block.inChannels + (block.hasShortcut ? 7 : 6) * block.outChannels) * size * size;
  if (block.kind === 'resnet') return perPass;
  // ode2: every solver stage of every step evaluates the block's field once.
  const stages = spec.ode.solver === 'rk4' ? 4 : 1;
  return perPass * spec.ode.steps * stages;
}

/** Floats an attention block keeps per image: norm, q, k, v, output, residual, and the heads' score and softmax matrices. */
function attentionFloats(attention: AttentionDescription, size: number): number {
  const pixels = size * size;
  return 6 * attention.channels * pixels + 2 * attention.heads * pixels * pixels;
}

/** Float32 bytes of one image's forward activations at full depth (an overestimate rather than an under-). */
export function activationBytesPerImage(spec: UNetSpec): number {
  const arch = describeArchitecture(spec);
  let floats = spec.inChannels * spec.imageSize * spec.imageSize + arch.convIn.outChannels * spec.imageSize * spec.imageSize;
  for (const level of arch.encoder) {
    for (const block of level.blocks) floats += resBlockFloats(block, level.size, spec);
    for (const attention of level.attentions) floats += attentionFloats(attention, level.size);
    if (level.downsample !== undefined) floats += level.downsample.outChannels * (level.size / 2) ** 2;
  }
  for (const block of arch.middle.blocks) floats += resBlockFloats(block, arch.middle.size, spec);
  if (arch.middle.attention !== undefined) floats += attentionFloats(arch.middle.attention, arch.middle.size);
  for (const decoder of arch.decoders) {
    for (const level of decoder.levels) {
      for (const block of level.blocks) floats += block.inChannels * level.size * level.size + resBlockFloats(block, level.size, spec);
      for (const attention of level.attentions) floats += attentionFloats(attention, level.size);
      // Nearest ×2 upsample, then a 3×3 conv at the doubled size.
      if (level.upsample !== undefined) floats += 2 * level.upsample.outChannels * (2 * level.size) ** 2;
    }
    floats += (3 * decoder.normOut.channels + decoder.convOut.outChannels) * spec.imageSize * spec.imageSize;
  }
  return floats * floatBytes;
}

/** The parts of a training run's estimated memory (bytes). */
export interface TrainingMemoryEstimate {
  /** Activations of a batch, forward and backward. */
  readonly activations: number;
  /** Parameters, EMA, Adam moments, gradients. */
  readonly parameters: number;
  readonly total: number;
}

/** Estimates the memory of a training step of `batchSize` images (see the file comment). */
export function estimateTrainingMemory(spec: UNetSpec, batchSize: number): TrainingMemoryEstimate {
  const parameterFloats = parameterLayout(spec).reduce((sum, entry) => sum + entry.shape.reduce((a, b) => a * b, 1), 0);
  const activations = activationBytesPerImage(spec) * batchSize * backwardFactor;
  const parameters = parameterFloats * floatBytes * parameterCopies;
  return { activations, parameters, total: activations + parameters };
}

/** The default `maxMemoryBytes`: half of this machine's physical memory. */
export function defaultMaxTrainingMemoryBytes(): number {
  return Math.floor(totalmem() / 2);
}

/** `1.5 GiB`, `320 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} bytes` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
