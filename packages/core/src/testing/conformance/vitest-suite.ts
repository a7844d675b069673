/**
 * `runBackendConformance`: the conformance suite as vitest tests, one per check group, each
 * failing with the names and details of its failed checks. Imports vitest (an optional peer
 * dependency of core), so only test files should import `@levelskip/core/testing`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend/backend.js';
import { createReferenceBackend, type ReferenceTensor } from '../reference/index.js';
import type { SuiteContext } from './context.js';
import { resolveConformanceOptions, type ConformanceOptions } from './report.js';
import { conformanceGroups, runConformanceGroup } from './suite.js';

/**
 * Registers `describe(name)` with one `it` per check group (tensor ops, predictions per fixture
 * spec, errors, determinism, disposal). Groups needing a feature the backend opted out of are
 * registered as skipped. The backend is created in `beforeAll` and disposed in `afterAll`.
 *
 * @example
 * runBackendConformance('tfjs-cpu', () => createTfjsBackend({ engine: 'cpu' }), {
 *   liveTensors: () => tf.memory().numTensors,
 * });
 */
export function runBackendConformance<T>(
  name: string,
  createBackend: () => Backend<T> | Promise<Backend<T>>,
  options: ConformanceOptions = {},
): void {
  const resolved = resolveConformanceOptions(options);
  describe(name, () => {
    let backend: Backend<T> | undefined;
    let reference: Backend<ReferenceTensor> | undefined;
    beforeAll(async () => {
      backend = await createBackend();
      reference = createReferenceBackend();
    }, resolved.timeout);
    afterAll(() => {
      backend?.dispose();
      reference?.dispose();
    });
    for (const group of conformanceGroups(resolved)) {
      if (group.skipReason !== undefined) {
        it.skip(`${group.name} (${group.skipReason})`, () => undefined);
        continue;
      }
      it(
        group.name,
        async () => {
          if (backend === undefined || reference === undefined) throw new Error(`backend "${name}" was not created`);
          const ctx: SuiteContext<T> = { backend, createBackend, reference, options: resolved };
          const checks = await runConformanceGroup(group, ctx);
          const failures = checks.filter((c) => !c.passed && c.skipped !== true).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
          expect(failures, `${failures.length} of ${checks.length} conformance checks failed`).toEqual([]);
          expect(checks.length).toBeGreaterThan(0);
        },
        resolved.timeout,
      );
    }
  });
}
