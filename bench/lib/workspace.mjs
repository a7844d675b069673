// @ts-check
/**
 * Loading the workspace packages and compute runtimes from bench/, which is not a package.
 *
 * Why paths rather than bare specifiers: the root package.json depends only on @levelskip/core,
 * so `import('@levelskip/samplers')` would not resolve from here. The packages' built `dist/`
 * is exactly what their `exports` map points at, so importing it by path runs the same code.
 * Runtimes (onnxruntime-node, @tensorflow/tfjs) are resolved from the backend package that
 * depends on them, so the benchmark uses the very copy (and the same module instance) that the
 * backend uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root (bench/lib/../..). */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** @type {Record<import('./types.js').WorkspacePackageName, string>} */
const packageDirectories = {
  core: 'packages/core',
  samplers: 'packages/samplers',
  'backend-onnx': 'packages/backend-onnx',
  'backend-tfjs': 'packages/backend-tfjs',
  metrics: 'packages/metrics',
  pretrained: 'packages/pretrained',
  cli: 'packages/cli',
};

/**
 * The file Node's `import('@levelskip/<name>')` loads: the package's `exports['.'].import` (core's
 * is its Node entry, `dist/index-node.js`, which adds checkpoint directories on disk to the shared
 * entry), else `dist/index.js`.
 *
 * @param {string} root the checkout
 * @param {string} directory the package's folder in it
 * @returns {string} an absolute path
 */
function importEntry(root, directory) {
  const manifestPath = join(root, directory, 'package.json');
  /** @type {{ exports?: { '.'?: { import?: string | { default?: string } } } }} */
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  const target = manifest.exports?.['.']?.import;
  return join(root, directory, (typeof target === 'string' ? target : target?.default) ?? './dist/index.js');
}

/**
 * Imports a built workspace package (`core`, `samplers`, `backend-onnx`, `backend-tfjs`, `metrics`,
 * `pretrained`, `cli`), by default this checkout's; `root` names another checkout (e.g. a
 * baseline that `pnpm bench overhead --baseline` times beside this one). The entry is the one
 * Node's `import` condition selects (bench/ runs in Node): for core, its Node entry.
 * Throws with the build command when its dist/ is missing.
 *
 * @template {import('./types.js').WorkspacePackageName} Name
 * @param {Name} name
 * @param {string} [root] the checkout (default: this one)
 * @returns {Promise<import('./types.js').WorkspacePackages[Name]>}
 */
export async function loadPackage(name, root = repositoryRoot) {
  const directory = packageDirectories[name];
  if (directory === undefined) throw new Error(`unknown workspace package ${name}; known: ${Object.keys(packageDirectories).join(', ')}`);
  const entry = importEntry(root, directory);
  if (!existsSync(entry)) {
    throw new Error(`@levelskip/${name} is not built (${entry} is missing); run \`pnpm build\` (or \`pnpm --filter @levelskip/${name} build\`) first`);
  }
  return import(pathToFileURL(entry).href);
}

/**
 * A `require` anchored at a workspace package, for its own dependencies.
 *
 * @param {import('./types.js').WorkspacePackageName} name
 */
function requireFrom(name) {
  return createRequire(join(repositoryRoot, packageDirectories[name], 'package.json'));
}

/**
 * onnxruntime-node, the copy @levelskip/backend-onnx uses.
 *
 * @returns {typeof import('onnxruntime-node')}
 */
export function loadOnnxRuntime() {
  return requireFrom('backend-onnx')('onnxruntime-node');
}

/**
 * @tensorflow/tfjs, the copy @levelskip/backend-tfjs uses (tfjs keeps its active engine globally).
 *
 * @returns {typeof import('@tensorflow/tfjs')}
 */
export function loadTfjs() {
  return requireFrom('backend-tfjs')('@tensorflow/tfjs');
}

/**
 * `version` of a package resolvable from a workspace package, or null when it is not installed.
 *
 * @param {import('./types.js').WorkspacePackageName} from the workspace package whose dependency it is
 * @param {string} dependency the dependency's package name
 * @returns {string | null}
 */
export function dependencyVersion(from, dependency) {
  try {
    const require = requireFrom(from);
    // Resolve the entry point (package.json may not be exported), then walk up to the package root.
    let directory = dirname(require.resolve(dependency));
    while (!existsSync(join(directory, 'package.json')) || JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).name !== dependency) {
      const parent = dirname(directory);
      if (parent === directory) return null;
      directory = parent;
    }
    return JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}
