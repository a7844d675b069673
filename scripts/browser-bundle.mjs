/**
 * Bundles a levelskip package for the browser, as a web app's bundler would, and reports what it
 * reached: esbuild with `platform: 'browser'` (so package.json `browser` conditions win), every
 * export of the package kept, minified, and the compute runtimes (`onnxruntime-*`,
 * `@tensorflow/*`) left external: they are the user's peer dependencies and ship their own
 * wasm/JS. Any import of a Node built-in (`fs`, `node:path`, ...) is an error, named with the
 * file that imports it.
 *
 *   node scripts/browser-bundle.mjs [@levelskip/core ...]   # a table; exit 1 on any failure
 *
 * The tests (test/browser/bundles.test.ts) call `bundleForBrowser` on every package and hold
 * core + samplers + backend-onnx to the size budget.
 */
import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Packages that must bundle for a browser. The CLI and @levelskip/train-tfjs (training: worker_threads, fs) are Node-only by design. */
export const browserPackages = ['@levelskip/core', '@levelskip/samplers', '@levelskip/backend-onnx', '@levelskip/backend-tfjs', '@levelskip/pretrained', '@levelskip/metrics', '@levelskip/pipeline'];

/**
 * gzip bytes allowed for core + samplers + backend-onnx together, runtimes excluded. 80 KB until
 * 2026-12-06 (79.8 KB used); core's SkipPlan, the composition's phases and resolveFill (one
 * traversal for every backend, validation once per run) took it to 80.9 KB, so the budget moved to
 * 84 KB: a guard against accidental growth, raised only with the reason written here. On
 * 2026-12-07 (81.8 KB used) core's Philox module gained Box–Muller with a bit-exact port of
 * fdlibm's log, sin and cos, scalar and SIMD (5.8 KB of wasm, 4.7 KB gzip as base64, and the
 * licence notice of V8 and fdlibm): seeded noise 2–3× cheaper and the same bits on every engine,
 * browsers included; 87.2 KB, so 88 KB.
 */
export const sizeBudgetGzipBytes = 88 * 1024;

/** Left to the user's app: the compute runtimes (peer dependencies). */
export const runtimeExternals = ['onnxruntime-web', 'onnxruntime-node', 'onnxruntime-common', '@tensorflow/*'];

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
// examples/web depends on every browser package, so its node_modules resolves them all (to dist/).
const resolveDir = fileURLToPath(new URL('../examples/web/', import.meta.url));

/**
 * Bundles `specifiers` (package names) together, minified, for the browser.
 * @returns bytes and gzipped bytes of the bundle, the Node built-ins reached (`file → builtin`) and
 *   esbuild's errors; `ok` when both lists are empty.
 */
export async function bundleForBrowser(specifiers, { externals = runtimeExternals } = {}) {
  const nodeImports = [];
  const guard = {
    name: 'no-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        nodeImports.push(`${args.importer || '(entry)'} → ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const contents = specifiers.map((s, i) => `export * as m${i} from '${s}';`).join('\n');
  let result;
  try {
    result = await build({
      stdin: { contents, resolveDir, loader: 'js', sourcefile: 'entry.js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
      external: externals,
      plugins: [guard],
      // Resolve sibling packages as an app would (their dist/), not through the monorepo's tsconfig paths.
      tsconfigRaw: '{}',
    });
  } catch (error) {
    const errors = (error.errors ?? [{ text: String(error) }]).map((e) => `${e.location?.file ?? ''}: ${e.text}`);
    return { ok: false, bytes: 0, gzipBytes: 0, nodeImports, errors };
  }
  const code = result.outputFiles[0].contents;
  return {
    ok: nodeImports.length === 0,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    nodeImports,
    errors: [],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.length > 2 ? process.argv.slice(2) : browserPackages;
  let failed = false;
  for (const name of names) {
    const r = await bundleForBrowser([name]);
    failed ||= !r.ok;
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${name.padEnd(26)} ${(r.bytes / 1024).toFixed(1).padStart(8)} KB min ${(r.gzipBytes / 1024).toFixed(1).padStart(7)} KB gzip`);
    for (const line of [...r.nodeImports, ...r.errors]) console.log(`       ${line}`);
  }
  const budget = await bundleForBrowser(['@levelskip/core', '@levelskip/samplers', '@levelskip/backend-onnx']);
  console.log(`core + samplers + backend-onnx: ${(budget.gzipBytes / 1024).toFixed(1)} KB gzip (budget ${sizeBudgetGzipBytes / 1024} KB)${budget.ok ? '' : ' — does not bundle'}`);
  failed ||= !budget.ok || budget.gzipBytes > sizeBudgetGzipBytes;
  process.exit(failed ? 1 : 0);
}
