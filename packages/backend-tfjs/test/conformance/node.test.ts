/**
 * Core's conformance suite on the libtensorflow engines, when their optional packages are
 * installed. They are not installed in this repository (they download libtensorflow when built),
 * so here the tests are skipped with the reason in their names.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { runBackendConformance } from '@levelskip/core/testing/vitest';
import { createTfjsBackend, liveTensorCount, type TfjsEngine } from '../../src/index.js';

function installed(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

// One libtensorflow engine per process: prefer the GPU build when both are present, as auto does.
const engines: { engine: TfjsEngine; packageName: string }[] = [
  { engine: 'node-gpu', packageName: '@tensorflow/tfjs-node-gpu' },
  { engine: 'node', packageName: '@tensorflow/tfjs-node' },
];
const available = engines.find((e) => installed(e.packageName));

for (const { engine, packageName } of engines) {
  const present = installed(packageName);
  describe(`tfjs-${engine} engine`, () => {
    it.skipIf(!present)(`starts${present ? '' : ` (skipped: ${packageName} is not installed; it is an optional peer dependency)`}`, async () => {
      const backend = await createTfjsBackend({ engine });
      expect(backend.name).toBe(`tfjs-${engine}`);
      expect(backend.tfBackend).toBe('tensorflow');
      backend.dispose();
    });
  });
}

if (available !== undefined) {
  runBackendConformance(`tfjs-${available.engine}`, () => createTfjsBackend({ engine: available.engine }), { liveTensors: liveTensorCount });
}
