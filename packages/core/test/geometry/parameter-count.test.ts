import { describe, expect, it } from 'vitest';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { ddpmCifar10, mnistSmall } from '../../src/spec/presets.js';
import { parameterCount, parameterLayout } from '../../src/geometry/parameter-layout.js';

// Hand formulas, written independently of parameterLayout: conv = i·o·k² + o, linear = i·o + o, GroupNorm = 2c.
const conv = (i: number, o: number, k: number): number => i * o * k * k + o;
const linear = (i: number, o: number): number => i * o + o;
const norm = (c: number): number => 2 * c;
const resnet = (i: number, o: number, t: number): number =>
  norm(i) + conv(i, o, 3) + linear(t, o) + norm(o) + conv(o, o, 3) + (i === o ? 0 : conv(i, o, 1));
const attention = (c: number): number => norm(c) + 4 * linear(c, c);

describe('parameter counts', () => {
  it('DDPM CIFAR-10 U-Net has the published 35.7M parameters (35,746,307 in google/ddpm-cifar10-32)', () => {
    // Ho et al. 2020, Appendix B: "Our CIFAR10 model has 35.7 million parameters".
    const t = 512;
    const timeAndIo = linear(128, t) + linear(t, t) + conv(3, 128, 3) + norm(128) + conv(128, 3, 3);
    // Encoder: level 0 (128), level 1 (256, attention), levels 2-3 (256), downsamplers on 0-2.
    const encoder =
      2 * resnet(128, 128, t) +
      (resnet(128, 256, t) + resnet(256, 256, t) + 2 * attention(256)) +
      4 * resnet(256, 256, t) +
      conv(128, 128, 3) + 2 * conv(256, 256, 3);
    const middle = 2 * resnet(256, 256, t) + attention(256);
    // Decoder (3 blocks a level; inputs = h + skip): level 3: 256+256, 256+256, 256+256; level 2: same;
    // level 1: 256+256, 256+256, 256+128 with attention; level 0: 256+128, 128+128, 128+128.
    const decoder =
      6 * resnet(512, 256, t) +
      (2 * resnet(512, 256, t) + resnet(384, 256, t) + 3 * attention(256)) +
      (resnet(384, 128, t) + 2 * resnet(256, 128, t)) +
      3 * conv(256, 256, 3);
    const expected = timeAndIo + encoder + middle + decoder;
    expect(expected).toBe(35_746_307);
    expect(parameterCount(parseUNetSpec(ddpmCifar10))).toBe(expected);
  });

  it('uses diffusers UNet2DModel tensor names and PyTorch shapes', () => {
    const layout = new Map(parameterLayout(parseUNetSpec(ddpmCifar10)).map((e) => [e.name, e.shape]));
    expect(layout.get('time_embedding.linear_1.weight')).toEqual([512, 128]);
    expect(layout.get('conv_in.weight')).toEqual([128, 3, 3, 3]);
    expect(layout.get('down_blocks.0.resnets.1.conv2.weight')).toEqual([128, 128, 3, 3]);
    expect(layout.get('down_blocks.1.resnets.0.conv_shortcut.weight')).toEqual([256, 128, 1, 1]);
    expect(layout.get('down_blocks.1.attentions.0.to_q.weight')).toEqual([256, 256]);
    expect(layout.get('down_blocks.2.downsamplers.0.conv.weight')).toEqual([256, 256, 3, 3]);
    expect(layout.has('down_blocks.3.downsamplers.0.conv.weight')).toBe(false);
    expect(layout.get('mid_block.attentions.0.to_out.0.bias')).toEqual([256]);
    // up_blocks are numbered deepest first: up_blocks.3 is full resolution.
    expect(layout.get('up_blocks.3.resnets.0.conv1.weight')).toEqual([128, 384, 3, 3]);
    expect(layout.get('up_blocks.2.attentions.2.group_norm.weight')).toEqual([256]);
    expect(layout.get('up_blocks.0.upsamplers.0.conv.weight')).toEqual([256, 256, 3, 3]);
    expect(layout.has('up_blocks.3.upsamplers.0.conv.weight')).toBe(false);
    expect(layout.get('conv_out.weight')).toEqual([3, 128, 3, 3]);
  });

  it('adds side paths and stage decoders under their own prefixes', () => {
    const spec = parseUNetSpec({
      imageSize: 8,
      inChannels: 1,
      baseChannels: 8,
      channelMults: [1, 2, 2],
      resBlocks: 1,
      groups: 4,
      sidePaths: true,
      decoderStages: [
        { tStart: 0, tEnd: 0.5, baseChannels: 8 },
        { tStart: 0.5, tEnd: 1, baseChannels: 4 },
      ],
    });
    const layout = new Map(parameterLayout(spec).map((e) => [e.name, e.shape]));
    expect(layout.get('side_paths.encoder.0.weight')).toEqual([16, 8, 1, 1]);
    expect(layout.get('side_paths.encoder.1.weight')).toEqual([16, 16, 1, 1]);
    expect(layout.has('side_paths.encoder.2.weight')).toBe(false);
    // Stage 1's decoder is half as wide: level 1 has 8 channels, so the path to cut level 0 outputs 8.
    expect(layout.get('decoders.1.side_paths.decoder.0.weight')).toEqual([8, 16, 1, 1]);
    expect(layout.get('decoders.1.up_blocks.2.resnets.0.conv1.weight')).toEqual([4, 8 + 8, 3, 3]);
    expect(layout.has('up_blocks.0.resnets.0.conv1.weight')).toBe(false);
  });

  it('counts the mnistSmall preset', () => {
    const spec = parseUNetSpec(mnistSmall);
    const n = parameterCount(spec);
    expect(n).toBeGreaterThan(1e6);
    expect(n).toBeLessThan(5e6);
  });
});
