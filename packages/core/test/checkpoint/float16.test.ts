/**
 * Half and bfloat16 bit patterns computed by hand from the IEEE 754 layouts (each derivation
 * written next to the case) and cross-checked once against numpy's float32→float16 cast and
 * PyTorch's float32→bfloat16 cast, both round-to-nearest-even.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from '../../src/checkpoint/float16.js';

describe('float32ToFloat16Bits', () => {
  // [value, expected bits, derivation]
  const cases: [number, number, string][] = [
    [1, 0x3c00, 'exponent 15 = 0b01111, mantissa 0'],
    [-2, 0xc000, 'sign 1, exponent 16 = 0b10000'],
    [65504, 0x7bff, '(2 - 2^-10) * 2^15, the largest finite half'],
    [2 ** -24, 0x0001, 'smallest subnormal'],
    [2 ** -14, 0x0400, 'smallest normal'],
    [0.1, 0x2e66, 'float32 0x3DCCCCCD: exponent -4 -> 11, mantissa 0x4CCCCD >> 13 = 0x266, dropped 0x0CCD < half'],
    [1 / 3, 0x3555, 'exponent -2 -> 13, mantissa 0101010101, dropped bits 0101... < half'],
    [-0, 0x8000, 'negative zero keeps its sign'],
    [Infinity, 0x7c00, 'infinity'],
    [-Infinity, 0xfc00, 'negative infinity'],
    [65519, 0x7bff, 'below the midpoint 65520 between 65504 and 2^16'],
    [65520, 0x7c00, 'tie between 65504 (odd mantissa 0x3FF) and 2^16: even side overflows to infinity'],
    [1e10, 0x7c00, 'overflow'],
    [2 ** -25, 0x0000, 'tie between 0 and 2^-24: even is 0'],
    [3 * 2 ** -26, 0x0001, '1.5 * 2^-25, above the midpoint'],
    [3 * 2 ** -25, 0x0002, '1.5 * 2^-24, tie between 0x0001 and 0x0002: even is 0x0002'],
    [2047 * 2 ** -25, 0x0400, '1023.5 * 2^-24, tie between 0x03FF and 0x0400: even is 0x0400'],
    [1e-10, 0x0000, 'below 2^-25'],
    [1 + 2 ** -11, 0x3c00, 'tie between 1 and 1 + 2^-10: even is 1'],
    [1 + 3 * 2 ** -11, 0x3c02, 'tie between 0x3C01 and 0x3C02: even is 0x3C02'],
    [1 + 2 ** -11 + 2 ** -20, 0x3c01, 'just above the tie'],
  ];
  it.each(cases)('%s -> %#x (%s)', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN (exponent all ones, non-zero mantissa)', () => {
    const bits = float32ToFloat16Bits(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
  });
});

describe('float16BitsToFloat32', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3555, 0.333251953125], // (1024 + 0x155) / 1024 * 2^-2
    [0x2e66, 0.0999755859375], // (1024 + 0x266) / 1024 * 2^-4 = 1638 / 16384
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  it.each(cases)('%#x -> %s', (bits, value) => {
    expect(float16BitsToFloat32(bits)).toBe(value);
  });

  it('decodes -0 and NaN', () => {
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
    expect(float16BitsToFloat32(0xfc01)).toBeNaN();
  });

  it('round-trips every non-NaN half bit pattern exactly', () => {
    const failures: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (!isNaN && float32ToFloat16Bits(float16BitsToFloat32(bits)) !== bits) failures.push(bits);
    }
    expect(failures).toEqual([]);
  });

  it('encodes to the nearest half (property)', () => {
    fc.assert(
      fc.property(fc.float({ min: -65504, max: 65504, noNaN: true }), (x) => {
        const y = float16BitsToFloat32(float32ToFloat16Bits(x));
        // Half has 11 significant bits: the error is at most half a unit in the last place,
        // 2^(e-11) for |x| in [2^e, 2^(e+1)), and at most 2^-25 in the subnormal range.
        const e = Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -14)), -14);
        expect(Math.abs(y - x)).toBeLessThanOrEqual(2 ** (e - 11));
      }),
    );
  });
});

describe('bfloat16', () => {
  const float32FromBits = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
  // [float32 bits, expected bfloat16 bits, derivation]
  const cases: [number, number, string][] = [
    [0x3f800000, 0x3f80, '1.0: the top half'],
    [0xc0000000, 0xc000, '-2'],
    [0x40400000, 0x4040, '3'],
    [0x3dcccccd, 0x3dcd, '0.1: dropped 0xCCCD > 0x8000 rounds up'],
    [0x3f808000, 0x3f80, '1 + 2^-8: tie, 0x3F80 is even'],
    [0x3f818000, 0x3f82, '1 + 3 * 2^-8: tie, 0x3F81 is odd so round up'],
    [0x3f808001, 0x3f81, 'just above the tie'],
    [0x7f7fffff, 0x7f80, 'largest float32 rounds to infinity'],
    [0x7f800000, 0x7f80, 'infinity'],
    [0xff800000, 0xff80, 'negative infinity'],
    [0x00000001, 0x0000, 'smallest float32 subnormal rounds to 0'],
    [0x00008000, 0x0000, 'subnormal tie, even side is 0'],
    [0x00018000, 0x0002, 'subnormal tie, odd 0x0001 rounds up'],
  ];
  it.each(cases)('float32 %#x -> %#x (%s)', (bits, expected) => {
    expect(float32ToBfloat16Bits(float32FromBits(bits))).toBe(expected);
  });

  it('keeps NaN a NaN even when the payload is only in the dropped bits', () => {
    const bits = float32ToBfloat16Bits(float32FromBits(0x7f800001));
    expect(bits & 0x7f80).toBe(0x7f80);
    expect(bits & 0x7f).not.toBe(0);
  });

  it('decodes bit patterns', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0x4049)).toBe(3.140625); // 0x40490000 = 1.5703125 * 2
    expect(bfloat16BitsToFloat32(0xc000)).toBe(-2);
    expect(bfloat16BitsToFloat32(0x7f80)).toBe(Infinity);
    expect(bfloat16BitsToFloat32(0x0001)).toBe(2 ** -133); // float32 0x00010000 = 2^16 * 2^-149
    expect(bfloat16BitsToFloat32(0x7fc0)).toBeNaN();
  });
});
