/**
 * The package's two builds: the browser entry (package.json's "browser" export condition) is the
 * Node entry without what needs Node, and nothing it reaches imports a Node built-in. The source
 * graph is bundled here as a browser bundler would (esbuild, tsup's own copy), so this holds
 * without a build; scripts/browser-bundle.mjs checks the built dist/ the same way.
 */
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../src/browser.js';
import * as nodeEntry from '../src/index.js';

const packageRoot = fileURLToPath(new URL('../', import.meta.url));

/** Exports only the Node build has: the MNIST loader (fs; deprecated) and the wasm directory lookup. */
const nodeOnly = ['loadMnist', 'mnistTestPerDigit', 'wasmBinaryDirectory'];

/** The trainer's exports, which moved to @levelskip/train-tfjs: neither build has them any more. */
const movedToTrainTfjs = ['train', 'planTraining', 'trainingLimits', 'liveTrainingWorkerCount', 'createTimestepSampler', 'adamUpdate', 'readTrainingCheckpoint', 'timestepGradientFeatures'];

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** Node built-ins reached from `entry` (under src/) when bundled for a browser, as `importer → built-in`. */
async function builtinsReached(entry: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const esbuildPath = createRequire(require.resolve('tsup')).resolve('esbuild');
  const esbuild = (await import(pathToFileURL(esbuildPath).href)) as EsbuildApi & { default?: EsbuildApi };
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
  const reached: string[] = [];
  await (esbuild.default ?? esbuild).build({
    entryPoints: [`${packageRoot}src/${entry}`],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    // The runtimes, core and datasets are the application's to bundle; core has its own browser
    // entry, and datasets checks its own (only the Node entry reaches it, for the deprecated loadMnist).
    external: ['@tensorflow/*', '@levelskip/core', '@levelskip/datasets'],
    plugins: [
      {
        name: 'record-node-builtins',
        setup(build: { onResolve(options: { filter: RegExp }, callback: (args: { path: string; importer: string }) => unknown): void }) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (!builtins.has(args.path)) return undefined;
            reached.push(`${args.importer.slice(packageRoot.length)} → ${args.path}`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return reached;
}

describe('package entries', () => {
  it('the browser entry exports everything the Node entry does except MNIST and wasmBinaryDirectory', () => {
    const nodeNames = Object.keys(nodeEntry).sort();
    const browserNames = Object.keys(browserEntry).sort();
    expect(browserNames).toEqual(nodeNames.filter((name) => !nodeOnly.includes(name)));
    expect(nodeNames).toEqual(expect.arrayContaining(nodeOnly));
  });

  it('neither entry exports the trainer (it is @levelskip/train-tfjs, which depends on this package)', () => {
    for (const entry of [nodeEntry, browserEntry]) expect(Object.keys(entry).filter((name) => movedToTrainTfjs.includes(name))).toEqual([]);
  });

  it('each entry has its own engine order and createTfjsBackend', () => {
    expect(nodeEntry.engineOrder).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
    expect(browserEntry.engineOrder).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(browserEntry.createTfjsBackend).not.toBe(nodeEntry.createTfjsBackend);
  });

  it('nothing the browser entry reaches imports a Node built-in (and the Node entry does, so the check sees them)', async () => {
    expect(await builtinsReached('browser.ts')).toEqual([]);
    expect(await builtinsReached('index.ts')).toEqual(expect.arrayContaining(['src/engine/select-engine.ts → node:module']));
  });

  it("package.json sends the browser condition to the browser build, with types first in every condition", () => {
    const manifest = JSON.parse(readFileSync(`${packageRoot}package.json`, 'utf8')) as { exports: Record<string, unknown> };
    const root = manifest.exports['.'] as Record<string, Record<string, unknown>>;
    expect(Object.keys(root)).toEqual(['browser', 'import', 'require']);
    expect(root.browser).toEqual({
      import: { types: './dist/browser.d.ts', default: './dist/browser.js' },
      require: { types: './dist/browser.d.cts', default: './dist/browser.cjs' },
    });
    const leaves: Record<string, unknown>[] = [root.import!, root.require!, root.browser!.import as Record<string, unknown>, root.browser!.require as Record<string, unknown>];
    for (const leaf of leaves) expect(Object.keys(leaf)[0]).toBe('types');
  });
});
