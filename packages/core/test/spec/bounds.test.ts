/**
 * Upper bounds of every numeric spec field (issue 21, item 8), and the activation-memory estimate
 * a caller checks before allocating. Golden estimates are computed by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { LevelskipError } from '../../src/errors/levelskip-error.js';
import { errorOf } from '../support/level-skip-errors.js';
import { parseUNetSpec, unetSpecLimits, type UNetSpecInput } from '../../src/spec/unet-spec.js';
import { presets } from '../../src/spec/presets.js';
import { estimateActivationBytes, estimateActivationFloats } from '../../src/spec/activation-memory.js';

const specError = (input: unknown): LevelskipError => errorOf(() => parseUNetSpec(input));
const base = { imageSize: 32, baseChannels: 32, channelMults: [1, 2] } as const satisfies UNetSpecInput;

describe('real architectures stay within the bounds', () => {
  const real: Record<string, UNetSpecInput> = {
    // diffusers google/ddpm-celebahq-256: block_out_channels [128, 128, 256, 256, 512, 512], attention at 16×16.
    ddpmCelebaHq256: { imageSize: 256, baseChannels: 128, channelMults: [1, 1, 2, 2, 4, 4], resBlocks: 2, attentionLevels: [4], groups: 32 },
    // CompVis/ldm-celebahq-256's U-Net: [224, 448, 672, 896] on 64×64 latents, head dim 32 (7 heads at 224).
    ldmCelebaHq256: { imageSize: 64, inChannels: 3, baseChannels: 224, channelMults: [1, 2, 3, 4], resBlocks: 2, attentionLevels: [1, 2, 3], attentionHeads: 7 },
    // Stable Diffusion 1.x's U-Net layout: [320, 640, 1280, 1280] on 4-channel 64×64 latents, 8 heads.
    stableDiffusion: { imageSize: 64, inChannels: 4, baseChannels: 320, channelMults: [1, 2, 4, 4], resBlocks: 2, attentionLevels: [0, 1, 2], attentionHeads: 8 },
    // Improved DDPM's 4,000-step schedule.
    improvedDdpm: { imageSize: 64, baseChannels: 128, channelMults: [1, 2, 3, 4], resBlocks: 3, attentionLevels: [2, 3], attentionHeads: 4, trainTimesteps: 4000 },
  };

  it.each([...Object.entries(presets), ...Object.entries(real)])('%s validates', (_name, spec) => {
    expect(() => parseUNetSpec(spec)).not.toThrow();
  });

  it('every bound is at its limit still accepted', () => {
    expect(parseUNetSpec({ ...base, trainTimesteps: 100_000 }).trainTimesteps).toBe(100_000);
    expect(parseUNetSpec({ imageSize: 4096, baseChannels: 8192, channelMults: [1], groups: 8192, attentionHeads: 1024, midAttention: true }).imageSize).toBe(4096);
    expect(parseUNetSpec({ ...base, inChannels: 1024, timeEmbedDim: 32768, normEps: 1, freqShift: 1000 }).inChannels).toBe(1024);
  });
});

describe('numeric fields beyond their bound are refused with the path, the limit and the fix', () => {
  const cases: [string, UNetSpecInput, RegExp][] = [
    ['trainTimesteps 2^31 - 1 (aborted V8 in `levelskip info`)', { ...base, trainTimesteps: 2 ** 31 - 1 }, /trainTimesteps: must be at most 100,000 \(DDPM uses 1,000\)/],
    ['imageSize', { ...base, imageSize: 8192 }, /imageSize: must be at most 4,096/],
    ['inChannels', { ...base, inChannels: 5000 }, /inChannels: must be at most 1,024/],
    ['outChannels', { ...base, outChannels: 5000 }, /outChannels: must be at most 1,024/],
    ['baseChannels', { ...base, baseChannels: 16384 }, /baseChannels: must be at most 8,192/],
    ['a channel multiplier', { ...base, channelMults: [1, 100] }, /channelMults\[1\]: must be at most 64/],
    ['the channels of a level', { ...base, baseChannels: 4096, channelMults: [1, 4] }, /level 1 has 16384 channels \(4096 × channelMults\[1\] = 4\), more than the limit of 8,192/],
    ['the number of levels', { ...base, imageSize: 512, channelMults: [1, 1, 1, 1, 1, 1, 1, 1, 1] }, /channelMults: must be at most 8 \(levels N/],
    ['resBlocks', { ...base, resBlocks: 9 }, /resBlocks: must be at most 8/],
    ['attentionHeads', { ...base, attentionHeads: 2048 }, /attentionHeads: must be at most 1,024/],
    ['groups', { ...base, groups: 16384 }, /groups: must be at most 8,192/],
    ['timeEmbedDim', { ...base, timeEmbedDim: 65536 }, /timeEmbedDim: must be at most 32,768/],
    ['normEps', { ...base, normEps: 2 }, /normEps: must be at most 1/],
    ['freqShift', { ...base, freqShift: 1e9 }, /freqShift: must be at most 1,000/],
    ['an attention level', { ...base, attentionLevels: [2 ** 40] }, /attentionLevels\[0\]: must be at most 7/],
    ['the attention level list', { ...base, attentionLevels: [0, 1, 0, 1, 0, 1, 0, 1, 0] }, /attentionLevels: must be at most 8/],
    ['a decoder stage width', { ...base, decoderStages: [{ tStart: 0, tEnd: 1, baseChannels: 10_000 }] }, /decoderStages\[0\]\.baseChannels: must be at most 8,192/],
    ['ode steps', { ...base, block: 'ode2', ode: { steps: 65 } }, /ode\.steps: must be at most 64/],
  ];

  it.each(cases)('%s', (_what, input, message) => {
    const error = specError(input);
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/fix the spec|lower the base width/);
  });

  it('the limits are exported for documentation and callers', () => {
    expect(unetSpecLimits).toMatchObject({ imageSize: 4096, channels: 8192, levels: 8, trainTimesteps: 100_000 });
    expect(Object.isFrozen(unetSpecLimits)).toBe(true);
  });
});

describe('estimateActivationBytes', () => {
  it('matches a hand calculation (two levels, no attention)', () => {
    // imageSize 8 → sizes 8, 4; channels c0 = 4, c1 = 8; R = 1; inChannels = outChannels = 1.
    // Skip stack S: conv_in 4·64 = 256, encoder block (L0) 4·64 = 256, downsample 4·16 = 64,
    //   encoder block (L1) 8·16 = 128 → 704.
    // Largest working set W, decoder level 0 block 0: input concat(h: 8, skip: 4) = 12·64 = 768,
    //   plus 2 × output 4·64 = 512 → 1280. (Others: upsample 8·16 + (8 + 8)·64 = 1152; decoder
    //   level 0 block 1 (4 + 4)·64 + 512 = 1024; encoder L0 block 4·64 + 2·4·64 = 768.)
    // Peak = 704 + 1280 = 1984 floats per sample; batch 3 → 4 × 3 × 1984 = 23,808 bytes.
    const spec = parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 4, channelMults: [1, 2], resBlocks: 1, midAttention: false, groups: 2 });
    expect(estimateActivationFloats(spec)).toEqual({ skipFloats: 704, largestOperationFloats: 1280, perSampleFloats: 1984 });
    expect(estimateActivationBytes(spec, 3)).toBe(23_808);
  });

  it('counts the attention score matrix, which dominates at full resolution', () => {
    // imageSize 16, attention at level 0 with 2 heads: 4·c·s² + 2·heads·(s²)² = 4·4·256 + 2·2·65,536 = 266,240.
    // S: conv_in 4·256 = 1024, encoder L0 block 1024, downsample 4·64 = 256, encoder L1 block 8·64 = 512 → 2,816.
    const spec = parseUNetSpec({
      imageSize: 16,
      inChannels: 1,
      baseChannels: 4,
      channelMults: [1, 2],
      resBlocks: 1,
      attentionLevels: [0],
      attentionHeads: 2,
      midAttention: false,
      groups: 2,
    });
    expect(estimateActivationFloats(spec)).toEqual({ skipFloats: 2816, largestOperationFloats: 266_240, perSampleFloats: 269_056 });
    expect(estimateActivationBytes(spec, 1)).toBe(1_076_224);
  });

  it('grows linearly with the batch, and refuses a batch that is not a positive integer', () => {
    const spec = parseUNetSpec(presets.ddpmCifar10);
    const one = estimateActivationBytes(spec, 1);
    expect(estimateActivationBytes(spec, 100_000)).toBe(100_000 * one);
    // The CIFAR-10 model at batch 100,000 needs hundreds of gigabytes: a caller can refuse it.
    expect(estimateActivationBytes(spec, 100_000)).toBeGreaterThan(100 * 2 ** 30);
    for (const batch of [0, -1, 1.5, Number.NaN, 1e300]) expect(errorOf(() => estimateActivationBytes(spec, batch)).code).toBe('INVALID_OPTION');
  });
});
