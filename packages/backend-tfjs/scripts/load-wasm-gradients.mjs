// Loads src/gradients/register-wasm-gradients.ts into a plain-node script without a build step:
// bundles it with esbuild (the copy tsup depends on) into a temp file, with @levelskip/core taken
// from its sources. The gradient modules import tfjs for types only, so the bundle has no
// runtime tfjs import and uses whatever `tf` the script passes in.
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** @returns the module namespace of src/gradients/register-wasm-gradients.ts */
export async function loadWasmGradients() {
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve('tsup'))('esbuild');
  const result = await esbuild.build({
    entryPoints: [here('../src/gradients/register-wasm-gradients.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    alias: { '@levelskip/core': here('../../core/src/index.ts') },
    external: ['@tensorflow/*'],
    logLevel: 'error',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'levelskip-wasm-gradients-')), 'register-wasm-gradients.mjs');
  writeFileSync(file, result.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
