#!/usr/bin/env node
/**
 * SeededRng.normal(n) in ns per normal, three ways, interleaved in one process (rounds rotate the
 * order; medians reported):
 * - `js`: no WebAssembly (`enablePhiloxWasmForTesting(false)`): JS Philox, JS Box–Muller over Math.*;
 * - `wasm-philox`: the path before Box–Muller moved into WebAssembly, a copy of it: wasm Philox
 *   blocks, then the JS Box–Muller loop over Math.* (n a multiple of 4, drawn from position 0);
 * - `wasm`: today's SeededRng: Philox and Box–Muller in one WebAssembly pass;
 * - with `--rev <git revision>`, also `rev`: SeededRng.normal as that revision's
 *   src/random/{seeded-rng,philox-wasm,philox}.ts had it (read with `git show`), e.g. the
 *   revision before Box–Muller moved into WebAssembly.
 * It first checks that all give the same values.
 *
 *   node scripts/bench-normals.mjs [--sizes 1024,16384,51200] [--rounds 15] [--ms 40] [--rev REV]
 *
 * Bundles src/random with esbuild (no build needed). A dev tool: not run by the test suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const sizes = option('--sizes', '1024,16384,51200').split(',').map(Number);
const rounds = Number(option('--rounds', '15'));
const targetMs = Number(option('--ms', '40'));
const rev = option('--rev', undefined);
for (const n of sizes) if (!(Number.isSafeInteger(n) && n > 0 && n % 4 === 0)) throw new Error(`--sizes: each size must be a positive multiple of 4, got ${n}`);

const root = fileURLToPath(new URL('..', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'bench-normals-'));
const bundle = join(directory, 'random.mjs');
await build({
  stdin: {
    contents: "export { SeededRng } from './src/random/seeded-rng.ts'; export { enablePhiloxWasmForTesting, philoxWasm } from './src/random/philox-wasm.ts';",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: bundle,
  logLevel: 'warning',
});
const { SeededRng, enablePhiloxWasmForTesting, philoxWasm } = await import(pathToFileURL(bundle).href);
let RevSeededRng;
if (rev !== undefined) {
  // That revision's files in a scratch tree (errors from this checkout), bundled the same way.
  const tree = join(directory, 'rev', 'src');
  mkdirSync(join(tree, 'random'), { recursive: true });
  for (const file of ['seeded-rng.ts', 'philox-wasm.ts', 'philox.ts']) {
    writeFileSync(join(tree, 'random', file), execFileSync('git', ['show', `${rev}:packages/core/src/random/${file}`], { cwd: root }));
  }
  const revBundle = join(directory, 'rev.mjs');
  await build({
    stdin: { contents: "export { SeededRng } from './random/seeded-rng.ts';", resolveDir: tree, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: revBundle,
    logLevel: 'warning',
    // The errors module of this checkout: the revision's tree holds only src/random.
    plugins: [
      {
        name: 'errors-from-checkout',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /errors\/levelskip-error\.js$/ }, () => ({ path: join(root, 'src', 'errors', 'levelskip-error.ts') }));
        },
      },
    ],
  });
  ({ SeededRng: RevSeededRng } = await import(pathToFileURL(revBundle).href));
}
rmSync(directory, { recursive: true, force: true });

const SEED = 42; // key words (42, 0): round 0's keys are the key
const STREAM = 3;
const NORMAL_FAMILY = 0x80000000;
const CHUNK_BLOCKS = 1024;
const TWO_32 = 4294967296;

/** The JS Box–Muller loop of SeededRng before this change (seeded-rng.ts `boxMullerInto`). */
function boxMullerInto(out, offset, words, count) {
  for (let j = 0; j < count; j += 2) {
    const radius = Math.sqrt(-2 * Math.log((words[j] + 0.5) / TWO_32));
    const angle = 2 * Math.PI * ((words[j + 1] + 0.5) / TWO_32);
    out[offset + j] = radius * Math.cos(angle);
    out[offset + j + 1] = radius * Math.sin(angle);
  }
}

/** A copy of the bulk path before this change: wasm Philox blocks, then the JS loop, for `n` (a multiple of 4) from position `start` (a multiple of 4). */
function wasmPhiloxNormals(n, start) {
  const wasm = philoxWasm();
  const out = new Float32Array(n);
  const blocks = n / 4;
  let index = start / 4;
  for (let done = 0, i = 0; done < blocks; ) {
    const count = Math.min(CHUNK_BLOCKS, blocks - done);
    const words = wasm.blocks(index, count, STREAM, NORMAL_FAMILY, SEED, 0);
    boxMullerInto(out, i, words, 4 * count);
    done += count;
    index += count;
    i += 4 * count;
  }
  return out;
}

function makeCandidates(n) {
  let jsRng;
  let wasmRng;
  let revRng;
  let position = 0;
  const revCandidate = {
    rev: {
      setup() {
        revRng ??= new RevSeededRng(SEED, STREAM);
      },
      run: () => revRng.normal(n),
    },
  };
  return {
    ...(RevSeededRng === undefined ? {} : revCandidate),
    js: {
      setup() {
        enablePhiloxWasmForTesting(false);
        jsRng ??= new SeededRng(SEED, STREAM);
      },
      run: () => jsRng.normal(n),
    },
    'wasm-philox': {
      setup: () => enablePhiloxWasmForTesting(true),
      run() {
        const out = wasmPhiloxNormals(n, position);
        position += n;
        return out;
      },
    },
    wasm: {
      setup() {
        enablePhiloxWasmForTesting(true);
        wasmRng ??= new SeededRng(SEED, STREAM);
      },
      run: () => wasmRng.normal(n),
    },
  };
}

// The three agree (the copy of the old path included).
for (const n of sizes) {
  enablePhiloxWasmForTesting(false);
  const js = new SeededRng(SEED, STREAM).normal(2 * n);
  enablePhiloxWasmForTesting(true);
  const wasm = new SeededRng(SEED, STREAM).normal(2 * n);
  const old = wasmPhiloxNormals(2 * n, 0);
  const atRev = RevSeededRng === undefined ? old : new RevSeededRng(SEED, STREAM).normal(2 * n);
  for (let i = 0; i < 2 * n; i++) {
    if (!Object.is(js[i], wasm[i]) || !Object.is(old[i], wasm[i]) || !Object.is(atRev[i], wasm[i])) {
      throw new Error(`n = ${n}: the paths differ at ${i}: js ${js[i]}, wasm-philox ${old[i]}, rev ${atRev[i]}, wasm ${wasm[i]}`);
    }
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

console.log(`node ${process.version} (V8 ${process.versions.v8}); ${rounds} rounds of ≈${targetMs} ms per candidate; ns per normal (median, [min, max])`);
const rows = [];
for (const n of sizes) {
  const candidates = makeCandidates(n);
  const names = Object.keys(candidates);
  const reps = {};
  // Warm up, and size each run to about targetMs.
  for (const name of names) {
    candidates[name].setup();
    let count = 1;
    for (;;) {
      const started = performance.now();
      for (let r = 0; r < count; r++) candidates[name].run();
      const elapsed = performance.now() - started;
      if (elapsed >= targetMs / 4) {
        reps[name] = Math.max(1, Math.round((count * targetMs) / elapsed));
        break;
      }
      count *= 2;
    }
  }
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      candidates[name].setup();
      const started = performance.now();
      for (let r = 0; r < reps[name]; r++) candidates[name].run();
      samples[name].push(((performance.now() - started) * 1e6) / (reps[name] * n));
    }
  }
  const row = { n };
  for (const name of names) row[name] = median(samples[name]);
  rows.push(row);
  console.log(
    `n = ${String(n).padStart(6)}: ` +
      names.map((name) => `${name} ${row[name].toFixed(1)} [${Math.min(...samples[name]).toFixed(1)}, ${Math.max(...samples[name]).toFixed(1)}]`).join(' | ') +
      ` | wasm / wasm-philox ${(row.wasm / row['wasm-philox']).toFixed(2)}` +
      (row.rev === undefined ? '' : ` | wasm / rev ${(row.wasm / row.rev).toFixed(2)}`),
  );
}
enablePhiloxWasmForTesting(true);
