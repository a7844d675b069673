/**
 * Validate once, inside a denoiser: the architecture is derived when the denoiser is built and
 * never per prediction; a fill resolved for the denoiser's spec (`resolveFill`, as `sample()` and
 * the pipeline pass it) is not checked again by `predict`, while a fill that was not resolved is
 * still checked in full at every call (predict is a public boundary). The registry's and the
 * architecture's exports are spied on (the module mocks wrap the real functions).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as architecture from '../../src/geometry/architecture.js';
import * as registry from '../../src/fills/fill-registry.js';
import { isResolvedFill, resolveFill, resolvePrediction } from '../../src/composition/predict-arguments.js';
import { customFill, type FillStrategy } from '../../src/fills/fill-strategy.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { fixtureInput, fixtureWeights, tinySpecs } from '../../src/testing/fixtures.js';
import { createReferenceBackend, referenceTensor, type ReferenceTensor } from '../../src/testing/reference/index.js';
import { levelskipErrorOf, levelskipRejectionOf } from '../../src/testing/errors.js';

vi.mock('../../src/geometry/architecture.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/geometry/architecture.js')>();
  return { ...actual, describeArchitecture: vi.fn(actual.describeArchitecture), stageForTime: vi.fn(actual.stageForTime) };
});
vi.mock('../../src/fills/fill-registry.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/fills/fill-registry.js')>();
  return { ...actual, assertFillSupported: vi.fn(actual.assertFillSupported) };
});

const describeSpy = vi.mocked(architecture.describeArchitecture);
const stageSpy = vi.mocked(architecture.stageForTime);
const fillCheckSpy = vi.mocked(registry.assertFillSupported);

afterEach(() => {
  describeSpy.mockClear();
  stageSpy.mockClear();
  fillCheckSpy.mockClear();
});

/** A reference denoiser of a tiny spec and an input for it; the spies count from its creation on. */
async function referenceDenoiser(name: keyof typeof tinySpecs) {
  const weights = fixtureWeights(tinySpecs[name], 1);
  const input = fixtureInput(tinySpecs[name], 1, 2);
  const x = referenceTensor(input.shape, input.data);
  describeSpy.mockClear();
  const denoiser = await createReferenceBackend().createDenoiser(tinySpecs[name], weights);
  return { denoiser, x };
}

describe('validate once inside a denoiser', () => {
  it('derives the architecture once, at createDenoiser, and exposes it; 50 predictions with a resolved fill check it once', async () => {
    const { denoiser, x } = await referenceDenoiser('sidePaths');
    expect(describeSpy).toHaveBeenCalledTimes(1);
    expect(denoiser.architecture).toBe(describeSpy.mock.results[0]!.value);
    expect(denoiser.architecture!.spec).toBe(denoiser.spec);
    const fill = resolveFill(denoiser.spec, registry.parseFill('interpolate'));
    expect(fillCheckSpy).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 50; i++) {
      const out = await denoiser.predict(x, 20 * i, { k: i % denoiser.levels, fill, stage: 0 });
      expect(out.shape).toEqual(x.shape);
    }
    expect(fillCheckSpy).toHaveBeenCalledTimes(1);
    expect(describeSpy).toHaveBeenCalledTimes(1);
    // With the stage given, predict range-checks it and derives nothing from the timesteps.
    expect(stageSpy).not.toHaveBeenCalled();
    denoiser.dispose();
  });

  it('still checks an unresolved fill at every call (the public boundary), and a resolved one gives the same prediction', async () => {
    const { denoiser, x } = await referenceDenoiser('resnet');
    const plain: FillStrategy<ReferenceTensor> = { kind: 'duplicate' };
    for (let i = 0; i < 3; i++) await denoiser.predict(x, 100, { k: 1, fill: plain });
    expect(fillCheckSpy).toHaveBeenCalledTimes(3);
    // Without a stage, it is chosen from the timesteps (one look-up for the batch, one per sample).
    expect(stageSpy).toHaveBeenCalledTimes(6);
    const resolved = resolveFill(denoiser.spec, plain);
    const a = await denoiser.predict(x, 100, { k: 1, fill: plain });
    const b = await denoiser.predict(x, 100, { k: 1, fill: resolved });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    denoiser.dispose();
  });

  it('resolveFill freezes what it marks, is idempotent, and marks per spec object', () => {
    const spec = parseUNetSpec(tinySpecs.sidePaths);
    const other = parseUNetSpec(tinySpecs.sidePaths);
    const given = { kind: 'interpolate' as const };
    const resolved = resolveFill(spec, given);
    // An unfrozen fill is copied and the copy frozen, so it cannot change after the check.
    expect(resolved).not.toBe(given);
    expect(resolved).toEqual(given);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(isResolvedFill(spec, given)).toBe(false);
    expect(isResolvedFill(spec, resolved)).toBe(true);
    expect(isResolvedFill(other, resolved)).toBe(false);
    fillCheckSpy.mockClear();
    expect(resolveFill(spec, resolved)).toBe(resolved);
    expect(fillCheckSpy).not.toHaveBeenCalled();
    // Frozen fills (built-ins, customFill) are marked as they are.
    const custom = customFill('z', (context, ops) => ops.zeros(context.shape));
    expect(resolveFill(spec, custom)).toBe(custom);
  });

  it('a fill resolved for one spec is still rejected by a model that does not support it, with INVALID_FILL', async () => {
    const withSides = parseUNetSpec(tinySpecs.sidePaths);
    const interpolate = resolveFill<ReferenceTensor>(withSides, registry.parseFill('interpolate'));
    const { denoiser, x } = await referenceDenoiser('resnet'); // no side paths
    const error = await levelskipRejectionOf(denoiser.predict(x, 100, { k: 1, fill: interpolate }), 'INVALID_FILL');
    expect(error.message).toContain('interpolate');
    expect(levelskipErrorOf(() => resolveFill(denoiser.spec, registry.parseFill('interpolate')), 'INVALID_FILL').message).toContain('interpolate');
    denoiser.dispose();
  });

  it('bad k and bad stage stay typed INVALID_OPTION errors naming the field, with a resolved fill too', async () => {
    const { denoiser, x } = await referenceDenoiser('resnet');
    const fill = resolveFill<ReferenceTensor>(denoiser.spec, registry.zeroFill);
    const arch = denoiser.architecture!;
    for (const k of [-1, 1.5, denoiser.levels]) {
      expect(levelskipErrorOf(() => resolvePrediction(arch, x.shape, 100, { k, fill }), 'INVALID_OPTION').message).toContain('k must be');
      await levelskipRejectionOf(denoiser.predict(x, 100, { k, fill }), 'INVALID_OPTION');
    }
    expect(levelskipErrorOf(() => resolvePrediction(arch, x.shape, 100, { k: 0, fill, stage: 1 }), 'INVALID_OPTION').message).toContain('stage must be');
    denoiser.dispose();
  });
});
