/**
 * `@levelskip/core/testing` loads without vitest (README examples and browser pages import it):
 * bundling it, with vitest left unresolvable, must succeed, while its vitest entry needs vitest.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = (path: string): string => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

/** Bundles `entry` for the browser; returns the imports of vitest it reached. */
async function vitestImports(entry: string): Promise<string[]> {
  const reached: string[] = [];
  await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    tsconfigRaw: '{}',
    plugins: [
      {
        name: 'record-vitest',
        setup(b) {
          b.onResolve({ filter: /^vitest$/ }, (args) => {
            reached.push(args.importer);
            return { path: 'vitest', external: true };
          });
        },
      },
    ],
  });
  return reached;
}

describe('@levelskip/core/testing', () => {
  it('reaches no vitest import (its conformance checks run in scripts and pages)', async () => {
    expect(await vitestImports(src('testing/index.ts'))).toEqual([]);
  });

  it('@levelskip/core/testing/vitest is where the vitest binding lives', async () => {
    expect((await vitestImports(src('testing/vitest.ts'))).length).toBeGreaterThan(0);
  });
});
