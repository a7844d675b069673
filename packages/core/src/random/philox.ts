/**
 * Philox4x32 counter-based random number generator: Salmon, Moraes, Dror & Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11, §3.2, checked against the
 * Random123 known-answer vectors (tests/kat_vectors).
 *
 * A block is a pure function of a 128-bit counter and a 64-bit key, so any position of a
 * stream can be computed directly: that is what makes seeded noise resumable and identical
 * on every backend. Each round, with multipliers M0, M1 and the round key (k0, k1):
 *
 *   (hi0, lo0) = M0 · x0,  (hi1, lo1) = M1 · x2          (32×32 → 64-bit products)
 *   x' = (hi1 ⊕ x1 ⊕ k0, lo1, hi0 ⊕ x3 ⊕ k1, lo0)
 *
 * and the key is bumped by the Weyl constants (W0, W1) between rounds.
 *
 * Words are JS numbers holding unsigned 32-bit integers; no BigInt, so it is fast everywhere.
 */
import { LevelskipError } from '../errors/levelskip-error.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
/** Golden ratio and √3 - 1, as 32-bit fractions. */
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/**
 * High 32 bits of the 64-bit product of two u32s. Doubles hold only 53 bits, so the product is
 * assembled from 16-bit halves, every partial sum staying below 2^32.
 */
function mulhi32(a: number, b: number): number {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const bHi = b >>> 16;
  const bLo = b & 0xffff;
  const low = aLo * bLo;
  const cross1 = aHi * bLo + (low >>> 16);
  const cross2 = aLo * bHi + (cross1 & 0xffff);
  return (aHi * bHi + (cross1 >>> 16) + (cross2 >>> 16)) >>> 0;
}

/** Philox4x32's round keys of a key, interleaved (k0, k1 of round 0, of round 1, …): see `philox4x32KeyedInto`. */
export type PhiloxRoundKeys = Uint32Array;

/**
 * The round keys of Philox4x32-R for the key (key0, key1): round r uses (key0 + r·W0, key1 + r·W1)
 * mod 2^32. A stream's key never changes, so a generator computes them once instead of bumping the
 * key in every block.
 */
export function philoxRoundKeys(key0: number, key1: number, rounds = 10): PhiloxRoundKeys {
  return roundKeysInto(new Uint32Array(2 * rounds), key0, key1, rounds);
}

function roundKeysInto(keys: Uint32Array, key0: number, key1: number, rounds: number): Uint32Array {
  let k0 = key0 >>> 0;
  let k1 = key1 >>> 0;
  for (let round = 0; round < rounds; round++) {
    keys[2 * round] = k0;
    keys[2 * round + 1] = k1;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return keys;
}

/**
 * Philox4x32-R with precomputed round keys (`philoxRoundKeys(key0, key1, rounds)`): the words of
 * `philox4x32Into(out, offset, counter0, …, key0, key1, rounds)` without the key schedule, for
 * hot loops. Writes the 4 output words into `out[offset..offset+3]`.
 */
export function philox4x32KeyedInto(
  out: Uint32Array,
  offset: number,
  counter0: number,
  counter1: number,
  counter2: number,
  counter3: number,
  roundKeys: PhiloxRoundKeys,
  rounds = 10,
): void {
  let x0 = counter0 >>> 0;
  let x1 = counter1 >>> 0;
  let x2 = counter2 >>> 0;
  let x3 = counter3 >>> 0;
  for (let r = 0; r < 2 * rounds; r += 2) {
    const hi0 = mulhi32(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi32(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ (roundKeys[r] as number)) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ (roundKeys[r + 1] as number)) >>> 0;
    x3 = lo0;
  }
  out[offset] = x0;
  out[offset + 1] = x1;
  out[offset + 2] = x2;
  out[offset + 3] = x3;
}

/** Round keys of one `philox4x32Into` call (at most 16 rounds). */
const keyScratch = new Uint32Array(32);

/**
 * Philox4x32 block without argument checks, for hot loops: writes the 4 output words into
 * `out[offset..offset+3]`. Inputs are taken modulo 2^32; `rounds` should be 1..16 (10 is the
 * standard, crush-resistant choice). A loop over one key is faster with `philoxRoundKeys` and
 * `philox4x32KeyedInto`.
 */
export function philox4x32Into(
  out: Uint32Array,
  offset: number,
  counter0: number,
  counter1: number,
  counter2: number,
  counter3: number,
  key0: number,
  key1: number,
  rounds = 10,
): void {
  const keys = rounds <= 16 ? keyScratch : new Uint32Array(2 * rounds);
  philox4x32KeyedInto(out, offset, counter0, counter1, counter2, counter3, roundKeysInto(keys, key0, key1, rounds), rounds);
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/**
 * One Philox4x32-R block: four pseudo-random u32 words for a 4-word counter and 2-word key.
 *
 * @param counter - four unsigned 32-bit integers.
 * @param key - two unsigned 32-bit integers.
 * @param rounds - 1..16; 10 (the default) is Philox4x32-10, the variant Random123, cuRAND and
 *   PyTorch's CUDA generator use.
 * @throws LevelskipError `INVALID_OPTION` when a word is not an unsigned 32-bit integer or
 *   `rounds` is out of range.
 *
 * @example
 * ```ts
 * philox4x32([0, 0, 0, 0], [0, 0]); // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
  rounds = 10,
): [number, number, number, number] {
  if (!Array.isArray(counter) || counter.length !== 4 || !counter.every(isU32)) {
    throw new LevelskipError('INVALID_OPTION', `philox4x32: counter must be 4 unsigned 32-bit integers, got ${JSON.stringify(counter)}`);
  }
  if (!Array.isArray(key) || key.length !== 2 || !key.every(isU32)) {
    throw new LevelskipError('INVALID_OPTION', `philox4x32: key must be 2 unsigned 32-bit integers, got ${JSON.stringify(key)}`);
  }
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 16)) {
    throw new LevelskipError('INVALID_OPTION', `philox4x32: rounds must be an integer in [1, 16] (10 is standard), got ${String(rounds)}`);
  }
  const out = new Uint32Array(4);
  philox4x32Into(out, 0, counter[0], counter[1], counter[2], counter[3], key[0], key[1], rounds);
  return [out[0] as number, out[1] as number, out[2] as number, out[3] as number];
}
