/**
 * The conformance suite must be able to fail: deliberately broken backends (wrappers around the
 * reference backend) produce reports with exactly the failures their defect implies.
 */
import { describe, expect, it } from 'vitest';
import {
  checkBackendConformance,
  failedChecks,
  formatConformanceReport,
  skippedChecks,
  type ConformanceReport,
} from '../../src/testing/conformance/index.js';
import { createReferenceBackend } from '../../src/testing/reference/index.js';
import {
  bilinearForBicubic,
  ignoresFill,
  ignoresK,
  leaking,
  perturbed,
  plainErrors,
  recodedErrors,
  roundsK,
  sharedFeatureCache,
} from './wrapped-backends.js';

const failed = (r: ConformanceReport): string[] => failedChecks(r).map((c) => c.name);
const named = (r: ConformanceReport, pattern: RegExp): string[] => r.checks.map((c) => c.name).filter((n) => pattern.test(n));
/** Checks that compare a prediction with the reference's. */
const parity = /^(resnet|multiDecoder)( stage \d)?: (k=|one timestep|cache run|second cache run|explicit)/;

describe('checkBackendConformance on broken backends', () => {
  it('perturbed predictions (+1e-2) fail every parity check and nothing else', async () => {
    const report = await checkBackendConformance(() => perturbed(1e-2), { specs: ['resnet', 'multiDecoder'] });
    const parityChecks = named(report, parity);
    expect(parityChecks.length).toBeGreaterThan(20);
    expect(failed(report).sort()).toEqual([...parityChecks, 'errors: the denoiser still predicts correctly after rejected calls'].sort());
    const detail = report.checks.find((c) => c.name === 'resnet: k=1 fill=zero')!.detail!;
    expect(detail).toMatch(/differs from the reference/);
  });

  it('honours the tolerance: +1e-6 passes the default, +1e-2 passes tolerance 0.1', async () => {
    expect(failed(await checkBackendConformance(() => perturbed(1e-6), { specs: ['resnet'] }))).toEqual([]);
    expect(failed(await checkBackendConformance(() => perturbed(1e-2), { specs: ['resnet'], tolerance: 0.1 }))).toEqual([]);
  });

  it('ignoring k fails every k > 0 prediction but not k = 0', async () => {
    const report = await checkBackendConformance(() => ignoresK(), { specs: ['sidePaths'] });
    const skipped = named(report, /^sidePaths: k=[12] fill=/);
    expect(skipped).toHaveLength(2 * 5); // k = 1, 2 × zero, duplicate, interpolate, mean, custom
    for (const name of skipped) expect(failed(report)).toContain(name);
    expect(failed(report)).not.toContain('sidePaths: k=0, default options');
    expect(failed(report).filter((n) => n.startsWith('ops.'))).toEqual([]);
  });

  it('ignoring the fill fails every non-zero fill, not the zero fill', async () => {
    const report = await checkBackendConformance(() => ignoresFill(), { specs: ['sidePaths'] });
    for (const k of [1, 2]) {
      for (const fill of ['duplicate', 'interpolate', 'mean', 'custom']) expect(failed(report)).toContain(`sidePaths: k=${k} fill=${fill}`);
      expect(failed(report)).not.toContain(`sidePaths: k=${k} fill=zero`);
    }
    // A skipped cache step after the first must use the cached features, which a zero fill does not.
    expect(failed(report)).toContain('sidePaths: cache run step 3 (k=1)');
  });

  it('a growing live-tensor count fails the leak checks', async () => {
    const counter = { live: 0 };
    const report = await checkBackendConformance(() => leaking(counter), { specs: [], liveTensors: () => counter.live });
    expect(failed(report)).toEqual([
      'disposal: no live-tensor growth over 50 predictions of mixed k and fills',
      'disposal: denoiser.dispose releases its tensors',
      'disposal: FeatureCache.dispose releases the cached tensors',
    ]);
    expect(report.checks.find((c) => c.name.startsWith('disposal: no live-tensor growth'))!.detail).toMatch(/50 more live tensors/);
  });

  it('a bilinear "bicubic" resize fails exactly the bicubic op checks', async () => {
    const report = await checkBackendConformance(() => bilinearForBicubic(), { specs: [] });
    expect(failed(report)).toEqual(named(report, /^ops\.resize bicubic/));
    expect(failed(report)).toHaveLength(4);
  });

  it('plain Errors instead of LevelskipError fail the shape error checks', async () => {
    const report = await checkBackendConformance(() => plainErrors(), { specs: [] });
    expect(failed(report).sort()).toEqual(
      [
        'errors: x of rank 3 → INVALID_SHAPE',
        'errors: x with the wrong channel count → INVALID_SHAPE',
        'errors: x with the wrong spatial size → INVALID_SHAPE',
      ].sort(),
    );
    expect(report.checks.find((c) => c.name === 'errors: x of rank 3 → INVALID_SHAPE')!.detail).toMatch(/expected LevelskipError\(INVALID_SHAPE\), but threw Error: bad input/);
  });

  it('use after dispose as INVALID_OPTION (not DISPOSED) fails exactly the disposal checks', async () => {
    const report = await checkBackendConformance(() => recodedErrors('DISPOSED', 'INVALID_OPTION'), { specs: [] });
    expect(failed(report).sort()).toEqual(
      [
        'disposal: predict after dispose → DISPOSED',
        'disposal: prepare after dispose → DISPOSED',
        'disposal: a disposed backend refuses createDenoiser, and its denoisers refuse predict → DISPOSED',
        'disposal: `using` (Symbol.dispose) disposes the denoiser and the backend',
      ].sort(),
    );
    expect(report.checks.find((c) => c.name === 'disposal: predict after dispose → DISPOSED')!.detail).toMatch(/expected code DISPOSED, got INVALID_OPTION/);
  });

  it('an unsupported fill as INVALID_OPTION (not INVALID_FILL) fails exactly the fill error checks', async () => {
    const report = await checkBackendConformance(() => recodedErrors('INVALID_FILL', 'INVALID_OPTION'), { specs: [] });
    expect(failed(report).sort()).toEqual(
      [
        'errors: interpolate fill without side paths, at createDenoiser → INVALID_FILL',
        'errors: interpolate fill without side paths, at predict → INVALID_FILL',
        'errors: unknown fill kind, at createDenoiser → INVALID_FILL',
        'errors: unknown fill kind, at predict → INVALID_FILL',
        'errors: unsupported or unknown fill, at prepare → INVALID_FILL',
        'errors: cache fill without a cache → INVALID_FILL',
      ].sort(),
    );
  });

  it('a bad k as INVALID_SHAPE, or a fractional k rounded, fails the k checks', async () => {
    const recoded = await checkBackendConformance(() => recodedErrors('INVALID_OPTION', 'INVALID_SHAPE'), { specs: [] });
    const kChecks = named(recoded, /^errors: (k = |prepare with k )/);
    expect(kChecks).toHaveLength(4); // k = N, -1, 1.5 at predict; the three at prepare
    for (const name of kChecks) expect(failed(recoded)).toContain(name);
    const rounding = await checkBackendConformance(() => roundsK(), { specs: [] });
    expect(failed(rounding).sort()).toEqual(['errors: k = 1.5 → INVALID_OPTION', 'errors: prepare with k out of range or not an integer → INVALID_OPTION'].sort());
    expect(rounding.checks.find((c) => c.name === 'errors: k = 1.5 → INVALID_OPTION')!.detail).toMatch(/succeeded/);
  });

  it('a feature cache shared between runs fails the no-leak-between-runs checks', async () => {
    const report = await checkBackendConformance(() => sharedFeatureCache(), { specs: ['resnet'] });
    expect(failed(report)).toContain('resnet: a fresh cache starts a run afresh (no state leaks between runs)');
    expect(failed(report)).toContain('resnet: second cache run (fresh cache) step 1 (k=2)');
  });

  it('a backend that cannot be created gives one failed check', async () => {
    const report = await checkBackendConformance(() => Promise.reject(new Error('no engine')));
    expect(report.checks).toEqual([{ name: 'create backend', passed: false, detail: 'threw Error: no engine' }]);
  });
});

describe('checkBackendConformance options', () => {
  it('reports disabled features and a missing live-tensor count as skipped, not passed', async () => {
    const report = await checkBackendConformance(() => createReferenceBackend(), {
      specs: ['resnet', 'ode2', 'multiDecoder'],
      features: { ode2: false, decoderStages: false, customFills: false },
    });
    expect(failed(report)).toEqual([]);
    for (const c of skippedChecks(report)) expect(c.passed).toBe(false);
    expect(skippedChecks(report).map((c) => c.name)).toEqual([
      'resnet: k>0 fill=custom',
      'predictions: ode2',
      'predictions: multiDecoder',
      'errors: custom fill returning the wrong shape → INVALID_SHAPE',
      'disposal: no live-tensor growth over 50 predictions of mixed k and fills',
      'disposal: denoiser.dispose releases its tensors',
      'disposal: FeatureCache.dispose releases the cached tensors',
    ]);
    expect(report.checks.filter((c) => c.name.includes('custom') && c.passed)).toEqual([]);
    expect(formatConformanceReport(report)).toMatch(/^SKIP predictions: ode2: features\.ode2 is false$/m);
  });

  it('rejects invalid options', async () => {
    await expect(checkBackendConformance(() => createReferenceBackend(), { tolerance: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(checkBackendConformance(() => createReferenceBackend(), { batch: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
