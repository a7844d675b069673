/**
 * The browser entry bundles for the web as an app's bundler would (esbuild, platform browser) with
 * no Node.js built-in reached and no protobufjs/onnx-proto (graphs are encoded by our own writer).
 * `@levelskip/core` and the runtimes are left out: core has its own check, and the runtimes are
 * the app's peer dependencies. `scripts/browser-bundle.mjs` at the repository root measures the
 * published build the same way, core included.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

async function bundle(entry: string): Promise<{ nodeImports: string[]; inputs: string[] }> {
  const nodeImports: string[] = [];
  const guard: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        nodeImports.push(`${args.importer} → ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['@levelskip/core', 'onnxruntime-web', 'onnxruntime-node', 'onnxruntime-common'],
    plugins: [guard],
  });
  return { nodeImports, inputs: Object.keys(result.metafile.inputs) };
}

describe('the browser entry', () => {
  it('reaches no Node.js built-in and no protobufjs', async () => {
    const { nodeImports, inputs } = await bundle('../src/browser.ts');
    expect(nodeImports).toEqual([]);
    expect(inputs.filter((f) => /protobufjs|onnx-proto/.test(f))).toEqual([]);
    expect(inputs).toContainEqual(expect.stringMatching(/src\/graph\/onnx-model-encoder\.ts$/));
  });

  it('while the Node.js entry does reach them (the check sees built-ins when they are there)', async () => {
    const { nodeImports } = await bundle('../src/index.ts');
    expect(nodeImports).toContainEqual(expect.stringMatching(/node-environment\.ts → node:os$/));
    expect(nodeImports).toContainEqual(expect.stringMatching(/export-onnx\.ts → node:fs\/promises$/));
  });
});
