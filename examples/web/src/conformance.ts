/**
 * The conformance page: core's backend conformance suite (`checkBackendConformance`: every
 * check of the float64 reference against the backend, on tiny random fixtures) run on each
 * engine this browser offers. `window.levelskipConformance.run(engine)` returns the report;
 * the browser test calls it for every engine that starts.
 */
import { checkBackendConformance, failedChecks, formatConformanceReport, skippedChecks, type TinySpecName } from '@levelskip/core/testing';
import { liveTensorCount } from '@levelskip/backend-tfjs';
import { engineChoices, type EngineId } from './engines.js';

interface ConformanceSummary {
  readonly engine: EngineId;
  readonly passed: number;
  readonly failed: readonly string[];
  readonly skipped: readonly string[];
  readonly report: string;
}

/** Runs the suite on `engine`; `specs` limits the fixture specs whose predictions are checked (default: all). */
async function run(engine: EngineId, specs?: readonly TinySpecName[]): Promise<ConformanceSummary> {
  const choice = engineChoices.find((e) => e.id === engine);
  if (choice === undefined) throw new Error(`unknown engine ${engine}`);
  // tfjs counts its live tensors (the leak checks need that); onnxruntime-web has no such counter.
  const report = await checkBackendConformance(choice.create, {
    ...(engine.startsWith('tfjs') ? { liveTensors: liveTensorCount } : {}),
    ...(specs === undefined ? {} : { specs }),
  });
  const failed = failedChecks(report);
  const skipped = skippedChecks(report);
  const text = formatConformanceReport(report);
  const pre = document.createElement('pre');
  pre.textContent = text;
  document.body.append(pre);
  return {
    engine,
    passed: report.checks.length - failed.length - skipped.length,
    failed: failed.map((c) => `${c.name}: ${c.detail ?? ''}`),
    skipped: skipped.map((c) => `${c.name}: ${c.detail ?? ''}`),
    report: text,
  };
}

(window as unknown as { levelskipConformance: object }).levelskipConformance = { run, ready: true };
