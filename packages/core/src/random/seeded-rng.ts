/**
 * Seeded, resumable random numbers for noise and sampling, built on Philox4x32-10
 * (Salmon et al., SC'11). Every value is a pure function of (seed, stream, position), so a
 * stream can be saved as three numbers and resumed exactly, and a given seed yields the same
 * noise whichever backend consumes it (noise is drawn here, on the host).
 *
 * Layout (what makes the stream reproducible, so changing it changes every seeded result):
 * - key = (seed mod 2^32, ⌊seed / 2^32⌋): the 64-bit seed.
 * - counter = (block mod 2^32, ⌊block / 2^32⌋, stream mod 2^32, ⌊stream / 2^32⌋ | family · 2^31),
 *   where each block gives 4 words and the value at position p uses word p mod 4 of block ⌊p/4⌋.
 *   Family 0 feeds uniforms and integers, family 1 feeds normals; the two families are disjoint
 *   Philox inputs, so values of different kinds never share a word.
 * - One value consumes one position, whatever its kind (an `integer` draw may consume several,
 *   by rejection). Nothing is buffered: the state is just the position, and drawing n then m
 *   values of one kind gives exactly the same values as drawing n + m at once.
 * - uniform64: (u + 0.5) / 2^32 for the 32-bit word u: exact in float64, in [2^-33, 1 - 2^-33],
 *   never 0 or 1. uniform (float32) rounds that to the nearest float32, except that values that
 *   would round up to 1 become 1 - 2^-24, the largest float32 below 1.
 * - normal64: Box–Muller on the pair of words at positions (2j, 2j + 1):
 *   r = √(-2 ln u₁), θ = 2π u₂; position 2j gives r cos θ and 2j + 1 gives r sin θ, so both
 *   outputs are used and a draw starting at an odd position takes the sine of its pair.
 *   normal (float32) is normal64 rounded to float32.
 *
 * Speed: where WebAssembly runs, normals come from a WebAssembly module (philox-wasm.ts) that
 * computes the Philox words (32 × 32 → 64-bit products in single instructions, four blocks at a
 * time) and Box–Muller (two pairs at a time), a whole chunk per call; elsewhere from philox.ts and
 * a JS Box–Muller loop over Math.*.
 *
 * Determinism: the words, uniforms and integers are bit-identical on every JS engine. Normals
 * need log, cos and sin, which ECMAScript does not require to be correctly rounded. Where the
 * module runs (WebAssembly with SIMD: Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+), they
 * come from its port of fdlibm, the code Node 20's V8 runs for Math.log, Math.cos and Math.sin,
 * bit for bit; so they do not depend on the engine's Math, and a browser whose V8 moved sin and
 * cos to another libm draws the same noise as Node 20. The JS fall-back uses Math.*: the same
 * values on Node 20, and on other engines possibly a last-float64-bit difference, which almost
 * never changes the float32 value.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { philox4x32KeyedInto, philoxRoundKeys, type PhiloxRoundKeys } from './philox.js';
import { philoxWasm } from './philox-wasm.js';

/** JSON-serialisable position of a `SeededRng`; `SeededRng.fromState` resumes it exactly. */
export interface RngState {
  /** The 64-bit seed as a decimal string. */
  readonly seed: string;
  /** Stream id, a non-negative safe integer. */
  readonly stream: number;
  /** Values drawn so far (the position in the stream), as a decimal string. */
  readonly counter: string;
}

const TWO_32 = 4294967296;
const TWO_64 = 1n << 64n;
/** Largest float32 below 1. */
const BELOW_ONE_F32 = 1 - 2 ** -24;
const NORMAL_FAMILY = 0x80000000;
const UNIFORM_FAMILY = 0;

function rngError(message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `SeededRng: ${message}`);
}

function checkSeed(seed: unknown): bigint {
  if (typeof seed === 'bigint') {
    if (seed >= 0n && seed < TWO_64) return seed;
  } else if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) {
    return BigInt(seed);
  }
  throw rngError(`seed must be a non-negative safe integer or a bigint below 2^64, got ${String(seed)}`);
}

function checkStream(stream: unknown): number {
  if (typeof stream === 'number' && Number.isSafeInteger(stream) && stream >= 0) return stream;
  throw rngError(`stream must be a non-negative safe integer, got ${String(stream)}`);
}

function checkCount(n: unknown): number {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  throw rngError(`the number of values must be a non-negative integer, got ${String(n)}`);
}

/** Blocks per chunk of the bulk normal path (16 KB of words). */
const CHUNK_BLOCKS = 1024;
/** The words of the JS blocks, where WebAssembly cannot run. */
const jsWords = new Uint32Array(4 * CHUNK_BLOCKS);

/** `count` Philox blocks from block `index` on, in JS: the words `philox-wasm.ts` makes where WebAssembly runs. */
function jsBlocks(index: number, count: number, stream0: number, stream3: number, roundKeys: PhiloxRoundKeys): Uint32Array {
  for (let j = 0; j < count; j++, index++) philox4x32KeyedInto(jsWords, 4 * j, index % TWO_32, Math.floor(index / TWO_32), stream0, stream3, roundKeys);
  return jsWords.subarray(0, 4 * count);
}

/** One pair's words and values, for the draws' edges (`#pairInto`, `#normalAt`) without WebAssembly. */
const pairWords = new Uint32Array(2);
const pairValues = new Float64Array(2);

/**
 * Box–Muller on consecutive word pairs: (words[j], words[j + 1]) → r·cos θ, r·sin θ with
 * r = √(−2 ln u₁), θ = 2π u₂, into out[offset + j], out[offset + j + 1] (`count` values, even).
 * The fall-back where WebAssembly cannot run; philox.wat computes the same expressions.
 */
function boxMullerInto(out: Float64Array | Float32Array, offset: number, words: Uint32Array, count: number): void {
  for (let j = 0; j < count; j += 2) {
    const radius = Math.sqrt(-2 * Math.log(((words[j] as number) + 0.5) / TWO_32));
    const angle = 2 * Math.PI * (((words[j + 1] as number) + 0.5) / TWO_32);
    out[offset + j] = radius * Math.cos(angle);
    out[offset + j + 1] = radius * Math.sin(angle);
  }
}

/**
 * A deterministic random stream identified by (seed, stream); see the file comment for the
 * exact layout.
 *
 * @example
 * ```ts
 * const rng = new SeededRng(42);
 * const x = rng.normal(3 * 32 * 32);   // initial noise
 * const saved = rng.state();           // JSON-serialisable
 * const z = SeededRng.fromState(saved).normal(10); // equals rng.normal(10)
 * ```
 */
export class SeededRng {
  readonly #seed: bigint;
  readonly #stream: number;
  /** Philox's round keys of the seed, computed once. */
  readonly #roundKeys: PhiloxRoundKeys;
  readonly #stream0: number;
  readonly #stream1: number;
  #position = 0;
  /** The most recent block, so consecutive positions cost one Philox call per 4 values. */
  readonly #block = new Uint32Array(4);
  #blockIndex = -1;
  #blockFamily = -1;

  /**
   * @param seed - a non-negative safe integer, or a bigint in [0, 2^64).
   * @param stream - independent sub-stream id, a non-negative safe integer (default 0).
   * @throws LevelskipError `INVALID_OPTION` for a seed or stream out of range.
   */
  constructor(seed: number | bigint, stream = 0) {
    this.#seed = checkSeed(seed);
    this.#stream = checkStream(stream);
    this.#roundKeys = philoxRoundKeys(Number(this.#seed & 0xffffffffn), Number(this.#seed >> 32n));
    this.#stream0 = this.#stream % TWO_32;
    this.#stream1 = Math.floor(this.#stream / TWO_32);
  }

  /** The 32-bit word at `position` of a family. */
  #word(family: number, position: number): number {
    const block = Math.floor(position / 4);
    if (block !== this.#blockIndex || family !== this.#blockFamily) {
      philox4x32KeyedInto(this.#block, 0, block % TWO_32, Math.floor(block / TWO_32), this.#stream0, (this.#stream1 | family) >>> 0, this.#roundKeys);
      this.#blockIndex = block;
      this.#blockFamily = family;
    }
    return this.#block[position % 4] as number;
  }

  /** Claims `n` positions and returns the first. */
  #advance(n: number): number {
    const start = this.#position;
    if (start + n > Number.MAX_SAFE_INTEGER) throw rngError('stream exhausted (more than 2^53 values drawn); fork a new stream');
    this.#position = start + n;
    return start;
  }

  /** `n` uniforms in (0, 1) as float64: (u + 0.5) / 2^32 for successive words u. */
  uniform64(n: number): Float64Array {
    const out = new Float64Array(checkCount(n));
    const start = this.#advance(out.length);
    for (let i = 0; i < out.length; i++) out[i] = (this.#word(UNIFORM_FAMILY, start + i) + 0.5) / TWO_32;
    return out;
  }

  /** `n` uniforms in (0, 1) as float32: `uniform64` rounded to float32, never 0 or 1. */
  uniform(n: number): Float32Array {
    const wide = this.uniform64(n);
    const out = new Float32Array(wide.length);
    for (let i = 0; i < wide.length; i++) out[i] = Math.min(Math.fround(wide[i] as number), BELOW_ONE_F32);
    return out;
  }

  /**
   * Fills `out` with the next `out.length` standard normals as float32 and returns it: the values
   * `normal(out.length)` would return, without allocating (e.g. one buffer reused every step).
   *
   * @throws LevelskipError `INVALID_OPTION` when `out` is not a Float32Array.
   */
  normalInto(out: Float32Array): Float32Array {
    if (!(out instanceof Float32Array)) {
      const kind = out === null ? 'null' : typeof out === 'object' ? (Object.getPrototypeOf(out)?.constructor?.name ?? 'object') : typeof out;
      throw rngError(`normalInto(out): out must be a Float32Array (e.g. new Float32Array(n)), got ${String(kind)}`);
    }
    this.#normalsInto(out, this.#advance(out.length));
    return out;
  }

  /** `n` standard normals as float64 (Box–Muller, both outputs of each pair used). */
  normal64(n: number): Float64Array {
    const out = new Float64Array(checkCount(n));
    this.#normalsInto(out, this.#advance(out.length));
    return out;
  }

  /**
   * Fills `out` with the normals at positions start, start + 1, … (the layout of the file
   * comment): whole Philox blocks in the bulk, two Box–Muller pairs each, the loop's state in
   * locals; a pair or value cut by either end of the range goes through `#word`.
   * Float32 output is each float64 value rounded once, on store.
   */
  #normalsInto(out: Float64Array | Float32Array, start: number): void {
    const n = out.length;
    let i = 0;
    // A draw starting at an odd position begins with the sine of its pair.
    if (start % 2 === 1 && n > 0) {
      out[0] = this.#normalAt(start);
      i = 1;
    }
    // The second pair of a block, when the draw starts there.
    if (i + 1 < n && (start + i) % 4 === 2) {
      this.#pairInto(out, i, start + i);
      i += 2;
    }
    if (i + 3 < n) {
      const blocks = Math.floor((n - i) / 4);
      const stream3 = (this.#stream1 | NORMAL_FAMILY) >>> 0;
      let index = (start + i) / 4;
      // Whole blocks in chunks: words and Box–Muller in WebAssembly where it runs, else in JS.
      const wasm = philoxWasm();
      // Round 0's keys are the key itself.
      const key0 = this.#roundKeys[0] as number;
      const key1 = this.#roundKeys[1] as number;
      const float32 = out instanceof Float32Array;
      for (let done = 0; done < blocks; ) {
        const count = Math.min(CHUNK_BLOCKS, blocks - done);
        let words: Uint32Array;
        if (wasm === undefined) {
          words = jsBlocks(index, count, this.#stream0, stream3, this.#roundKeys);
          boxMullerInto(out, i, words, 4 * count);
        } else {
          out.set(float32 ? wasm.normals32(index, count, this.#stream0, stream3, key0, key1) : wasm.normals64(index, count, this.#stream0, stream3, key0, key1), i);
          words = wasm.words(count);
        }
        this.#block.set(words.subarray(4 * count - 4, 4 * count));
        done += count;
        index += count;
        i += 4 * count;
      }
      // #block now holds the last block computed.
      this.#blockIndex = index - 1;
      this.#blockFamily = NORMAL_FAMILY;
    }
    if (i + 1 < n) {
      this.#pairInto(out, i, start + i);
      i += 2;
    }
    // A draw ending at an even position takes only the cosine of its last pair.
    if (i < n) out[i] = this.#normalAt(start + i);
  }

  /** The pair at even `position` into out[i], out[i + 1]. */
  #pairInto(out: Float64Array | Float32Array, i: number, position: number): void {
    const word0 = this.#word(NORMAL_FAMILY, position);
    const word1 = this.#word(NORMAL_FAMILY, position + 1);
    // The same Box–Muller as the bulk, so values never depend on where a draw starts or ends.
    const wasm = philoxWasm();
    if (wasm !== undefined) {
      wasm.pairInto(out, i, word0, word1);
      return;
    }
    pairWords[0] = word0;
    pairWords[1] = word1;
    boxMullerInto(out, i, pairWords, 2);
  }

  /** The normal at one position: the cosine (even) or sine (odd) of its Box–Muller pair. */
  #normalAt(position: number): number {
    const odd = position % 2 === 1;
    this.#pairInto(pairValues, 0, position - (odd ? 1 : 0));
    return pairValues[odd ? 1 : 0] as number;
  }

  /** `n` standard normals as float32: `normal64` rounded to float32 (each value rounded once, on store). */
  normal(n: number): Float32Array {
    const out = new Float32Array(checkCount(n));
    this.#normalsInto(out, this.#advance(out.length));
    return out;
  }

  /**
   * A uniform integer in [0, maxExclusive), unbiased (rejection sampling on 32-bit words).
   *
   * @param maxExclusive - an integer in [1, 2^32].
   * @throws LevelskipError `INVALID_OPTION` when `maxExclusive` is out of range.
   */
  integer(maxExclusive: number): number {
    if (!(Number.isInteger(maxExclusive) && maxExclusive >= 1 && maxExclusive <= TWO_32)) {
      throw rngError(`integer(maxExclusive): maxExclusive must be an integer in [1, 2^32], got ${String(maxExclusive)}`);
    }
    // Words at or above the largest multiple of maxExclusive would favour small results.
    const limit = TWO_32 - (TWO_32 % maxExclusive);
    for (;;) {
      const word = this.#word(UNIFORM_FAMILY, this.#advance(1));
      if (word < limit) return word % maxExclusive;
    }
  }

  /** The current position, JSON-serialisable; `SeededRng.fromState` resumes from exactly here. */
  state(): RngState {
    return { seed: this.#seed.toString(), stream: this.#stream, counter: String(this.#position) };
  }

  /**
   * Resumes a stream saved by `state()`.
   *
   * @throws LevelskipError `INVALID_OPTION` when the state is malformed.
   */
  static fromState(state: RngState): SeededRng {
    if (typeof state !== 'object' || state === null) throw rngError(`fromState: expected { seed, stream, counter }, got ${String(state)}`);
    const { seed, stream, counter } = state as unknown as Record<string, unknown>;
    if (typeof seed !== 'string' || !/^\d+$/.test(seed)) {
      throw rngError(`fromState: seed must be a decimal string, got ${JSON.stringify(seed) ?? String(seed)}`);
    }
    if (typeof counter !== 'string' || !/^\d+$/.test(counter) || !Number.isSafeInteger(Number(counter))) {
      throw rngError(`fromState: counter must be a decimal string of at most 2^53 - 1, got ${JSON.stringify(counter) ?? String(counter)}`);
    }
    const rng = new SeededRng(BigInt(seed), stream as number);
    rng.#position = Number(counter);
    return rng;
  }

  /**
   * A generator with the same seed on another stream, starting at its beginning. Streams are
   * independent Philox inputs, so e.g. one stream per sample or per purpose never overlap.
   * Forking is independent of this generator's position.
   */
  fork(stream: number): SeededRng {
    return new SeededRng(this.#seed, stream);
  }
}

/**
 * Standard normal noise of the given shape (row-major), from stream `stream` of `seed`:
 * the first `∏ shape` values of `new SeededRng(seed, stream).normal(...)`.
 *
 * @throws LevelskipError `INVALID_SHAPE` for a bad shape, `INVALID_OPTION` for a bad seed or stream.
 */
export function gaussianNoise(seed: number | bigint, shape: readonly number[], stream = 0): Float32Array {
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    throw new LevelskipError('INVALID_SHAPE', `gaussianNoise: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((product, dimension) => product * dimension, 1);
  return new SeededRng(seed, stream).normal(size);
}
