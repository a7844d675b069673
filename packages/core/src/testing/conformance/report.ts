/**
 * Results and options of the backend conformance suite, and the small toolkit its checks share:
 * running a check so that it catches its own errors, numeric comparison against the float64
 * reference, and expecting a `LevelskipError` with a given code.
 */
import { LevelskipError, type LevelskipErrorCode } from '../../errors/levelskip-error.js';
import type { TinySpecName } from '../fixtures.js';

/** One check's outcome. A skipped check (a feature the backend opted out of) has `passed: false, skipped: true`. */
export interface ConformanceCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly skipped?: boolean;
  /** Why it failed or was skipped (or a note on a pass). */
  readonly detail?: string;
}

export interface ConformanceReport {
  /** `Backend.name` of the backend checked. */
  readonly backend: string;
  readonly checks: readonly ConformanceCheck[];
}

/** Features a backend may not support yet; each defaults to true. Checks needing a disabled one are reported as skipped. */
export interface ConformanceFeatures {
  /** `block: 'ode2'` specs. */
  readonly ode2?: boolean;
  /** Multi-decoder specs (`decoderStages`). */
  readonly decoderStages?: boolean;
  /** Custom fill functions. */
  readonly customFills?: boolean;
}

export interface ConformanceOptions {
  /**
   * Largest accepted max |actual − reference| / max(1, max |reference|) (default 1e-4):
   * float32 backends against the float64 reference.
   */
  readonly tolerance?: number;
  readonly features?: ConformanceFeatures;
  /** The backend's count of live native tensors; enables the leak checks. */
  readonly liveTensors?: () => number;
  /** Batch size of the prediction checks (default 2). */
  readonly batch?: number;
  /** Fixture specs whose predictions are checked (default all of `tinySpecNames`, minus disabled features). */
  readonly specs?: readonly TinySpecName[];
  /** Per-test timeout of `runBackendConformance`, in ms (default 120 000). */
  readonly timeout?: number;
}

/** Options with defaults applied. */
export interface ResolvedConformanceOptions {
  readonly tolerance: number;
  readonly features: Required<ConformanceFeatures>;
  readonly liveTensors: (() => number) | undefined;
  readonly batch: number;
  readonly specs: readonly TinySpecName[];
  readonly timeout: number;
}

const allSpecs: readonly TinySpecName[] = ['resnet', 'sidePaths', 'ddpmStyle', 'ode2', 'multiDecoder'];

/** Applies defaults and validates the options. Throws `LevelskipError('INVALID_OPTION')`. */
export function resolveConformanceOptions(options: ConformanceOptions = {}): ResolvedConformanceOptions {
  const tolerance = options.tolerance ?? 1e-4;
  if (!(tolerance > 0) || !Number.isFinite(tolerance)) {
    throw new LevelskipError('INVALID_OPTION', `conformance tolerance must be a positive number, got ${tolerance}`);
  }
  const batch = options.batch ?? 2;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new LevelskipError('INVALID_OPTION', `conformance batch must be a positive integer, got ${batch}`);
  }
  const specs = options.specs ?? allSpecs;
  for (const name of specs) {
    if (!allSpecs.includes(name)) {
      throw new LevelskipError('INVALID_OPTION', `unknown fixture spec "${name}": use ${allSpecs.join(', ')}`);
    }
  }
  const timeout = options.timeout ?? 120_000;
  if (!(timeout > 0)) throw new LevelskipError('INVALID_OPTION', `conformance timeout must be positive (ms), got ${timeout}`);
  return {
    tolerance,
    features: {
      ode2: options.features?.ode2 ?? true,
      decoderStages: options.features?.decoderStages ?? true,
      customFills: options.features?.customFills ?? true,
    },
    liveTensors: options.liveTensors,
    batch,
    specs,
    timeout,
  };
}

/** Checks that failed (skipped checks excluded). */
export function failedChecks(report: ConformanceReport): ConformanceCheck[] {
  return report.checks.filter((c) => !c.passed && c.skipped !== true);
}

/** Checks skipped because of a disabled feature or a missing `liveTensors`. */
export function skippedChecks(report: ConformanceReport): ConformanceCheck[] {
  return report.checks.filter((c) => c.skipped === true);
}

/** One line per check: `PASS`, `FAIL` or `SKIP`, its name and detail. */
export function formatConformanceReport(report: ConformanceReport): string {
  const lines = report.checks.map((c) => {
    const status = c.skipped === true ? 'SKIP' : c.passed ? 'PASS' : 'FAIL';
    return `${status} ${c.name}${c.detail === undefined ? '' : `: ${c.detail}`}`;
  });
  const failed = failedChecks(report).length;
  lines.push(`${report.backend}: ${report.checks.length - failed - skippedChecks(report).length} passed, ${failed} failed, ${skippedChecks(report).length} skipped`);
  return lines.join('\n');
}

/** Thrown inside a check to fail it with a message. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

/** Fails the current check. */
export function fail(message: string): never {
  throw new ConformanceFailure(message);
}

function describeError(error: unknown): string {
  if (error instanceof ConformanceFailure) return error.message;
  if (LevelskipError.is(error)) return `threw LevelskipError(${error.code}): ${error.message}`;
  if (error instanceof Error) return `threw ${error.name}: ${error.message}`;
  return `threw ${String(error)}`;
}

/** Runs one check; any error it throws fails it (and never escapes). The body may return a note. */
export async function runCheck(name: string, body: () => Promise<string | void> | string | void): Promise<ConformanceCheck> {
  try {
    const note = await body();
    return typeof note === 'string' ? { name, passed: true, detail: note } : { name, passed: true };
  } catch (error) {
    return { name, passed: false, detail: describeError(error) };
  }
}

/** A check not run, with the reason. */
export function skipCheck(name: string, reason: string): ConformanceCheck {
  return { name, passed: false, skipped: true, detail: reason };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Fails unless `actual` is exactly `expected`. */
export function assertShape(what: string, actual: readonly number[], expected: readonly number[]): void {
  if (!sameShape(actual, expected)) fail(`${what} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
}

/**
 * Fails unless max |actual − expected| ≤ tolerance · max(1, max |expected|), and every value is finite.
 * Returns the relative error for notes.
 */
export function assertClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): number {
  if (actual.length !== expected.length) fail(`${what} has ${actual.length} values, expected ${expected.length}`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    // NaN compares false everywhere, so test for it explicitly.
    if (!Number.isFinite(actual[i]!) || Number.isNaN(diff)) fail(`${what}[${i}] is ${actual[i]}, expected ${expected[i]}`);
    if (diff > worst) {
      worst = diff;
      at = i;
    }
  }
  const relative = worst / scale;
  if (relative > tolerance) {
    fail(
      `${what} differs from the reference by ${relative.toExponential(3)} (scaled max abs diff; tolerance ${tolerance}) at index ${at}: got ${actual[at]}, reference ${expected[at]}`,
    );
  }
  return relative;
}

/** Fails unless the arrays are bitwise equal as float32. */
export function assertIdentical(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  if (actual.length !== expected.length) fail(`${what} has ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) fail(`${what}[${i}] is ${actual[i]} but was ${expected[i]} (expected identical values)`);
  }
}

/**
 * Fails unless `action` throws (or rejects with) a `LevelskipError`, with `code` when given.
 * Synchronous throws count, so backends whose `predict` validates before returning a promise conform.
 */
export async function assertLevelskipError(what: string, code: LevelskipErrorCode | undefined, action: () => unknown): Promise<void> {
  let result: unknown;
  try {
    result = await action();
  } catch (error) {
    if (!LevelskipError.is(error)) fail(`${what}: expected LevelskipError${code ? `(${code})` : ''}, but ${describeError(error)}`);
    if (code !== undefined && error.code !== code) fail(`${what}: expected code ${code}, got ${error.code} (${error.message})`);
    return;
  }
  fail(`${what}: expected LevelskipError${code ? `(${code})` : ''}, but it succeeded${result === undefined ? '' : ' and returned a value'}`);
}
