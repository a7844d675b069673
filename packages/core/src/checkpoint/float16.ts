/**
 * IEEE 754 binary16 (half) and bfloat16 conversions for the safetensors F16/BF16 dtypes.
 *
 * binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits; subnormals below 2^-14,
 * the smallest being 2^-24. bfloat16: the top 16 bits of a binary32 (8 exponent bits, 7 mantissa
 * bits). Encoding rounds to nearest, ties to even (IEEE 754 §4.3.1), as PyTorch's `.half()` and
 * `.bfloat16()` do; overflow rounds to ±infinity and NaN stays NaN.
 */

// Scratch views to read a float32's bit pattern without allocating per value.
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

function float32Bits(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0]!;
}

function bitsToFloat32(bits: number): number {
  scratchBits[0] = bits >>> 0;
  return scratchFloat[0]!;
}

/**
 * Encodes a number as binary16 bits, rounding to nearest even. The value is first rounded to
 * float32 (as it would be stored in a `Float32Array`), then to half.
 */
export function float32ToFloat16Bits(value: number): number {
  return float32BitsToFloat16Bits(float32Bits(value));
}

/** `float32ToFloat16Bits` on a float32 bit pattern (bulk encoders read the bits straight from a Uint32Array view). */
export function float32BitsToFloat16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;

  if (exponent === 0xff) {
    // Inf keeps a zero mantissa; NaN is made quiet (0x200) so truncating its payload cannot turn it into Inf.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  // float32 exponent 113 is 2^-14, the smallest half normal.
  if (exponent >= 113) {
    if (exponent > 142) return sign | 0x7c00; // ≥ 2^16: beyond half's range at any rounding.
    let half = ((exponent - 112) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent, and 0x7bff + 1 is 0x7c00 = Inf.
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  // Below 2^-25 everything rounds to zero (2^-25 itself is the tie between 0 and 2^-24).
  if (exponent < 102) return sign;
  // Subnormal half: value / 2^-24 = (1.mantissa) * 2^(e+1); shift the 24-bit significand accordingly.
  const significand = mantissa | 0x800000;
  const shift = 126 - exponent; // 14..24
  let half = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1; // 0x3ff + 1 = 0x400, the smallest normal.
  return sign | half;
}

/** Decodes binary16 bits (the low 16 bits of `bits`) to a number (exactly representable in float32). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * Encodes a number as bfloat16 bits, rounding to nearest even. The value is first rounded to
 * float32 (as it would be stored in a `Float32Array`).
 */
export function float32ToBfloat16Bits(value: number): number {
  return float32BitsToBfloat16Bits(float32Bits(value));
}

/** `float32ToBfloat16Bits` on a float32 bit pattern. */
export function float32BitsToBfloat16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) {
    // NaN: truncate and set the quiet bit so a payload only in the low bits stays NaN.
    return (x >>> 16) | 0x0040;
  }
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into the exponent
  // (even into Inf for the largest finite values) is the correct rounding.
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Decodes bfloat16 bits (the low 16 bits of `bits`) to a number (exactly representable in float32). */
export function bfloat16BitsToFloat32(bits: number): number {
  return bitsToFloat32((bits & 0xffff) << 16);
}

let float16Table: Float32Array | undefined;

/** All 65536 half values indexed by bit pattern (256 KB, built on first use): bulk decoding is one lookup per value. */
export function float16DecodeTable(): Float32Array {
  if (float16Table === undefined) {
    const table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) table[bits] = float16BitsToFloat32(bits);
    float16Table = table;
  }
  return float16Table;
}
