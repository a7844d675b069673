/**
 * The package runs in browsers: bundled as a browser bundler would (esbuild, tsup's own copy,
 * `platform: 'browser'`), nothing it reaches imports a Node built-in, and the `mnist` package is
 * left to the app (imported by a computed name, so it is not bundled).
 */
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../', import.meta.url));

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}

describe('browser bundle', () => {
  it('reaches no Node built-in and does not bundle the digits', async () => {
    const require = createRequire(import.meta.url);
    const esbuildPath = createRequire(require.resolve('tsup')).resolve('esbuild');
    const esbuild = (await import(pathToFileURL(esbuildPath).href)) as EsbuildApi & { default?: EsbuildApi };
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const reached: string[] = [];
    const result = await (esbuild.default ?? esbuild).build({
      entryPoints: [`${packageRoot}src/index.ts`],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
      // Core is the application's to bundle (it has its own browser entry and check).
      external: ['@levelskip/core'],
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
    expect(reached).toEqual([]);
    const code = result.outputFiles[0]!.text;
    // The bundle is the loader, not the ~41 MB of digits (mnist's JSON files would be megabytes).
    expect(code.length).toBeLessThan(30_000);
    expect(code).toContain('loadMnist');
  });
});
