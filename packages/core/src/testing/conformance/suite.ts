/**
 * The backend conformance suite: what every backend package runs in its own tests. It compares
 * a backend against the float64 reference backend (`createReferenceBackend`) on tiny fixture
 * U-Nets: tensor ops, predictions at every depth with every fill, errors, determinism and
 * resource disposal. Plain async code, so it also runs outside a test runner.
 */
import type { Backend } from '../../backend/backend.js';
import { tinySpecNames } from '../fixtures.js';
import { createReferenceBackend } from '../reference/index.js';
import type { SuiteContext } from './context.js';
import { errorChecks } from './error-checks.js';
import { determinismChecks, disposalChecks } from './lifecycle-checks.js';
import { missingFeature, predictionChecks } from './prediction-checks.js';
import {
  resolveConformanceOptions,
  runCheck,
  skipCheck,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  type ResolvedConformanceOptions,
} from './report.js';
import { tensorOpsChecks } from './tensor-ops-checks.js';

/** A named group of checks (one vitest test each in `runBackendConformance`). */
export interface ConformanceGroup {
  readonly name: string;
  /** Set when every check of the group is skipped (a disabled feature). */
  readonly skipReason: string | undefined;
  run<T>(ctx: SuiteContext<T>): Promise<ConformanceCheck[]>;
}

/** The groups the options select, in order. */
export function conformanceGroups(options: ResolvedConformanceOptions): ConformanceGroup[] {
  const probe = { options } as SuiteContext<unknown>;
  const groups: ConformanceGroup[] = [{ name: 'tensor ops', skipReason: undefined, run: tensorOpsChecks }];
  for (const name of tinySpecNames) {
    if (!options.specs.includes(name)) continue;
    groups.push({ name: `predictions: ${name}`, skipReason: missingFeature(probe, name), run: (ctx) => predictionChecks(ctx, name) });
  }
  groups.push({ name: 'errors', skipReason: undefined, run: errorChecks });
  groups.push({ name: 'determinism', skipReason: undefined, run: determinismChecks });
  groups.push({ name: 'disposal', skipReason: undefined, run: disposalChecks });
  return groups;
}

/** Runs one group; an error escaping its checks becomes a failed check rather than aborting the suite. */
export async function runConformanceGroup<T>(group: ConformanceGroup, ctx: SuiteContext<T>): Promise<ConformanceCheck[]> {
  if (group.skipReason !== undefined) return [skipCheck(group.name, group.skipReason)];
  let checks: ConformanceCheck[] = [];
  const outer = await runCheck(group.name, async () => {
    checks = await group.run(ctx);
  });
  return outer.passed ? checks : [...checks, outer];
}

/**
 * Checks a backend against the float64 reference and returns one entry per check; never throws
 * for a failing backend (each check catches its own errors). The backend is created once and
 * disposed at the end.
 *
 * @param createBackend Makes the backend under test.
 * @param options Tolerance, features the backend opts out of, its live-tensor counter, batch size.
 */
export async function checkBackendConformance<T>(
  createBackend: () => Backend<T> | Promise<Backend<T>>,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const resolved = resolveConformanceOptions(options);
  let backend: Backend<T>;
  try {
    backend = await createBackend();
  } catch (error) {
    return { backend: '(not created)', checks: [await runCheck('create backend', () => Promise.reject(error))] };
  }
  const reference = createReferenceBackend();
  const ctx: SuiteContext<T> = { backend, createBackend, reference, options: resolved };
  const checks: ConformanceCheck[] = [];
  try {
    for (const group of conformanceGroups(resolved)) checks.push(...(await runConformanceGroup(group, ctx)));
  } finally {
    checks.push(await runCheck('backend.dispose', () => backend.dispose()));
    reference.dispose();
  }
  return { backend: backend.name, checks };
}
