/**
 * Philox4x32-10 blocks in WebAssembly, for the bulk normal path of `SeededRng`: wasm has a
 * 32 × 32 → 64-bit multiply (`i64.mul`), which JS numbers lack (`philox.ts` assembles each
 * high half from four 16-bit products), so a block costs a fraction of the JS one. The module is
 * `philox.wat` beside this file, compiled by wabt (`pnpm --filter @levelskip/core wasm`; a test
 * recompiles it and compares the bytes). Integer arithmetic only, so the words are bit for bit
 * those of `philox4x32Into`, which the tests check on the Random123 known answers and random
 * counters.
 *
 * Where WebAssembly cannot run (no `WebAssembly` global, a Content-Security-Policy without
 * `'wasm-unsafe-eval'`, a big-endian host, whose typed arrays would read wasm's little-endian
 * memory in the wrong byte order), `philoxWasm()` returns `undefined` and callers use the JS
 * blocks: the same words, slower.
 */

/** philox.wat, compiled (269 bytes). */
const MODULE_BASE64 =
  'AGFzbQEAAAABDAFgCH9/f39/f39/AAMCAQAFAwEAAQcTAgZtZW1vcnkCAAZibG9ja3MAAArWAQHTAQMBfgd/An4gAq0gA61CIIaEIQgCQANAIAFFDQEgCKchCSAIQiCIpyEKIAQhCyAFIQwgBiENIAchDkEKIQ8DQELTvsSSDSAJrX4hEELXmvrsDCALrX4hESARQiCIpyAKcyANcyEJIBGnIQogEEIgiKcgDHMgDnMhCyAQpyEMIA1BufPd8XlqIQ0gDkGF3Z7be2ohDiAPQQFrIg8NAAsgACAJNgIAIAAgCjYCBCAAIAs2AgggACAMNgIMIABBEGohACAIQgF8IQggAUEBayEBDAALCws=';

/** Blocks per call at most: 4,096 blocks of 16 bytes fill the module's one 64 KiB page. */
export const maxPhiloxWasmBlocks = 4096;

/** The wasm Philox: `blocks` writes `count` blocks and returns a view of them (valid until the next call). */
export interface PhiloxWasm {
  /**
   * The words of blocks index, index + 1, … (the 64-bit block index is counter words 0 and 1),
   * with counter words 2 and 3 fixed (`counter2`, `counter3`) and key (`key0`, `key1`):
   * 4·`count` words, `count` ≤ `maxPhiloxWasmBlocks`, `index` + `count` ≤ 2^53.
   */
  blocks(index: number, count: number, counter2: number, counter3: number, key0: number, key1: number): Uint32Array;
}

type Exports = { memory: { buffer: ArrayBuffer }; blocks(ptr: number, n: number, lo: number, hi: number, c2: number, c3: number, k0: number, k1: number): void };
/** The part of the WebAssembly and atob globals used here (core's types assume neither a DOM nor Node). */
type Globals = { WebAssembly?: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } }; atob?: (text: string) => string };

let instance: PhiloxWasm | null | undefined;

function littleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

function decodeBase64(text: string, atob: (text: string) => string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function instantiate(): PhiloxWasm | null {
  try {
    const { WebAssembly: wasm, atob } = globalThis as Globals;
    if (typeof wasm !== 'object' || typeof atob !== 'function' || !littleEndian()) return null;
    // Synchronous compilation: allowed for a module this small on a browser's main thread too.
    const exports = new wasm.Instance(new wasm.Module(decodeBase64(MODULE_BASE64, atob))).exports as Exports;
    const words = new Uint32Array(exports.memory.buffer, 0, 4 * maxPhiloxWasmBlocks);
    return {
      blocks(index, count, counter2, counter3, key0, key1) {
        exports.blocks(0, count, index % 4294967296, Math.floor(index / 4294967296), counter2, counter3, key0, key1);
        return words.subarray(0, 4 * count);
      },
    };
  } catch {
    // e.g. a CSP that forbids compiling WebAssembly: the JS blocks serve.
    return null;
  }
}

/** The wasm Philox, compiled on first use; `undefined` where WebAssembly cannot run (see the file comment). */
export function philoxWasm(): PhiloxWasm | undefined {
  if (instance === undefined) instance = instantiate();
  return instance ?? undefined;
}

/** For tests: `false` makes `philoxWasm()` report no WebAssembly (the JS blocks then serve), `true` restores it. */
export function enablePhiloxWasmForTesting(enabled: boolean): void {
  instance = enabled ? instantiate() : null;
}
