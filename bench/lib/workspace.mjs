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
 * Imports a built workspace package (`core`, `samplers`, `backend-onnx`, `backend-tfjs`, `metrics`,
 * `pretrained`, `cli`).
 * Throws with the build command when its dist/ is missing.
 */
export async function loadPackage(name) {
  const directory = packageDirectories[name];
  if (directory === undefined) throw new Error(`unknown workspace package ${name}; known: ${Object.keys(packageDirectories).join(', ')}`);
  const entry = join(repositoryRoot, directory, 'dist', 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`@levelskip/${name} is not built (${entry} is missing); run \`pnpm build\` (or \`pnpm --filter @levelskip/${name} build\`) first`);
  }
  return import(pathToFileURL(entry).href);
}

/** A `require` anchored at a workspace package, for its own dependencies. */
function requireFrom(name) {
  return createRequire(join(repositoryRoot, packageDirectories[name], 'package.json'));
}

/** onnxruntime-node, the copy @levelskip/backend-onnx uses. */
export function loadOnnxRuntime() {
  return requireFrom('backend-onnx')('onnxruntime-node');
}

/** @tensorflow/tfjs, the copy @levelskip/backend-tfjs uses (tfjs keeps its active engine globally). */
export function loadTfjs() {
  return requireFrom('backend-tfjs')('@tensorflow/tfjs');
}

/** `version` of a package resolvable from a workspace package, or null when it is not installed. */
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
