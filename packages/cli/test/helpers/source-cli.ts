/**
 * Child processes that run the CLI from its TypeScript sources (so no `pnpm build` is needed and
 * nothing stale is tested): `bundleCliScript(entry)` bundles an entry that imports `src/` with
 * esbuild (core's `bundleChildScript`), taking @levelskip/core, samplers and backend-onnx from
 * their sources as vitest does. Packages that find data files next to their own code
 * (pretrained, metrics, backend-tfjs's wasm, train-tfjs's worker script) and native or CommonJS dependencies stay external and
 * resolve from this package's node_modules, where the bundle is written.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// The vitest config has no alias for @levelskip/core/testing/faults; its sources are imported directly.
import { bundleChildScript } from '../../../core/src/testing/faults/index.js';

const sibling = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Bundles `entry` (a path to a .ts file) and returns the path of the runnable .mjs. */
export async function bundleCliScript(entry: string): Promise<string> {
  const dir = `${packageRoot}node_modules/.cache/levelskip-tests`;
  mkdirSync(dir, { recursive: true });
  const name = entry.replace(/^.*\//, '').replace(/\.ts$/, '');
  return bundleChildScript(entry, {
    outFile: `${dir}/${name}-${process.pid}-${Date.now()}.mjs`,
    alias: {
      '@levelskip/core': sibling('core/src/index-node.ts'),
      '@levelskip/samplers': sibling('samplers/src/index.ts'),
      '@levelskip/backend-onnx': sibling('backend-onnx/src/index.ts'),
    },
    external: [
      '@levelskip/backend-tfjs',
      '@levelskip/train-tfjs',
      '@levelskip/pretrained',
      '@levelskip/metrics',
      '@tensorflow/*',
      'onnxruntime-node',
      'onnxruntime-web',
      'onnxruntime-common',
      'commander',
      'pngjs',
      'cli-progress',
      'mnist',
    ],
  });
}
