import { describe, expect, it } from 'vitest';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { flopTable, flopsAtDepth } from '../../src/geometry/flops.js';
import { levelGeometry } from '../../src/geometry/level-geometry.js';
import { predictedTimeSaved, sampledTimesteps } from '../../src/geometry/predicted-time-saved.js';
import type { SkipSchedule } from '../../src/schedules/skip-schedule.js';
import { ddpmCifar10 } from '../../src/spec/presets.js';

// A 2-level U-Net small enough to count by hand: 8×8 and 4×4, channels 4 and 8, one block a level.
const tiny = parseUNetSpec({
  imageSize: 8,
  inChannels: 1,
  baseChannels: 4,
  channelMults: [1, 2],
  resBlocks: 1,
  midAttention: false,
  groups: 2,
  timeEmbedDim: 16,
});

// Hand count (2 FLOPs per multiply-accumulate; conv = 2·Cin·Cout·k²·H·W):
const time = 2 * (4 * 16 + 16 * 16); // 640
const input = 2 * 1 * 4 * 9 * 64; // 4608
const encoder0 = 2 * (2 * 4 * 4 * 9 * 64) + 2 * 16 * 4; // two 4→4 convs at 8×8 + time projection = 36992
const down0 = 2 * 4 * 4 * 9 * 16; // 4608
const encoder1 = 2 * 4 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 4 * 8 * 16 + 2 * 16 * 8; // 28928
const middle = 2 * (2 * (2 * 8 * 8 * 9 * 16) + 2 * 16 * 8); // 74240
// Decoder level 1: inputs 8+8 → 8 and 8+4 → 8 at 4×4, each with a 1×1 shortcut.
const decoder1 =
  2 * 16 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 16 * 8 * 16 + 2 * 16 * 8 +
  (2 * 12 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 12 * 8 * 16 + 2 * 16 * 8); // 109056
const up1 = 2 * 8 * 8 * 9 * 64; // 73728
// Decoder level 0: inputs 8+4 → 4 and 4+4 → 4 at 8×8.
const decoder0 =
  2 * 12 * 4 * 9 * 64 + 2 * 4 * 4 * 9 * 64 + 2 * 12 * 4 * 64 + 2 * 16 * 4 +
  (2 * 8 * 4 * 9 * 64 + 2 * 4 * 4 * 9 * 64 + 2 * 8 * 4 * 64 + 2 * 16 * 4); // 139520
const output = 2 * 4 * 1 * 9 * 64; // 4608

describe('FLOP accounting', () => {
  it('matches a hand count per part', () => {
    const table = flopTable(tiny);
    expect(table.time).toBe(640);
    expect(table.input).toBe(4608);
    expect(table.middle).toBe(74240);
    expect(table.output).toEqual([4608]);
    expect(table.levels[0]).toMatchObject({ encoder: 36992, downsample: 4608, decoder: [139520], upsample: [0] });
    expect(table.levels[1]).toMatchObject({ encoder: 28928, downsample: 0, decoder: [109056], upsample: [73728] });
  });

  it('sums the parts that run at each depth', () => {
    const table = flopTable(tiny);
    const full = time + input + encoder0 + down0 + encoder1 + middle + decoder1 + up1 + decoder0 + output;
    expect(full).toBe(476928);
    expect(flopsAtDepth(table, 0)).toBe(full);
    // k = 1: level 1, its downsample, the middle block and level 1's upsample are skipped.
    expect(flopsAtDepth(table, 1)).toBe(time + input + encoder0 + decoder0 + output);
    expect(flopsAtDepth(table, 1)).toBe(186368);
    expect(() => flopsAtDepth(table, 2)).toThrow(/k must be an integer in \[0, 1\]/);
  });

  it('describes shapes at every boundary for each k', () => {
    const geometry = levelGeometry(tiny);
    expect(geometry).toHaveLength(2);
    const [full, skipped] = geometry as [(typeof geometry)[0], (typeof geometry)[0]];
    expect(full.fillShape).toBeUndefined();
    // conv_in, r_0, d_0, r_1
    expect(full.skipShapes).toEqual([[1, 4, 8, 8], [1, 4, 8, 8], [1, 4, 4, 4], [1, 8, 4, 4]]);
    // k = 1: the fill stands in for level 1's upsampled output: 8 channels at 8×8.
    expect(skipped.cutLevel).toBe(0);
    expect(skipped.fillShape).toEqual([1, 8, 8, 8]);
    expect(skipped.skipShapes).toEqual([[1, 4, 8, 8], [1, 4, 8, 8]]);
    expect(skipped.outputShape).toEqual([1, 1, 8, 8]);
    expect(skipped.parameters).toBeLessThan(full.parameters);
  });

  it('predicts time saved from FLOPs', () => {
    const alwaysSkip: SkipSchedule = { kind: 'custom', description: 'k=1', kAt: () => 1, toJSON: () => undefined };
    const halfSkip: SkipSchedule = { kind: 'custom', description: 'half', kAt: (t) => (t >= 0.5 ? 1 : 0), toJSON: () => undefined };
    expect(predictedTimeSaved(tiny, alwaysSkip, [999, 500, 0]).fractionSaved).toBeCloseTo(1 - 186368 / 476928, 12);
    const half = predictedTimeSaved(tiny, halfSkip, [750, 250]);
    expect(half.ks).toEqual([1, 0]);
    expect(half.fractionSaved).toBeCloseTo((1 - 186368 / 476928) / 2, 12);
  });

  it('spaces step counts like diffusers "leading"', () => {
    expect(sampledTimesteps(4, 1000)).toEqual([750, 500, 250, 0]);
    expect(sampledTimesteps(3, 1000)).toEqual([666, 333, 0]);
  });

  it('ranks the DDPM CIFAR-10 levels sensibly', () => {
    const geometry = levelGeometry(parseUNetSpec(ddpmCifar10));
    const flops = geometry.map((g) => g.flops);
    for (let k = 1; k < flops.length; k++) expect(flops[k]).toBeLessThan(flops[k - 1]!);
    // Skipping everything but the full-resolution level leaves well under half the work.
    expect(flops[3]! / flops[0]!).toBeLessThan(0.5);
  });
});
