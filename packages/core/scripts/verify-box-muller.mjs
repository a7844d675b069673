#!/usr/bin/env node
/**
 * Exhaustive check of the WebAssembly Box–Muller's fdlibm ports (src/random/philox.wat) against
 * this Node's Math.log, Math.cos and Math.sin, on every input Box–Muller can give them: for every
 * 32-bit word w, u = (w + 0.5)/2^32 and θ = (2·Math.PI)·u, it compares log(u), cos(θ) and sin(θ)
 * bit for bit (Object.is), both as the scalar code computes them (`testLog`, `testCos`,
 * `testSin`: single pairs) and as the bulk does (`testKernels`: the two-lane code, its rare lanes
 * by the scalar code). Equal components make equal normals: √(−2·log u)·cos θ and
 * √(−2·log u)·sin θ are then the same IEEE operations on the same operands in both paths.
 *
 * Not run by the test suite (minutes of CPU); the tests check a few hundred thousand inputs.
 *
 *   node scripts/verify-box-muller.mjs [--from W] [--to W]   (words in [from, to), default all 2^32)
 *
 * Prints progress every 2^26 words and, at the end, the mismatch counts per function and path
 * (the first mismatching words are printed as found); exits 1 on any mismatch. The module checked is the one embedded in
 * src/random/philox-wasm.ts, after checking that it is philox.wat compiled (as the tests do).
 */
/* global WebAssembly */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const TWO_32 = 4294967296;
const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0 || value > TWO_32) {
    throw new Error(`${name} must be an integer in [0, 2^32], got ${String(args[at + 1])}`);
  }
  return value;
}
const from = option('--from', 0);
const to = option('--to', TWO_32);
if (from >= to) throw new Error(`--from (${from}) must be below --to (${to})`);

const wat = readFileSync(fileURLToPath(new URL('../src/random/philox.wat', import.meta.url)), 'utf8');
const source = readFileSync(fileURLToPath(new URL('../src/random/philox-wasm.ts', import.meta.url)), 'utf8');
const embedded = /const MODULE_BASE64 =\n {2}'([A-Za-z0-9+/=]*)';/.exec(source)?.[1];
if (embedded === undefined) throw new Error('philox-wasm.ts: MODULE_BASE64 not found');
const wabt = await createRequire(import.meta.url)('wabt')();
const parsed = wabt.parseWat('philox.wat', wat);
parsed.validate();
const compiled = Buffer.from(parsed.toBinary({}).buffer).toString('base64');
parsed.destroy();
if (compiled !== embedded) throw new Error('philox-wasm.ts is not philox.wat compiled: run pnpm --filter @levelskip/core wasm');

const { memory, testKernels, testLog, testCos, testSin } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(embedded, 'base64'))).exports;
const BATCH = 4096; // testKernels' largest count
const batchWords = new Uint32Array(memory.buffer, 0, BATCH);
const kernelLog = new Float64Array(memory.buffer, 65536, BATCH);
const kernelCos = new Float64Array(memory.buffer, 98304, BATCH);
const kernelSin = new Float64Array(memory.buffer, 131072, BATCH);
const twoPi = 2 * Math.PI;
const mismatches = { log: 0, cos: 0, sin: 0, kernelLog: 0, kernelCos: 0, kernelSin: 0 };
const PRINT_FIRST = 20;
let printed = 0;
function report(name, w, x, ours, theirs) {
  mismatches[name]++;
  if (printed++ < PRINT_FIRST) console.log(`MISMATCH ${name}: w = ${w} (0x${w.toString(16)}), x = ${x}, wasm ${ours}, Math ${theirs}`);
}

const STEP = 2 ** 26;
const started = performance.now();
console.log(`node ${process.version} (V8 ${process.versions.v8}): words [${from}, ${to}), ${to - from} inputs per function`);
for (let low = from; low < to; low += STEP) {
  const high = Math.min(low + STEP, to);
  for (let batch = low; batch < high; batch += BATCH) {
    const count = Math.min(BATCH, high - batch);
    // An even count for the two lanes: an odd last batch repeats its last word.
    for (let i = 0; i < count; i++) batchWords[i] = batch + i;
    batchWords[count] = batch + count - 1;
    testKernels(count + (count % 2));
    for (let i = 0; i < count; i++) {
      const w = batch + i;
      const u = (w + 0.5) / TWO_32;
      const theta = twoPi * u;
      const mathLog = Math.log(u);
      const mathCos = Math.cos(theta);
      const mathSin = Math.sin(theta);
      const log = testLog(u);
      if (!Object.is(log, mathLog)) report('log', w, u, log, mathLog);
      const cos = testCos(theta);
      if (!Object.is(cos, mathCos)) report('cos', w, theta, cos, mathCos);
      const sin = testSin(theta);
      if (!Object.is(sin, mathSin)) report('sin', w, theta, sin, mathSin);
      if (!Object.is(kernelLog[i], mathLog)) report('kernelLog', w, u, kernelLog[i], mathLog);
      if (!Object.is(kernelCos[i], mathCos)) report('kernelCos', w, theta, kernelCos[i], mathCos);
      if (!Object.is(kernelSin[i], mathSin)) report('kernelSin', w, theta, kernelSin[i], mathSin);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const done = high - from;
  const eta = (seconds / done) * (to - high);
  console.log(
    `words < ${high} (0x${high.toString(16)}): ${((100 * done) / (to - from)).toFixed(1)} %, ${seconds.toFixed(0)} s, ETA ${eta.toFixed(0)} s; ` +
      `mismatches ${JSON.stringify(mismatches)}`,
  );
}
const total = Object.values(mismatches).reduce((sum, count) => sum + count, 0);
console.log(`done: words [${from}, ${to}) in ${((performance.now() - started) / 1000).toFixed(0)} s; mismatches ${JSON.stringify(mismatches)}`);
process.exit(total === 0 ? 0 : 1);
