import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { LevelskipError } from '../../src/errors/levelskip-error.js';
import { errorOf } from '../support/level-skip-errors.js';
import { parseUNetSpec, validateUNetSpec } from '../../src/spec/unet-spec.js';
import { ddpmCifar10, mnistSmall } from '../../src/spec/presets.js';

const specError = (input: unknown): LevelskipError => errorOf(() => parseUNetSpec(input));

describe('parseUNetSpec', () => {
  it('fills defaults', () => {
    const spec = parseUNetSpec({ imageSize: 16, baseChannels: 32, channelMults: [1, 2] });
    expect(spec.inChannels).toBe(3);
    expect(spec.outChannels).toBe(3);
    expect(spec.resBlocks).toBe(2);
    expect(spec.groups).toBe(32);
    expect(spec.timeEmbedDim).toBe(128);
    expect(spec.block).toBe('resnet');
    expect(spec.sidePaths).toBe(false);
    expect(spec.prediction).toBe('eps');
    expect(spec.trainTimesteps).toBe(1000);
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it('accepts both presets', () => {
    expect(parseUNetSpec(ddpmCifar10).channelMults).toEqual([1, 2, 2, 2]);
    expect(parseUNetSpec(mnistSmall).channelMults).toHaveLength(4);
  });

  it('reports every problem with its path', () => {
    const error = specError({ imageSize: 30, baseChannels: 32, channelMults: [1, 2, 2], attentionLevels: [5], dropout: 1.5 });
    expect(error.code).toBe('INVALID_SPEC');
    const paths = error.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('dropout');
    expect(error.message).toContain('dropout');
  });

  it('rejects an image size the levels cannot halve, naming the field', () => {
    const error = specError({ imageSize: 30, baseChannels: 32, channelMults: [1, 2, 2] });
    expect(error.issues[0]!.path).toEqual(['imageSize']);
    expect(error.message).toMatch(/divisible by 2\^\(N-1\) = 4/);
  });

  it('rejects attention at a level that does not exist', () => {
    const error = specError({ imageSize: 16, baseChannels: 32, channelMults: [1, 2], attentionLevels: [0, 2] });
    expect(error.issues.map((i) => i.path)).toContainEqual(['attentionLevels', 1]);
  });

  it('rejects unknown fields (typos) instead of ignoring them', () => {
    const error = specError({ imageSize: 16, baseChannels: 32, channelMults: [1, 2], chMult: [1] });
    expect(error.message).toContain('chMult');
  });

  it('rejects group counts that do not divide a level', () => {
    const error = specError({ imageSize: 8, baseChannels: 24, channelMults: [1, 2], groups: 16 });
    expect(error.issues[0]!.path).toEqual(['baseChannels']);
    expect(error.message).toContain('not divisible by groups = 16');
  });

  it('validates decoder stages: contiguous, covering [0, 1]', () => {
    const base = { imageSize: 8, baseChannels: 8, channelMults: [1, 2], groups: 4 };
    const gap = specError({ ...base, decoderStages: [{ tStart: 0, tEnd: 0.4, baseChannels: 8 }, { tStart: 0.5, tEnd: 1, baseChannels: 4 }] });
    expect(gap.issues.map((i) => i.path)).toContainEqual(['decoderStages', 1, 'tStart']);
    const short = specError({ ...base, decoderStages: [{ tStart: 0, tEnd: 0.9, baseChannels: 8 }] });
    expect(short.issues.map((i) => i.path)).toContainEqual(['decoderStages', 0, 'tEnd']);
    const ok = parseUNetSpec({ ...base, decoderStages: [{ tStart: 0, tEnd: 0.442, baseChannels: 8 }, { tStart: 0.442, tEnd: 1, baseChannels: 4 }] });
    expect(ok.decoderStages).toHaveLength(2);
  });

  it('offers an Either for callers who prefer values', () => {
    expect(E.isRight(validateUNetSpec(mnistSmall))).toBe(true);
    const bad = validateUNetSpec({ imageSize: -1 });
    expect(E.isLeft(bad) && bad.left.code === 'INVALID_SPEC').toBe(true);
  });
});
