/**
 * Philox4x32-10 blocks and Box–Muller normals in WebAssembly, for the bulk normal path of
 * `SeededRng`. The module is `philox.wat` beside this file, compiled by wabt
 * (`pnpm --filter @levelskip/core wasm`; a test recompiles it and compares the bytes).
 *
 * Philox: wasm has a 32 × 32 → 64-bit multiply (`i64.mul`, and four at a time in SIMD), which JS
 * numbers lack (`philox.ts` assembles each high half from four 16-bit products), so a block costs
 * a fraction of the JS one. Integer arithmetic only, so the words are bit for bit those of
 * `philox4x32Into`, which the tests check on the Random123 known answers and random counters.
 *
 * Box–Muller: the module carries a port of fdlibm's log, sin and cos as V8 11.3 (Node 20) compiles
 * them for Math.log, Math.sin and Math.cos (deps/v8/src/base/ieee754.cc), operation for operation,
 * and the same operations two lanes at a time for the bulk; so its normals are bit for bit those
 * of the JS loop on Node 20, which the tests check on edge and random inputs and
 * `scripts/verify-box-muller.mjs` checks for all 2^32 words. Sin and cos share one argument
 * reduction, and nothing crosses between JS and wasm per value. Unlike the JS loop, the values do
 * not depend on the engine's Math: an engine whose Math.sin or Math.cos is another libm draws the
 * same normals as Node 20 here.
 *
 * Where WebAssembly cannot run (no `WebAssembly` global or no SIMD, a Content-Security-Policy
 * without `'wasm-unsafe-eval'`, a big-endian host, whose typed arrays would read wasm's
 * little-endian memory in the wrong byte order), `philoxWasm()` returns `undefined` and callers
 * use the JS blocks and Box–Muller with Math.*: the same words, and on Node 20 the same normals,
 * slower.
 */

import { LevelskipError } from '../errors/levelskip-error.js';

/*! @license The module below contains a translation of V8's src/base/ieee754.cc (log, sin, cos):
 * Copyright 2016 the V8 project authors. All rights reserved. Use of this source code is governed
 * by a BSD-style license (https://github.com/v8/v8/blob/main/LICENSE). Adapted from fdlibm:
 * Copyright (C) 1993-2004 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft, a
 * Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software
 * is freely granted, provided that this notice is preserved.
 */

/** philox.wat, compiled (5843 bytes). */
const MODULE_BASE64 =
  'AGFzbQEAAAABQwpgCH9/f39/f39/AGABfAF8YAN8fH8BfGACfHwBfGABfAN8fH9gAXwCfHxgAXsCe3tgAXsDe3t7YAR/f39/AGABfwADERAAAAECAwQFBgcICAAJAQEBBQMBAAQGhAk3ewD9DAAAAAAAAOA/AAAAAAAA4D8LewD9DAAAAAAAAPA/AAAAAAAA8D8LewD9DAAAAAAAAABAAAAAAAAAAEALewD9DAAAAAAAAADAAAAAAAAAAMALewD9DAAAAAAAAPA9AAAAAAAA8D0LewD9DBgtRFT7IRlAGC1EVPshGUALewD9DAAAAAAAANI/AAAAAAAA0j8LewD9DAAA4P5CLuY/AADg/kIu5j8LewD9DHY8eTXvOeo9djx5Ne856j0LewD9DJNVVVVVVeU/k1VVVVVV5T8LewD9DAT6l5mZmdk/BPqXmZmZ2T8LewD9DFmTIpQkSdI/WZMilCRJ0j8LewD9DK94jh3Fccw/r3iOHcVxzD8LewD9DN4Dy5ZkRsc/3gPLlmRGxz8LewD9DJ/GeNAJmsM/n8Z40Amawz8LewD9DERSPt8S8cI/RFI+3xLxwj8LewD9DIPIyW0wX+Q/g8jJbTBf5D8LewD9DAAAQFT7Ifk/AABAVPsh+T8LewD9DDFjYhphtNA9MWNiGmG00D0LewD9DElVVVVVVcW/SVVVVVVVxb8LewD9DKb4EBEREYE/pvgQERERgT8LewD9DNVhwRmgASq/1WHBGaABKr8LewD9DH3+sVfjHcc+ff6xV+Mdxz4LewD9DOucK4rm5Vq+65wriublWr4LewD9DHzVz1o62eU9fNXPWjrZ5T0LewD9DExVVVVVVaU/TFVVVVVVpT8LewD9DHdRwRZswVa/d1HBFmzBVr8LewD9DJAVyxmgAfo+kBXLGaAB+j4LewD9DK1SnIBPfpK+rVKcgE9+kr4LewD9DMSxtL2e7iE+xLG0vZ7uIT4LewD9DNQ4iL7p+qi91DiIvun6qL0LewD9DAEAAAAAAAAAAQAAAAAAAAALewD9DAIAAAAAAAAAAgAAAAAAAAALewD9DAMAAAAAAAAAAwAAAAAAAAALewD9DP8DAAAAAAAA/wMAAAAAAAALewD9DP//DwAAAAAA//8PAAAAAAALewD9DGRfCQAAAAAAZF8JAAAAAAALewD9DAAAEAAAAAAAAAAQAAAAAAALewD9DAAA8D8AAAAAAADwPwAAAAALewD9DP////8AAAAA/////wAAAAALewD9DHoUBgAAAAAAehQGAAAAAAALewD9DFG4BgAAAAAAUbgGAAAAAAALewD9DP///38AAAAA////fwAAAAALewD9DAAAIAAAAAAAAAAgAAAAAAALewD9DDMz0z8AAAAAMzPTPwAAAAALewD9DAAA6T8AAAAAAADpPwAAAAALewD9DPsh6T8AAAAA+yHpPwAAAAALewD9DAAAQD4AAAAAAABAPgAAAAALewD9DPsh+T8AAAAA+yH5PwAAAAALewD9DPshCUAAAAAA+yEJQAAAAAALewD9DHzZEkAAAAAAfNkSQAAAAAALewD9DPshGUAAAAAA+yEZQAAAAAALewD9DAAAAAAAADBDAAAAAAAAMEMLewD9DFMfUdJTH1HSUx9R0lMfUdILewD9DFeNns1XjZ7NV42ezVeNns0LB1UIBm1lbW9yeQIABmJsb2NrcwAACWJveE11bGxlcgAJB25vcm1hbHMACwt0ZXN0S2VybmVscwAMB3Rlc3RMb2cADQd0ZXN0Q29zAA4HdGVzdFNpbgAPCoEiENMBAwF+B38CfiACrSADrUIghoQhCAJAA0AgAUUNASAIpyEJIAhCIIinIQogBCELIAUhDCAGIQ0gByEOQQohDwNAQtO+xJINIAmtfiEQQtea+uwMIAutfiERIBFCIIinIApzIA1zIQkgEachCiAQQiCIpyAMcyAOcyELIBCnIQwgDUG5893xeWohDSAOQYXdntt7aiEOIA9BAWsiDw0ACyAAIAk2AgAgACAKNgIEIAAgCzYCCCAAIAw2AgwgAEEQaiEAIAhCAXwhCCABQQFrIQEMAAsLC6UEAwF+A38MeyACrSADrUIghoQhCAJAA0AgAUEESQ0BIAin/REhFCAU/QwAAAAAAQAAAAIAAAADAAAA/a4BIQwgCEIgiKf9ESAMIBT9Ov2xASENIAT9ESEOIAX9ESEPIAYhCSAHIQpBCiELA0AgDCM1/d4BIRAgDCM1/d8BIREgDiM2/d4BIRIgDiM2/d8BIRMgEiAT/Q0EBQYHDA0ODxQVFhccHR4fIA39USAJ/RH9USEMIBIgE/0NAAECAwgJCgsQERITGBkaGyENIBAgEf0NBAUGBwwNDg8UFRYXHB0eHyAP/VEgCv0R/VEhDiAQIBH9DQABAgMICQoLEBESExgZGhshDyAJQbnz3fF5aiEJIApBhd2e23tqIQogC0EBayILDQALIAwgDf0NAAECAxAREhMEBQYHFBUWFyEUIA4gD/0NAAECAxAREhMEBQYHFBUWFyEVIAwgDf0NCAkKCxgZGhsMDQ4PHB0eHyEWIA4gD/0NCAkKCxgZGhsMDQ4PHB0eHyEXIAAgFCAV/Q0AAQIDBAUGBxAREhMUFRYX/QsEACAAIBQgFf0NCAkKCwwNDg8YGRobHB0eH/0LBBAgACAWIBf9DQABAgMEBQYHEBESExQVFhf9CwQgIAAgFiAX/Q0ICQoLDA0ODxgZGhscHR4f/QsEMCAAQcAAaiEAIAhCBHwhCCABQQRrIQEMAAsLIAAgASAIpyAIQiCIpyAEIAUgBiAHEAALqAUCCXwFfyAAvUIgiKchCyAAvachDkEAIQogC0GAgMAASARAIAtB/////wdxIA5yRQRARAAAAAAAAPD/DwsgC0EASARARAAAAAAAAPh/DwsgCkE2ayEKIABEAAAAAAAAUEOiIQAgAL1CIIinIQsLIAtBgIDA/wdOBEAgACAAoA8LIAogC0EUdUH/B2tqIQogC0H//z9xIQsgC0HkviVqQYCAwABxIQwgCyAMQYCAwP8Dc3KtQiCGIAC9Qv////8Pg4S/IQAgCiAMQRR1aiEKIABEAAAAAAAA8D+hIQJB//8/QQIgC2pxQQNIBEAgAkQAAAAAAAAAAGEEQCAKRQRARAAAAAAAAAAADwsgCrchCSAJRAAA4P5CLuY/oiAJRHY8eTXvOeo9oqAPCyACIAKiRAAAAAAAAOA/RFVVVVVVVdU/IAKioaIhBSAKRQRAIAIgBaEPCyAKtyEJIAlEAADg/kIu5j+iIAUgCUR2PHk17znqPaKhIAKhoQ8LIAJEAAAAAAAAAEAgAqCjIQMgCrchCSADIAOiIQQgC0H6qBhrIQwgBCAEoiEGQdHwGiALayENIAZEBPqXmZmZ2T8gBkSveI4dxXHMPyAGRJ/GeNAJmsM/oqCioKIhByAERJNVVVVVVeU/IAZEWZMilCRJ0j8gBkTeA8uWZEbHPyAGRERSPt8S8cI/oqCioKKgoiEIIAwgDXIhDCAIIAegIQUgDEEASgR8RAAAAAAAAOA/IAKiIAKiIQEgCkUEfCACIAEgAyABIAWgoqGhBSAJRAAA4P5CLuY/oiABIAMgASAFoKIgCUR2PHk17znqPaKgoSACoaELBSAKRQR8IAIgAyACIAWhoqEFIAlEAADg/kIu5j+iIAMgAiAFoaIgCUR2PHk17znqPaKhIAKhoQsLC7ABAQN8IAC9QiCIp0H/////B3FBgICA8gNIBEAgAA8LIAAgAKIhAyADIACiIQVEpvgQERERgT8gA0TVYcEZoAEqvyADRH3+sVfjHcc+IANE65wriublWr4gA0R81c9aOtnlPaKgoqCioKKgIQQgAkUEfCAAIAVESVVVVVVVxb8gAyAEoqCioAUgACADRAAAAAAAAOA/IAGiIAUgBKKhoiABoSAFRElVVVVVVcW/oqGhCwv+AQIBfwN8IAC9QiCIp0H/////B3EhAiACQYCAgPIDSARARAAAAAAAAPA/DwsgACAAoiEDIANETFVVVVVVpT8gA0R3UcEWbMFWvyADRJAVyxmgAfo+IANErVKcgE9+kr4gA0TEsbS9nu4hPiADRNQ4iL7p+qi9oqCioKKgoqCioKIhBCACQbPmzP4DSARARAAAAAAAAPA/RAAAAAAAAOA/IAOiIAMgBKIgACABoqGhoQ8LIAJBgICk/wNKBHxEAAAAAAAA0j8FIAJBgICAAWutQiCGvwshBUQAAAAAAADwPyAFoUQAAAAAAADgPyADoiAFoSADIASiIAAgAaKhoaELxAQCBn8HfCAAvUIgiKchASABQf////8HcSECIAJB/LKLgARIBEAgAUEASgRAIABEAABAVPsh+T+hIQcgAkH7w+T/A0cEQCAHRDFjYhphtNA9oSEMIAcgDKFEMWNiGmG00D2hIQ0FIAdEAABgGmG00D2hIQcgB0RzcAMuihmjO6EhDCAHIAyhRHNwAy6KGaM7oSENCyAMIA1BAQ8FIABEAABAVPsh+T+gIQcgAkH7w+T/A0cEQCAHRDFjYhphtNA9oCEMIAcgDKFEMWNiGmG00D2gIQ0FIAdEAABgGmG00D2gIQcgB0RzcAMuihmjO6AhDCAHIAyhRHNwAy6KGaM7oCENCyAMIA1Bfw8LCyAAmSEIIAhEg8jJbTBf5D+iRAAAAAAAAOA/oKohAyADtyELIAggC0QAAEBU+yH5P6KhIQkgC0QxY2IaYbTQPaIhCiADQSBIBEAgAiADQQFrQQJ0KAKggAxHIQYLIAYEQCAJIAqhIQwFIAJBFHUhBCAJIAqhIQwgBCAMvUI0iKdB/w9xayEFIAVBEEoEQCAJIQggC0QAAGAaYbTQPaIhCiAIIAqhIQkgC0RzcAMuihmjO6IgCCAJoSAKoaEhCiAJIAqhIQwgBCAMvUI0iKdB/w9xayEFIAVBMUoEQCAJIQggC0QAAAAuihmjO6IhCiAIIAqhIQkgC0TBSSAlmoN7OaIgCCAJoSAKoaEhCiAJIAqhIQwLCwsgCSAMoSAKoSENIAFBAEgEQCAMmiANmkEAIANrDwsgDCANIAMLqAECAn8EfCAAvUIgiKdB/////wdxIQEgAUH7w6T/A0wEQCAARAAAAAAAAAAAEAQgAEQAAAAAAAAAAEEAEAMPCyABQfvD5IkESgRARAAAAAAAAPh/RAAAAAAAAPh/DwsgABAFIQIhBCEDIAMgBEEBEAMhBSADIAQQBCEGAkACQAJAAkAgAkEDcQ4DAAECAwsgBiAFDwsgBZogBg8LIAaaIAWaDwsgBSAGmgv0AgEKeyAAQSD9zQEhASABQRT9zQEjIv3RASECIAEjI/1OIQEgASMk/c4BIyX9TiEDIAEgAyMm/VH9UEEg/csBIAAjJ/1O/VAhACACIANBFP3NAf3OASECIAAjAf3xASEEIAQjAiAE/fAB/fMBIQUgAiAC/Q0AAQIDCAkKCwABAgMICQoL/f4BIQYgBSAF/fIBIQcgByAH/fIBIQggByMJIAgjCyAIIw0gCCMP/fIB/fAB/fIB/fAB/fIB/fAB/fIBIAgjCiAIIwwgCCMO/fIB/fAB/fIB/fAB/fIB/fABIQkjACAE/fIBIAT98gEhCiAGIwf98gEgCiAFIAogCf3wAf3yASAGIwj98gH98AH98QEgBP3xAf3xASAGIwf98gEgBSAEIAn98QH98gEgBiMI/fIB/fEBIAT98QH98QEgASMo/dEBIykgAf3RAf1Q/QwAAAAAAAAAAAAAAAAAAAAA/dkB/VIgASMg/c4BIyP9TiMh/dgBC/8DARB7IABBIP3NASEBIAEjLv3aASECIAAjEP3yASMA/fAB/XohAyAAIAMjEf3yAf3xASEEIAMjEv3yASEFIAQgBf3xASEGIAQgBv3xASAF/fEBIQcgACAGIAL9UiEGIAcgAv1PIQcgAyM0/fABIAL9TyEIIAYgBv3yASEJIAkgBv3yASEKIxQgCSMVIAkjFiAJIxcgCSMY/fIB/fAB/fIB/fAB/fIB/fAB/fIB/fABIQQgBiAKIxMgCSAE/fIB/fAB/fIB/fABIAYgCSMAIAf98gEgCiAE/fIB/fEB/fIBIAf98QEgCiMT/fIB/fEB/fEBIAL9UiENIAZBIP3NASMq/U4hCyAJIxkgCSMaIAkjGyAJIxwgCSMdIAkjHv3yAf3wAf3yAf3wAf3yAf3wAf3yAf3wAf3yAf3wAf3yASEEIwYgCyMr/dEBQSD9ywEgCyMt/dkB/VIgCyMs/dgB/U8hDCMBIAz98QEjACAJ/fIBIAz98QEgCSAE/fIBIAYgB/3yAf3xAf3xAf3xASEOIAgjH/1O/QwAAAAAAAAAAAAAAAAAAAAA/dYB/U0hDyAIIyD9TkE+/csBIRAgDf3tASAOIA/9UiAQ/VEgDiANIA/9UiAQ/VEgASMv/dgBIAEjMP3WAf1QIAEjMf3WASABIzL91gH9UCABIzP91gH9UP1QC7cBAgF/A3wgACACQQJ0aiEEAkADQCAAIARPDQFEAAAAAAAAAMAgACgCALhEAAAAAAAA4D+gRAAAAAAAAPA9ohACop8hBUQYLURU+yEZQCAAKAIEuEQAAAAAAADgP6BEAAAAAAAA8D2iohAGIQchBiADBEAgASAFIAaitjgCACABIAUgB6K2OAIEIAFBCGohAQUgASAFIAaiOQMAIAEgBSAHojkDCCABQRBqIQELIABBCGohAAwACwsLzQICAX8JeyAAIAJBAnRqIQQCQANAIAAgBE8NASAA/QAEACEFIAUgBf0NAAECAwgJCgsAAQIDCAkKC/3/ASMA/fABIwT98gEQByEHIQYjBSAFIAX9DQQFBgcMDQ4PBAUGBwwNDg/9/wEjAP3wASME/fIB/fIBEAghCiEJIQggByAK/VD9UwRAIAAgAUEEIAMQCQUjAyAG/fIB/e8BIQsgCyAI/fIBIQwgCyAJ/fIBIQ0gAwRAIAEgDCAN/Q0AAQIDBAUGBxAREhMUFRYX/V4gDCAN/Q0ICQoLDA0ODxgZGhscHR4f/V79DQABAgMEBQYHEBESExQVFhf9CwQABSABIAwgDf0NAAECAwQFBgcQERITFBUWF/0LBAAgASAMIA39DQgJCgsMDQ4PGBkaGxwdHh/9CwQQCwsgAUEQQSAgAxtqIQEgAEEQaiEADAALCwsjAEEAIAAgASACIAMgBCAFIAYQAUEAQYCABCAAQQJ0IAcQCgv2AQMCfwZ7AnwgAEECdCECAkADQCABIAJPDQEgAf1dAwD9/wEjAP3wASME/fIBIQMjBSAD/fIBIQQgAxAHIQghBSAI/R0ApwRAIAUgA/0hABAC/SIAIQULIAj9HQGnBEAgBSAD/SEBEAL9IgEhBQsgBBAIIQghByEGIAj9HQCnBEAgBP0hABAGIQohCSAGIAn9IgAhBiAHIAr9IgAhBwsgCP0dAacEQCAE/SEBEAYhCiEJIAYgCf0iASEGIAcgCv0iASEHCyABQQF0IAX9CwSAgAQgAUEBdCAG/QsEgIAGIAFBAXQgB/0LBICACCABQQhqIQEMAAsLCwYAIAAQAgsHACAAEAYaCw0BAXwgABAGIQEaIAELC4kBAQBBoIAMC4AB+yH5P/shCUB82RJA+yEZQHpqH0B82SJAu/0lQPshKUA6RixAemovQFxHMUB82TJAnGs0QLv9NUDbjzdA+yE5QBu0OkA6RjxAWtg9QHpqP0BMfkBAXEdBQGwQQkB82UJAjKJDQJxrRECsNEVAu/1FQMvGRkDbj0dA61hIQPshSUA=';

/** Blocks per call at most: 4,096 blocks of 16 bytes fill the module's first 64 KiB page. */
export const maxPhiloxWasmBlocks = 4096;

/** Where `normals` writes its values in the module's memory (after the words). */
const NORMALS_BYTE = 65536;
/** The scratch pair of `pairInto`: two words, then two float64 values. */
const PAIR_BYTE = 196608;

/**
 * The wasm Philox and Box–Muller. Returned views are into the module's memory and valid until
 * the next call.
 */
export interface PhiloxWasm {
  /**
   * The words of blocks index, index + 1, … (the 64-bit block index is counter words 0 and 1),
   * with counter words 2 and 3 fixed (`counter2`, `counter3`) and key (`key0`, `key1`):
   * 4·`count` words, `count` ≤ `maxPhiloxWasmBlocks`, `index` + `count` ≤ 2^53.
   */
  blocks(index: number, count: number, counter2: number, counter3: number, key0: number, key1: number): Uint32Array;
  /**
   * The 4·`count` Box–Muller normals of the words `blocks` gives for the same arguments: word
   * pair (w₀, w₁) → r·cos θ, r·sin θ with r = √(−2 ln((w₀ + 0.5)/2^32)), θ = 2π·(w₁ + 0.5)/2^32,
   * each rounded to float32 once. `words(count)` then holds the blocks' words.
   */
  normals32(index: number, count: number, counter2: number, counter3: number, key0: number, key1: number): Float32Array;
  /** `normals32` in float64. */
  normals64(index: number, count: number, counter2: number, counter3: number, key0: number, key1: number): Float64Array;
  /** The words of the latest `blocks`, `normals32` or `normals64` call of `count` blocks. */
  words(count: number): Uint32Array;
  /**
   * Box–Muller on one word pair (`word0`, `word1`): r·cos θ into out[index] and r·sin θ into
   * out[index + 1] (each float64 value rounded once on store to a Float32Array).
   */
  pairInto(out: Float64Array | Float32Array, index: number, word0: number, word1: number): void;
}

type Exports = {
  memory: { buffer: ArrayBuffer };
  blocks(ptr: number, n: number, lo: number, hi: number, c2: number, c3: number, k0: number, k1: number): void;
  normals(n: number, lo: number, hi: number, c2: number, c3: number, k0: number, k1: number, float32: number): void;
  boxMuller(words: number, out: number, count: number, float32: number): void;
  testKernels(count: number): void;
  testLog(x: number): number;
  testCos(x: number): number;
  testSin(x: number): number;
};
/** The part of the WebAssembly and atob globals used here (core's types assume neither a DOM nor Node). */
type Globals = { WebAssembly?: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } }; atob?: (text: string) => string };

let instance: PhiloxWasm | null | undefined;
let ports: FdlibmPorts | null | undefined;

function littleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

function decodeBase64(text: string, atob: (text: string) => string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function compile(): Exports | null {
  try {
    const { WebAssembly: wasm, atob } = globalThis as Globals;
    if (typeof wasm !== 'object' || typeof atob !== 'function' || !littleEndian()) return null;
    // Synchronous compilation: allowed for a module this small on a browser's main thread too.
    return new wasm.Instance(new wasm.Module(decodeBase64(MODULE_BASE64, atob))).exports as Exports;
  } catch {
    // e.g. a CSP that forbids compiling WebAssembly: the JS blocks serve.
    return null;
  }
}

function instantiate(): PhiloxWasm | null {
  const exports = compile();
  if (exports === null) return null;
  // The memory never grows, so views made once stay valid.
  const words = new Uint32Array(exports.memory.buffer, 0, 4 * maxPhiloxWasmBlocks);
  const normals32 = new Float32Array(exports.memory.buffer, NORMALS_BYTE, 4 * maxPhiloxWasmBlocks);
  const normals64 = new Float64Array(exports.memory.buffer, NORMALS_BYTE, 4 * maxPhiloxWasmBlocks);
  const pairWords = new Uint32Array(exports.memory.buffer, PAIR_BYTE, 2);
  const pairValues = new Float64Array(exports.memory.buffer, PAIR_BYTE + 8, 2);
  return {
    blocks(index, count, counter2, counter3, key0, key1) {
      exports.blocks(0, count, index % 4294967296, Math.floor(index / 4294967296), counter2, counter3, key0, key1);
      return words.subarray(0, 4 * count);
    },
    normals32(index, count, counter2, counter3, key0, key1) {
      exports.normals(count, index % 4294967296, Math.floor(index / 4294967296), counter2, counter3, key0, key1, 1);
      return normals32.subarray(0, 4 * count);
    },
    normals64(index, count, counter2, counter3, key0, key1) {
      exports.normals(count, index % 4294967296, Math.floor(index / 4294967296), counter2, counter3, key0, key1, 0);
      return normals64.subarray(0, 4 * count);
    },
    words(count) {
      return words.subarray(0, 4 * count);
    },
    pairInto(out, index, word0, word1) {
      pairWords[0] = word0;
      pairWords[1] = word1;
      exports.boxMuller(PAIR_BYTE, PAIR_BYTE + 8, 2, 0);
      out[index] = pairValues[0] as number;
      out[index + 1] = pairValues[1] as number;
    },
  };
}

/** The wasm Philox and Box–Muller, compiled on first use; `undefined` where WebAssembly cannot run (see the file comment). */
export function philoxWasm(): PhiloxWasm | undefined {
  if (instance === undefined) instance = instantiate();
  return instance ?? undefined;
}

/** For tests: `false` makes `philoxWasm()` report no WebAssembly (the JS blocks then serve), `true` restores it. */
export function enablePhiloxWasmForTesting(enabled: boolean): void {
  instance = enabled ? instantiate() : null;
}

/** Box–Muller's inputs of a word w: log((w + 0.5)/2^32), cos θ and sin θ for θ = (2π)·((w + 0.5)/2^32). */
export interface BoxMullerKernels {
  readonly log: Float64Array;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

/**
 * The module's fdlibm ports, for tests that compare them with Math.*: `log` is fdlibm's log;
 * `cos` and `sin` are fdlibm's up to fdlibm's "medium" arguments (high word ≤ 0x413921FB:
 * |x| < 1,647,100, about 2^20·π/2) and NaN beyond (the scalar code, one value per call).
 * `kernels` gives, for each word, the log, cos and sin Box–Muller takes of it as the bulk
 * (`normals32`, `normals64`) computes them: two lanes at a time, rare lanes by the scalar code.
 */
export interface FdlibmPorts {
  log(x: number): number;
  cos(x: number): number;
  sin(x: number): number;
  /** For `words` (an even count of at most `maxPhiloxWasmBlocks` words), fresh arrays. */
  kernels(words: ArrayLike<number>): BoxMullerKernels;
}

/** For tests: the module's fdlibm ports (see `FdlibmPorts`); `undefined` where WebAssembly cannot run. */
export function fdlibmPortsForTesting(): FdlibmPorts | undefined {
  if (ports === undefined) {
    const exports = compile();
    if (exports === null) {
      ports = null;
    } else {
      const { memory, testKernels, testLog, testCos, testSin } = exports;
      ports = {
        log: testLog,
        cos: testCos,
        sin: testSin,
        kernels(words) {
          const count = words.length;
          if (count % 2 !== 0 || count > maxPhiloxWasmBlocks) {
            throw new LevelskipError('INVALID_OPTION', `fdlibmPortsForTesting().kernels(words): words must hold an even count of at most ${maxPhiloxWasmBlocks} words, got ${count}`);
          }
          new Uint32Array(memory.buffer, 0, count).set(words);
          testKernels(count);
          return {
            log: new Float64Array(memory.buffer, NORMALS_BYTE, count).slice(),
            cos: new Float64Array(memory.buffer, NORMALS_BYTE + 32768, count).slice(),
            sin: new Float64Array(memory.buffer, NORMALS_BYTE + 65536, count).slice(),
          };
        },
      };
    }
  }
  return ports ?? undefined;
}
