/**
 * Named architectures. Each is a `UNetSpecInput`; pass it through `parseUNetSpec`
 * (or any backend's `createDenoiser`) to get the validated spec.
 */
import type { UNetSpecInput } from './unet-spec.js';

/**
 * The DDPM CIFAR-10 U-Net (Ho et al. 2020; diffusers `google/ddpm-cifar10-32`):
 * 128 base channels, multipliers [1, 2, 2, 2], 2 res blocks per level, attention at
 * 16×16 (level 1) and in the middle block: 35.7M parameters.
 */
export const ddpmCifar10 = {
  imageSize: 32,
  inChannels: 3,
  baseChannels: 128,
  channelMults: [1, 2, 2, 2],
  resBlocks: 2,
  attentionLevels: [1],
  midAttention: true,
  groups: 32,
  dropout: 0.1,
  flipSinToCos: false,
  freqShift: 1,
  downsamplePadding: 0,
} as const satisfies UNetSpecInput;

/**
 * A small U-Net for MNIST padded to 32×32: N = 4 levels (32, 16, 8, 4),
 * 32 base channels, multipliers [1, 2, 2, 4], attention at 8×8 and in the middle.
 */
export const mnistSmall = {
  imageSize: 32,
  inChannels: 1,
  baseChannels: 32,
  channelMults: [1, 2, 2, 4],
  resBlocks: 1,
  attentionLevels: [2],
  midAttention: true,
  groups: 8,
  dropout: 0,
} as const satisfies UNetSpecInput;

/** Every preset by name (the model zoo's architectures). */
export const presets = { ddpmCifar10, mnistSmall } as const;
export type PresetName = keyof typeof presets;
