/**
 * The WebAssembly Philox (philox-wasm.ts) gives the words of the JS one (philox.ts, itself checked
 * on Random123's known answers and a BigInt reference), and SeededRng draws the same normals
 * with it and without it (the fall-back where WebAssembly cannot run).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { philox4x32 } from '../../src/random/philox.js';
import { enablePhiloxWasmForTesting, maxPhiloxWasmBlocks, philoxWasm } from '../../src/random/philox-wasm.js';
import { SeededRng } from '../../src/random/seeded-rng.js';

const TWO_32 = 2 ** 32;
const u32 = fc.integer({ min: 0, max: 0xffffffff });

afterEach(() => enablePhiloxWasmForTesting(true));

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

  it('is absent after enablePhiloxWasmForTesting(false), and back after (true)', () => {
    enablePhiloxWasmForTesting(false);
    expect(philoxWasm()).toBeUndefined();
    enablePhiloxWasmForTesting(true);
    expect(philoxWasm()).toBeDefined();
  });
});

describe('SeededRng with and without WebAssembly', () => {
  it('draws bit-identical normals for any seed, stream, offset and length', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9000 }), (seed, stream, skip, n) => {
        enablePhiloxWasmForTesting(true);
        const a = new SeededRng(seed, stream);
        a.normal(skip);
        const withWasm = [...a.normal(n), ...a.normal64(5)];
        enablePhiloxWasmForTesting(false);
        const b = new SeededRng(seed, stream);
        b.normal(skip);
        const withoutWasm = [...b.normal(n), ...b.normal64(5)];
        expect(withWasm).toEqual(withoutWasm);
      }),
      { numRuns: 60 },
    );
  });
});
