/**
 * Child scripts for `killLoop` are plain JavaScript run by `node`; tests usually want them to
 * import TypeScript sources. `bundleChildScript` bundles a TypeScript (or JavaScript) entry into one
 * ES module with esbuild, which must be installed where the tests run (it is a dev dependency of
 * the levelskip workspace; this package does not depend on it).
 */
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LevelskipError } from '../../errors/levelskip-error.js';

export interface BundleChildScriptOptions {
  /**
   * Import specifiers to replace, e.g. `{ '@levelskip/core': '/abs/packages/core/src/index-node.ts' }`,
   * so the child runs the sources under test rather than a stale build.
   */
  readonly alias?: Readonly<Record<string, string>>;
  /**
   * Packages to leave out of the bundle and import at run time (native addons such as
   * `onnxruntime-node` or `@tensorflow/tfjs-node`). They resolve from `outFile`'s directory, so
   * put `outFile` inside the package that depends on them.
   */
  readonly external?: readonly string[];
  /** Where the bundle goes (default: a fresh temporary directory). */
  readonly outFile?: string;
}

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** esbuild, from beside this module or else from the working directory's project. */
async function loadEsbuild(): Promise<EsbuildLike> {
  // A variable specifier: esbuild is optional, and bundlers must not try to resolve it.
  const specifier = 'esbuild';
  try {
    return (await import(specifier)) as EsbuildLike;
  } catch (error) {
    try {
      const path = createRequire(join(process.cwd(), 'package.json')).resolve(specifier);
      return (await import(pathToFileURL(path).href)) as EsbuildLike;
    } catch {
      throw new LevelskipError('UNSUPPORTED', 'bundleChildScript needs esbuild: add it as a dev dependency (pnpm add -D esbuild)', { cause: error });
    }
  }
}

/**
 * Bundles `entry` and everything it imports into a single ES module for `node` and returns its
 * path; only the packages in `external` stay imports.
 *
 * @throws LevelskipError `UNSUPPORTED` when esbuild is not installed; esbuild's own error for a
 *   script that does not compile.
 */
export async function bundleChildScript(entry: string, options: BundleChildScriptOptions = {}): Promise<string> {
  const esbuild = await loadEsbuild();
  const outFile = options.outFile ?? join(await mkdtemp(join(tmpdir(), 'levelskip-child-')), `${basename(entry).replace(/\.[cm]?[jt]s$/, '')}.mjs`);
  await esbuild.build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...(options.external ?? [])],
    // Bundled CommonJS packages may call require(); give the ES module one.
    banner: { js: "import { createRequire as __levelskipCreateRequire } from 'node:module'; const require = __levelskipCreateRequire(import.meta.url);" },
    alias: options.alias ?? {},
    logLevel: 'silent',
  });
  return outFile;
}
