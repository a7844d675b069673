#!/usr/bin/env node
/**
 * Dev script: sha256 of the encoded ONNX bytes of every graph variant backend-onnx builds, for
 * every shipped model (packages/model-*) and every test fixture spec (core's `tinySpecs`, the
 * export tests' `exportSpec`), one line per (model, variant). Run it before and after a change
 * to the graph code and diff the outputs: identical lines mean byte-identical graphs.
 *
 * Variants: every decoder stage and k = 0..N−1; fused graphs with every graph-fusable fill the
 * spec supports and with the fill as an input (`input`), head graphs, tail graphs, each with and
 * without cache outputs.
 *
 * The package sources (core and backend-onnx) are bundled with esbuild, so no build is needed and
 * the output reflects the working tree.
 *
 *   node packages/backend-onnx/scripts/graph-hashes.mjs [--only <model>] > hashes.txt
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const core = join(root, 'packages/core/src');
const entry = `
export * from ${JSON.stringify(join(root, 'packages/backend-onnx/src/graph/unet-graphs.ts'))};
export { exportSpec } from ${JSON.stringify(join(root, 'packages/backend-onnx/test/helpers/export-models.ts'))};
export * as core from '@levelskip/core';
export { tinySpecs, tinySpecNames, fixtureWeights } from '@levelskip/core/testing';
`;
const out = mkdtempSync(join(tmpdir(), 'graph-hashes-'));
let lib;
try {
  await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: join(out, 'bundle.mjs'),
    alias: { '@levelskip/core/testing': join(core, 'testing/index.ts'), '@levelskip/core': join(core, 'index-node.ts') },
    logLevel: 'error',
  });
  lib = await import(pathToFileURL(join(out, 'bundle.mjs')).href);
} finally {
  rmSync(out, { recursive: true, force: true });
}
const { core: c } = lib;

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

/** [name, spec, weights] of every model. */
async function* models() {
  const packages = join(root, 'packages');
  for (const dir of readdirSync(packages).filter((d) => d.startsWith('model-')).sort()) {
    if (!existsSync(join(packages, dir, 'model.json'))) continue;
    if (only !== undefined && only !== dir) continue;
    const loaded = await c.loadCheckpoint(join(packages, dir));
    yield [dir, loaded.spec, loaded.weights];
  }
  for (const name of lib.tinySpecNames) {
    if (only !== undefined && only !== `tiny-${name}`) continue;
    const spec = c.parseUNetSpec(lib.tinySpecs[name]);
    yield [`tiny-${name}`, spec, lib.fixtureWeights(spec, 7)];
  }
  if (only === undefined || only === 'export-spec') yield ['export-spec', lib.exportSpec, c.randomWeights(lib.exportSpec, { seed: 1, jitter: 0.1 })];
}

function* variants(arch) {
  const fusable = c.fillsSupportedBy(arch.spec).filter((f) => c.exportableFillKinds.includes(f));
  for (let k = 0; k < arch.levels; k++) {
    yield { kind: 'head', k };
    for (let stage = 0; stage < arch.decoders.length; stage++) {
      for (const cacheOutputs of [false, true]) {
        if (k === 0) {
          yield { kind: 'fused', stage, k, fill: 'none', cacheOutputs };
          continue;
        }
        for (const fill of [...fusable, 'input']) yield { kind: 'fused', stage, k, fill, cacheOutputs };
        yield { kind: 'tail', stage, k, cacheOutputs };
      }
    }
  }
}

let count = 0;
for await (const [name, spec, weights] of models()) {
  const arch = c.describeArchitecture(spec);
  for (const variant of variants(arch)) {
    const graph = lib.buildUNetGraph(arch, weights, variant);
    const hash = createHash('sha256').update(graph.bytes).digest('hex');
    const io = `${graph.inputs.map((i) => i.name).join(',')}->${graph.outputs.map((o) => o.name).join(',')}`;
    process.stdout.write(`${name} ${graph.key} ${hash} ${graph.bytes.length} ${io}\n`);
    count++;
  }
}
process.stderr.write(`${count} graphs\n`);
