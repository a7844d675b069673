#!/usr/bin/env node
/**
 * Builds the demo page into dist/: the page's script bundled by esbuild for the browser (the
 * levelskip packages' browser entries, onnxruntime-web, TensorFlow.js), the runtimes' .wasm files
 * beside it (ort/, tfjs/), and the shipped models as static files (models/<name>/model.json +
 * model.safetensors, fp16), fetched by the page. The packages must be built first (`pnpm build`).
 *
 *   node scripts/build.mjs [--out dist]
 */
import { realpathSync } from 'node:fs';
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const here = fileURLToPath(new URL('..', import.meta.url));
/** A dependency's installed directory (not every package exports its package.json to resolve). */
const packageDir = (name) => realpathSync(join(here, 'node_modules', name));

/** Copies the files of `from` whose names match `pattern` into `to`. */
async function copyMatching(from, to, pattern) {
  await mkdir(to, { recursive: true });
  const names = (await readdir(from)).filter((name) => pattern.test(name));
  await Promise.all(names.map((name) => cp(join(from, name), join(to, name))));
  return names;
}

/**
 * The shipped models this page depends on: each catalogued model whose package
 * (@levelskip/model-<name>) is installed here, as `name → its package directory`.
 */
async function shippedModels() {
  const { catalogue } = await import('@levelskip/pretrained');
  const directories = new Map();
  for (const entry of [...catalogue].sort((a, b) => a.name.localeCompare(b.name))) {
    const directory = join(here, 'node_modules', entry.packageName);
    const files = await readdir(directory).catch(() => []);
    if (files.includes('model.json') && files.includes('model.safetensors')) directories.set(entry.name, realpathSync(directory));
  }
  return { directories, names: [...directories.keys()] };
}

/** Builds the page into `out` (default examples/web/dist); returns what it wrote. */
export async function buildPage({ out = join(here, 'dist'), log = console.log } = {}) {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const models = await shippedModels();
  const result = await esbuild({
    // The demo, and the conformance page (core's conformance suite on each engine).
    entryPoints: { main: join(here, 'src', 'main.ts'), conformance: join(here, 'src', 'conformance.ts') },
    outdir: out,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    // tsup's own chunks are imported bare from entries of a sideEffects: false package; dropping them is right.
    logOverride: { 'ignored-bare-import': 'silent' },
    define: { LEVELSKIP_MODELS: JSON.stringify(models.names) },
    // Resolve the levelskip packages as an installed app would (their dist/), not through the
    // monorepo's tsconfig paths to their sources.
    tsconfigRaw: '{}',
  });
  await cp(join(here, 'index.html'), join(out, 'index.html'));
  await cp(join(here, 'conformance.html'), join(out, 'conformance.html'));
  await cp(join(here, 'style.css'), join(out, 'style.css'));
  // onnxruntime-web's default bundle runs its JSEP build (wasm and WebGPU); the other variants
  // (asyncify, JSPI, plain) are never fetched by it.
  const ortFiles = await copyMatching(join(packageDir('onnxruntime-web'), 'dist'), join(out, 'ort'), /^ort-wasm-simd-threaded\.jsep\.(wasm|mjs)$/);
  const tfjsFiles = await copyMatching(join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist'), join(out, 'tfjs'), /\.wasm$/);
  for (const [name, directory] of models.directories) {
    await copyMatching(directory, join(out, 'models', name), /^model\.(json|safetensors)$/);
  }
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  log(`web: wrote ${out} (scripts ${(bytes / 1024).toFixed(0)} KB with source maps; ${ortFiles.length} ORT and ${tfjsFiles.length} tfjs wasm files; models ${models.names.join(', ')})`);
  return { out, models: models.names };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  await buildPage(at > 0 ? { out: process.argv[at + 1] } : {});
}
