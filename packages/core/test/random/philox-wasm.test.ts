/**
 * The WebAssembly Philox (philox-wasm.ts) gives the words of the JS one (philox.ts, itself checked
 * on Random123's known answers and a BigInt reference); its fdlibm ports (philox.wat) give the
 * bits of Node 20's Math.log, Math.cos and Math.sin (V8's own fdlibm port, an independent build of
 * the same C code) on Box–Muller's inputs; and SeededRng draws the same normals with the module and
 * without it (the fall-back where WebAssembly cannot run, Box–Muller over Math.*).
 *
 * The comparisons with Math.* presuppose an engine whose Math.log/cos/sin is fdlibm, as Node's
 * V8 builds are; scripts/verify-box-muller.mjs checks all 2^32 words.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { philox4x32 } from '../../src/random/philox.js';
import { enablePhiloxWasmForTesting, fdlibmPortsForTesting, maxPhiloxWasmBlocks, philoxWasm } from '../../src/random/philox-wasm.js';
import { SeededRng } from '../../src/random/seeded-rng.js';
import { errorOf } from '../support/level-skip-errors.js';

const TWO_32 = 2 ** 32;
const u32 = fc.integer({ min: 0, max: 0xffffffff });

afterEach(() => enablePhiloxWasmForTesting(true));

/** Box–Muller over Math.* on consecutive word pairs: the JS loop the module replaces. */
function mathBoxMuller(words: ArrayLike<number>): number[] {
  const values: number[] = [];
  for (let j = 0; j < words.length; j += 2) {
    const radius = Math.sqrt(-2 * Math.log(((words[j] as number) + 0.5) / TWO_32));
    const angle = 2 * Math.PI * (((words[j + 1] as number) + 0.5) / TWO_32);
    values.push(radius * Math.cos(angle), radius * Math.sin(angle));
  }
  return values;
}

/** The IEEE-754 words (high, low) of a double. */
function wordsOf(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return [view.getUint32(0), view.getUint32(4)];
}

/** A double from its words. */
function fromWords(high: number, low: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, high);
  view.setUint32(4, low);
  return view.getFloat64(0);
}

/** A wat hexadecimal float literal such as 0x1.921fb54442d18p+2 (at most 53 significant bits). */
function parseHexFloat(text: string): number {
  const match = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]\d+)$/i.exec(text);
  if (match === null) throw new Error(`not a hex float: ${text}`);
  const fraction = match[3] ?? '';
  const value = parseInt(match[2]! + fraction, 16) * 2 ** (Number(match[4]) - 4 * fraction.length);
  return match[1] === '-' ? -value : value;
}

const wat = readFileSync(new URL('../../src/random/philox.wat', import.meta.url), 'utf8');

/** Words w in [from, to] (clamped to 32 bits). */
function wordRange(from: number, to: number): number[] {
  const words: number[] = [];
  for (let w = Math.max(0, Math.ceil(from)); w <= Math.min(TWO_32 - 1, Math.floor(to)); w++) words.push(w);
  return words;
}

/** The word whose u = (w + 0.5)/2^32 is nearest `u`. */
const wordAtU = (u: number): number => Math.round(u * TWO_32 - 0.5);
/** The word whose θ = 2π(w + 0.5)/2^32 is nearest `theta`. */
const wordAtTheta = (theta: number): number => Math.round((theta / (2 * Math.PI)) * TWO_32 - 0.5);

/**
 * Words whose u = (w + 0.5)/2^32 sit at log's branch points: the first and last words, each
 * binade's ends, and in each binade the high mantissa words where fdlibm's log switches branch
 * (|f| < 2^-20: 0 and 0xFFFFF; the x or x/2 normalisation at 0x6A09C; the `i > 0` test at
 * 0x6147A and 0x6B851).
 */
function logEdgeWords(): number[] {
  const words = [...wordRange(0, 4096), ...wordRange(TWO_32 - 4096, TWO_32 - 1), 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1];
  for (let e = 1; e <= 33; e++) {
    for (const mantissa of [0, 1, 2, 0x6147a, 0x6a09c, 0x6b851, 0xffffd, 0xffffe, 0xfffff]) {
      const w = wordAtU(2 ** -e * (1 + mantissa / 2 ** 20));
      words.push(...wordRange(w - 3, w + 3));
    }
  }
  return words;
}

/**
 * Words whose θ = 2π(w + 0.5)/2^32 sit at sin's and cos's branch points: next to every multiple of
 * π/4 (the octant switch; tiny reduced arguments next to multiples of π/2), where the reduced
 * argument crosses __kernel_cos's 0.3 and 0.78125, at the ends of the high words that
 * __ieee754_rem_pio2 tests (π/4, 3π/4, the medium range), and every word whose θ has the high
 * word of π/2 (its 33+33+53-bit branch) or of an npio2_hw entry (π, 3π/2, 2π: its slow path).
 */
function trigEdgeWords(): number[] {
  const words = [0, 1, 2, 3, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, TWO_32 - 3, TWO_32 - 2, TWO_32 - 1];
  const near = (theta: number): void => {
    const w = wordAtTheta(theta);
    words.push(...wordRange(w - 3, w + 3));
  };
  for (let k = 1; k <= 8; k++) near((k * Math.PI) / 4);
  for (let n = 0; n <= 4; n++) for (const offset of [-0.78125, -0.3, 0.3, 0.78125]) near((n * Math.PI) / 2 + offset);
  for (const high of [0x3fe921fb, 0x3fe921fc, 0x4002d97b, 0x4002d97c, 0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb]) {
    near(fromWords(high, 0));
    near(fromWords(high, 0xffffffff));
  }
  // Every word in the high-word ranges where __ieee754_rem_pio2 takes its special branches.
  for (const high of [0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb]) {
    words.push(...wordRange(wordAtTheta(fromWords(high, 0)) - 2, wordAtTheta(fromWords(high, 0xffffffff)) + 2));
  }
  return words;
}

function randomWords(count: number, seed: number): number[] {
  let state = seed >>> 0;
  const words: number[] = [];
  for (let i = 0; i < count; i++) {
    // xorshift32: any spread of words will do here.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    words.push(state);
  }
  return words;
}

function jsWords(index: number, count: number, c2: number, c3: number, k0: number, k1: number): number[] {
  const words: number[] = [];
  for (let j = 0; j < count; j++) words.push(...philox4x32([(index + j) % TWO_32, Math.floor((index + j) / TWO_32), c2, c3], [k0, k1]));
  return words;
}

describe('philox.wat', () => {
  it('is what the embedded module was compiled from (wabt)', async () => {
    const require = createRequire(import.meta.url);
    const wabt = await (require('wabt') as () => Promise<{ parseWat(name: string, text: string): { validate(): void; toBinary(o: object): { buffer: Uint8Array }; destroy(): void } }>)();
    const wat = readFileSync(new URL('../../src/random/philox.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('philox.wat', wat);
    module.validate();
    const compiled = Buffer.from(module.toBinary({}).buffer).toString('base64');
    module.destroy();
    const source = readFileSync(new URL('../../src/random/philox-wasm.ts', import.meta.url), 'utf8');
    expect(source).toContain(`'${compiled}'`);
  });
});

describe('philox.wat fdlibm constants', () => {
  const table = [...wat.matchAll(/^;;\s+(\w+)\s+(\S+)\s+0x([0-9A-F]{8}), 0x([0-9A-F]{8})/gm)].map((match) => ({
    name: match[1]!,
    literal: match[2]!,
    high: parseInt(match[3]!, 16),
    low: parseInt(match[4]!, 16),
  }));

  it('lists every fdlibm constant with the IEEE-754 words of ieee754.cc, and each decimal is those words', () => {
    expect(table.map((entry) => entry.name)).toEqual([
      'invpio2', 'pio2_1', 'pio2_1t', 'pio2_2', 'pio2_2t', 'pio2_3', 'pio2_3t',
      'C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6',
      'ln2_hi', 'ln2_lo', 'two54', 'Lg1', 'Lg2', 'Lg3', 'Lg4', 'Lg5', 'Lg6', 'Lg7', 'third', 'twoPi',
    ]);
    for (const { name, literal, high, low } of table) {
      const value = literal.startsWith('0x') ? parseHexFloat(literal) : Number(literal);
      expect([name, ...wordsOf(value)]).toEqual([name, high, low]);
    }
    expect(parseHexFloat(table.find((entry) => entry.name === 'twoPi')!.literal)).toBe(2 * Math.PI);
  });

  it('uses no f64 literal outside that table but exact ones (0, 0.5, 1, 2, -2, 0.28125, 2^-32, 2^52, ±∞, NaN), the same in both SIMD lanes', () => {
    const code = wat.replace(/;;.*$/gm, '');
    const scalars = [...code.matchAll(/f64\.const (\S+?)\)/g)].map((match) => match[1]!);
    const pairs = [...code.matchAll(/v128\.const f64x2 (\S+) (\S+?)\)/g)].map((match) => [match[1]!, match[2]!] as const);
    expect(pairs.filter(([a, b]) => a !== b)).toEqual([]);
    const literals = new Set([...scalars, ...pairs.map(([a]) => a)]);
    const allowed = new Set([...table.map((entry) => entry.literal), '0', '0.5', '1', '2', '-2', '0.28125', '0x1p-32', '0x1p52', '-inf', 'nan']);
    expect([...literals].filter((literal) => !allowed.has(literal))).toEqual([]);
    // Every fdlibm constant the SIMD code needs is there as a two-lane constant too.
    expect(pairs.length).toBeGreaterThan(30);
    expect(literals.size).toBeGreaterThan(30);
  });
});

describe('fdlibm ports (philox.wat) against Math.*', () => {
  const ports = fdlibmPortsForTesting()!;
  const mismatches = (inputs: readonly number[], port: (x: number) => number, math: (x: number) => number): number[] =>
    inputs.filter((x) => !Object.is(port(x), math(x)));

  it('log((w + 0.5)/2^32) is Math.log, bit for bit, on its branch points and 300,000 random words', () => {
    const words = [...logEdgeWords(), ...randomWords(300_000, 0x9e3779b9)];
    const inputs = words.map((w) => (w + 0.5) / TWO_32);
    expect(inputs[0]).toBe(2 ** -33);
    expect(mismatches(inputs, ports.log, Math.log)).toEqual([]);
  });

  it('cos and sin of (2π)(w + 0.5)/2^32 are Math.cos and Math.sin, bit for bit, on their branch points and 300,000 random words', () => {
    const edges = trigEdgeWords();
    expect(edges.length).toBeGreaterThan(5000);
    const inputs = [...edges, ...randomWords(300_000, 0x85ebca6b)].map((w) => 2 * Math.PI * ((w + 0.5) / TWO_32));
    expect(mismatches(inputs, ports.cos, Math.cos)).toEqual([]);
    expect(mismatches(inputs, ports.sin, Math.sin)).toEqual([]);
  });

  it('the two-lane kernels of the bulk give the same bits as Math.* on those branch points and 300,000 random words', () => {
    const words = [...logEdgeWords(), ...trigEdgeWords(), ...randomWords(300_000, 0x27d4eb2f)];
    if (words.length % 2 === 1) words.push(0);
    let rareTrig = 0;
    for (let from = 0; from < words.length; from += maxPhiloxWasmBlocks) {
      const chunk = words.slice(from, from + maxPhiloxWasmBlocks);
      const { log, cos, sin } = ports.kernels(chunk);
      const bad = chunk.filter((w, i) => {
        const u = (w + 0.5) / TWO_32;
        const theta = 2 * Math.PI * u;
        if (theta < 2 ** -27 || [0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb].includes(wordsOf(theta)[0])) rareTrig++;
        return !Object.is(log[i], Math.log(u)) || !Object.is(cos[i], Math.cos(theta)) || !Object.is(sin[i], Math.sin(theta));
      });
      expect(bad).toEqual([]);
    }
    // The inputs the two-lane code hands to the scalar code are among those checked.
    expect(rareTrig).toBeGreaterThan(5000);
    expect(errorOf(() => ports.kernels([1, 2, 3])).code).toBe('INVALID_OPTION');
  });

  it('are fdlibm beyond Box–Muller’s inputs too: log of any double, cos and sin of either sign in fdlibm’s medium range', () => {
    const logInputs = [0, -0, -1, 1, 2, 0.5, Infinity, -Infinity, NaN, 5e-324, 1e-310, 2 ** -1022, Number.MAX_VALUE];
    const lastMedium = fromWords(0x413921fb, 0xffffffff); // ≈ 2^20·π/2
    const trigInputs = [0, -0, 1e-300, -1e-9, Math.PI, -Math.PI, 2 ** 19 * (Math.PI / 2), 1e6, lastMedium, -lastMedium, Infinity, NaN];
    const random = randomWords(40_000, 7);
    for (let i = 0; i < random.length; i += 2) {
      // Doubles of every binade from 2^-1074 to 2^1024, and arguments of either sign up to 2^20·π/2.
      logInputs.push(fromWords(random[i]! & 0x7fffffff, random[i + 1]!));
      trigInputs.push(((random[i]! / TWO_32 - 0.5) * 2 ** 21 * Math.PI) / 2 ** ((random[i + 1]! % 20) + 1));
    }
    expect(mismatches(logInputs, ports.log, Math.log)).toEqual([]);
    expect(mismatches(trigInputs, ports.cos, Math.cos)).toEqual([]);
    expect(mismatches(trigInputs, ports.sin, Math.sin)).toEqual([]);
  });

  it('cos and sin are NaN beyond the medium range (high word 0x413921FB), where fdlibm needs __kernel_rem_pio2 (not ported)', () => {
    for (const x of [fromWords(0x413921fc, 0), -2e6, 1e300]) {
      expect(ports.cos(x)).toBeNaN();
      expect(ports.sin(x)).toBeNaN();
    }
  });
});

describe('philoxWasm', () => {
  it('runs here (Node on a little-endian host)', () => {
    expect(philoxWasm()).toBeDefined();
  });

  it("gives Random123's all-zero known answer", () => {
    expect([...philoxWasm()!.blocks(0, 1, 0, 0, 0, 0)]).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });

  it('gives the JS words for random counters and keys, across the 2^32 carry of the block index', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: TWO_32 - 5, max: TWO_32 + 5 }), fc.integer({ min: 2 ** 53 - 64, max: 2 ** 53 - 8 })),
        fc.integer({ min: 1, max: 7 }),
        u32,
        u32,
        u32,
        u32,
        (index, count, c2, c3, k0, k1) => {
          expect([...philoxWasm()!.blocks(index, count, c2, c3, k0, k1)]).toEqual(jsWords(index, count, c2, c3, k0, k1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fills up to maxPhiloxWasmBlocks blocks in one call', () => {
    const words = philoxWasm()!.blocks(12345, maxPhiloxWasmBlocks, 1, 2, 3, 4);
    expect(words.length).toBe(4 * maxPhiloxWasmBlocks);
    expect([...words.subarray(words.length - 4)]).toEqual(jsWords(12345 + maxPhiloxWasmBlocks - 1, 1, 1, 2, 3, 4));
  });

  it('normals32 and normals64 are Box–Muller over Math.* of the words of blocks, which words() then holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 1, max: 40 }), u32, u32, u32, u32, (index, count, c2, c3, k0, k1) => {
        const words = jsWords(index, count, c2, c3, k0, k1);
        const expected = mathBoxMuller(words);
        const wasm = philoxWasm()!;
        expect([...wasm.normals64(index, count, c2, c3, k0, k1)]).toEqual(expected);
        expect([...wasm.words(count)]).toEqual(words);
        expect([...wasm.normals32(index, count, c2, c3, k0, k1)]).toEqual(expected.map((x) => Math.fround(x)));
        expect([...wasm.words(count)]).toEqual(words);
      }),
      { numRuns: 100 },
    );
    const wasm = philoxWasm()!;
    // Four blocks at a time: the 2^32 carry of the block index inside and across groups of four.
    for (const index of [TWO_32 - 1, TWO_32 - 2, TWO_32 - 3, TWO_32 - 4, TWO_32 - 5, 2 * TWO_32 - 3, 2 ** 53 - 40]) {
      for (const count of [1, 3, 4, 5, 8, 9]) {
        wasm.normals32(index, count, 11, 12, 13, 14);
        expect([...wasm.words(count)]).toEqual(jsWords(index, count, 11, 12, 13, 14));
      }
    }
    const full = wasm.normals64(77, maxPhiloxWasmBlocks, 5, 6, 7, 8);
    expect(full.length).toBe(4 * maxPhiloxWasmBlocks);
    const last = jsWords(77 + maxPhiloxWasmBlocks - 1, 1, 5, 6, 7, 8);
    expect([...full.subarray(full.length - 4)]).toEqual(mathBoxMuller(last));
    expect([...wasm.words(maxPhiloxWasmBlocks).subarray(4 * maxPhiloxWasmBlocks - 4)]).toEqual(last);
  });

  it('pairInto is Box–Muller over Math.* of one word pair, rounded once on store to float32', () => {
    const wasm = philoxWasm()!;
    const pairs = [[0, 0], [0, TWO_32 - 1], [TWO_32 - 1, 0], [TWO_32 - 1, TWO_32 - 1], [2 ** 31, 2 ** 30], [1, 2 ** 29 - 1], ...[...Array(500)].map((_, i) => randomWords(2, i + 1))];
    for (const [w0, w1] of pairs as [number, number][]) {
      const expected = mathBoxMuller([w0, w1]);
      const wide = new Float64Array(3);
      wasm.pairInto(wide, 1, w0, w1);
      expect([...wide]).toEqual([0, ...expected]);
      const narrow = new Float32Array(2);
      wasm.pairInto(narrow, 0, w0, w1);
      expect([...narrow]).toEqual(expected.map((x) => Math.fround(x)));
    }
  });

  it('is absent after enablePhiloxWasmForTesting(false), and back after (true)', () => {
    enablePhiloxWasmForTesting(false);
    expect(philoxWasm()).toBeUndefined();
    enablePhiloxWasmForTesting(true);
    expect(philoxWasm()).toBeDefined();
  });
});

describe('SeededRng with and without WebAssembly', () => {
  it('draws bit-identical normals (float32, float64, into a buffer) for any seed, stream, offset and length', () => {
    const draw = (seed: bigint, stream: number, skip: number, n: number, m: number, start: number): number[] => {
      const rng = new SeededRng(seed, stream);
      rng.uniform(start); // positions are shared with uniforms: any start, odd ones included
      rng.normal(skip);
      return [...rng.normal(n), ...rng.normal64(m), ...rng.normalInto(new Float32Array(skip + 3))];
    };
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 7 }),
        (seed, stream, skip, n, m, start) => {
          enablePhiloxWasmForTesting(true);
          const withWasm = draw(seed, stream, skip, n, m, start);
          enablePhiloxWasmForTesting(false);
          const withoutWasm = draw(seed, stream, skip, n, m, start);
          expect(withWasm).toEqual(withoutWasm);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('draws bit-identical normals across chunk boundaries (several chunks of 1,024 blocks)', () => {
    for (const [skip, n] of [[0, 3 * 4096 + 8], [1, 2 * 4096 + 3], [2, 4096 - 2], [3, 5 * 4096 + 1]] as const) {
      enablePhiloxWasmForTesting(true);
      const a = new SeededRng(0xabcdefn, 9);
      a.normal(skip);
      const withWasm = [...a.normal(n), ...a.normal64(n)];
      enablePhiloxWasmForTesting(false);
      const b = new SeededRng(0xabcdefn, 9);
      b.normal(skip);
      expect(withWasm).toEqual([...b.normal(n), ...b.normal64(n)]);
    }
  });
});
