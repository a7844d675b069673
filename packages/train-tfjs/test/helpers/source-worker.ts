/**
 * Tests run from the TypeScript sources, but `train({ workers })` starts its worker thread from a
 * built JavaScript file, which Node (20, no type stripping) must be able to load by itself. This
 * bundles src/parallel/training-worker.ts with esbuild (tsup's own, so nothing new is installed)
 * into one ESM file, with @levelskip/core and @levelskip/backend-tfjs taken from their sources as
 * vitest does, and points `LEVELSKIP_TRAINING_WORKER` at it; so the worker runs exactly the
 * sources under test, and no prior `pnpm build` is needed. The file sits in this package's
 * node_modules/.cache, so that the tfjs packages (left external) resolve from it as from src/
 * (tfjs-backend-wasm is a devDependency of this package for that).
 */
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trainingWorkerVariable } from '../../src/parallel/training-workers.js';

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<unknown>;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Builds the worker from source and sets the environment variable; returns a cleanup function. */
export async function useSourceTrainingWorker(): Promise<() => Promise<void>> {
  const require = createRequire(import.meta.url);
  const esbuildPath = createRequire(require.resolve('tsup')).resolve('esbuild');
  const esbuild = (await import(pathToFileURL(esbuildPath).href)) as EsbuildApi & { default?: EsbuildApi };
  const build = (esbuild.default ?? esbuild).build;
  const dir = `${packageRoot}node_modules/.cache/levelskip-tests`;
  const outfile = `${dir}/training-worker-${process.pid}-${Date.now()}.mjs`;
  await mkdir(dir, { recursive: true });
  await build({
    entryPoints: [`${packageRoot}src/parallel/training-worker.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@tensorflow/*'],
    alias: {
      '@levelskip/core': fileURLToPath(new URL('../../../core/src/index-node.ts', import.meta.url)),
      '@levelskip/backend-tfjs': fileURLToPath(new URL('../../../backend-tfjs/src/index.ts', import.meta.url)),
      // backend-tfjs's deprecated loadMnist re-export reaches it.
      '@levelskip/datasets': fileURLToPath(new URL('../../../datasets/src/index.ts', import.meta.url)),
    },
    logLevel: 'silent',
  });
  const previous = process.env[trainingWorkerVariable];
  process.env[trainingWorkerVariable] = outfile;
  return async () => {
    if (previous === undefined) delete process.env[trainingWorkerVariable];
    else process.env[trainingWorkerVariable] = previous;
    await rm(outfile, { force: true });
  };
}
