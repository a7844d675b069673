import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { philox4x32, philox4x32Into, philox4x32KeyedInto, philoxRoundKeys } from '../../src/random/philox.js';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { referencePhilox4x32 } from './philox-reference.js';

/*
 * Random123 tests/kat_vectors (DEShawResearch/random123), the philox4x32 lines, verbatim:
 *   name  R  CTR[4]                              KEY[2]              EXPECTED[4]
 *   philox4x32 7 00000000 00000000 00000000 00000000 00000000 00000000   5f6fb709 0d893f64 4f121f81 4f730a48
 *   philox4x32 7 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   5207ddc2 45165e59 4d8ee751 8c52f662
 *   philox4x32 7 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   4dfccaba 190a87f0 c47362ba b6b5242a
 *   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
 *   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
 */
const KAT_VECTORS = `
philox4x32 7 00000000 00000000 00000000 00000000 00000000 00000000   5f6fb709 0d893f64 4f121f81 4f730a48
philox4x32 7 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   5207ddc2 45165e59 4d8ee751 8c52f662
philox4x32 7 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   4dfccaba 190a87f0 c47362ba b6b5242a
philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
`
  .trim()
  .split('\n')
  .map((line) => {
    const [, rounds, ...words] = line.trim().split(/\s+/);
    const values = words.map((word) => Number.parseInt(word, 16));
    return {
      line,
      rounds: Number(rounds),
      counter: values.slice(0, 4) as [number, number, number, number],
      key: values.slice(4, 6) as [number, number],
      expected: values.slice(6, 10),
    };
  });

const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('philox4x32 known-answer vectors (Random123)', () => {
  it.each(KAT_VECTORS)('$line', ({ rounds, counter, key, expected }) => {
    expect(philox4x32(counter, key, rounds)).toEqual(expected);
    expect(referencePhilox4x32(counter, key, rounds)).toEqual(expected);
  });

  it('defaults to 10 rounds', () => {
    expect(philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });
});

describe('philox4x32 agrees with a BigInt reference', () => {
  it('on random counters, keys and round counts', () => {
    fc.assert(
      fc.property(fc.tuple(u32, u32, u32, u32), fc.tuple(u32, u32), fc.integer({ min: 1, max: 16 }), (counter, key, rounds) => {
        expect(philox4x32(counter, key, rounds)).toEqual(referencePhilox4x32(counter, key, rounds));
      }),
      { numRuns: 300 },
    );
  });

  it('philox4x32Into writes the same words at an offset', () => {
    const out = new Uint32Array(8);
    philox4x32Into(out, 4, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });
});

describe('philox4x32 validation', () => {
  it.each<[string, () => unknown, string]>([
    ['negative word', () => philox4x32([0, 0, 0, -1], [0, 0]), 'counter'],
    ['2^32', () => philox4x32([0, 0, 0, 2 ** 32], [0, 0]), 'counter'],
    ['short counter', () => philox4x32([0, 0, 0] as unknown as [number, number, number, number], [0, 0]), 'counter'],
    ['fractional key', () => philox4x32([0, 0, 0, 0], [0.5, 0]), 'key'],
    ['rounds 0', () => philox4x32([0, 0, 0, 0], [0, 0], 0), 'rounds'],
    ['rounds 17', () => philox4x32([0, 0, 0, 0], [0, 0], 17), 'rounds'],
  ])('rejects %s with INVALID_OPTION', (_name, call, fragment) => {
    try {
      call();
      expect.unreachable();
    } catch (error) {
      expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
      expect((error as Error).message).toContain(fragment);
    }
  });
});

describe('philox4x32KeyedInto (precomputed round keys)', () => {
  it('gives the Random123 10-round known answers', () => {
    for (const { rounds, counter, key, expected } of KAT_VECTORS.filter((v) => v.rounds === 10)) {
      expect(rounds).toBe(10);
      const out = new Uint32Array(6);
      philox4x32KeyedInto(out, 1, ...counter, philoxRoundKeys(...key));
      expect([...out.slice(1, 5)]).toEqual(expected);
      expect(out[0]).toBe(0);
      expect(out[5]).toBe(0);
    }
  });

  it('agrees with the BigInt reference on random counters and keys', () => {
    fc.assert(
      fc.property(fc.tuple(u32, u32, u32, u32), fc.tuple(u32, u32), (counter, key) => {
        const out = new Uint32Array(4);
        philox4x32KeyedInto(out, 0, ...counter, philoxRoundKeys(...key));
        expect([...out]).toEqual(referencePhilox4x32(counter, key, 10));
      }),
      { numRuns: 300 },
    );
  });
});
