/**
 * The fill registry is the one place a built-in fill is defined: every list of fills (parsing,
 * labels, trainable / exportable / calibratable fills, model.json's recommended fill, the
 * conformance cases) is derived from it. These tests pin that property, so a fill added to the
 * registry is parsed, labelled, validated and checked on every backend without further edits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import {
  assertFillSupported,
  builtinFillHelp,
  builtinFillKinds,
  builtinFills,
  builtinFillSyntax,
  cacheDepths,
  cacheFill,
  cacheFillEvery,
  defaultCalibrationFillKinds,
  defaultCalibrationFills,
  exportableFillKinds,
  fillDefinition,
  fillLabel,
  fillNeedsCache,
  fillsSupportedBy,
  isBuiltinFillKind,
  isBuiltinFillLabel,
  isGraphFusableFill,
  meanFill,
  parseFill,
  statelessFillKinds,
  trainableFillKinds,
  tryParseFill,
  zeroFill,
} from '../../src/fills/fill-registry.js';
import { defineStatelessFill } from '../../src/fills/builtin/fill-definition.js';
import { customFill } from '../../src/fills/fill-strategy.js';
import { calibratedFillKinds, calibratedStatelessFillKinds } from '../../src/schedules/calibrated/calibration-table.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { fillCases, fixture, statelessFills } from '../../src/testing/conformance/context.js';
import { tinySpecs } from '../../src/testing/fixtures.js';
import * as core from '../../src/index.js';

const withSidePaths = parseUNetSpec(tinySpecs.sidePaths);
const plain = parseUNetSpec(tinySpecs.resnet);

/** Each written form with its placeholder filled in (`cache:m` → `cache:3`). */
const examples = (syntax: readonly string[]): string[] => syntax.map((form) => form.replace(/:m$/, ':3'));

describe('fill registry', () => {
  it('lists each built-in fill once, in the order of builtinFillKinds', () => {
    expect(builtinFillKinds).toEqual(builtinFills.map((d) => d.kind));
    expect(new Set(builtinFillKinds).size).toBe(builtinFillKinds.length);
    expect(builtinFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'cache', 'mean']);
    for (const kind of builtinFillKinds) {
      expect(fillDefinition(kind).kind).toBe(kind);
      expect(isBuiltinFillKind(kind)).toBe(true);
    }
    expect(isBuiltinFillKind('blur')).toBe(false);
    expect(() => fillDefinition('blur' as never)).toThrow(/Unknown fill kind "blur"/);
  });

  it.each(builtinFills.map((d) => [d.kind, d] as const))('%s: every written form parses, labels and parses back to itself', (_kind, definition) => {
    for (const text of examples(definition.syntax)) {
      const fill = parseFill(text);
      expect(fill.kind).toBe(definition.kind);
      expect(fillLabel(fill)).toBe(text);
      expect(parseFill(fillLabel(fill))).toEqual(fill);
      expect(isBuiltinFillLabel(text)).toBe(true);
      expect(builtinFillSyntax).toEqual(expect.arrayContaining([...definition.syntax]));
    }
    expect(definition.description.length).toBeGreaterThan(10);
    expect(definition.description).not.toMatch(/\n/);
  });

  it('round-trips every cache interval (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (m) => {
        expect(parseFill(fillLabel(cacheFillEvery(m)))).toEqual(cacheFillEvery(m));
      }),
    );
  });

  it('rejects what it does not define, and malformed settings, with INVALID_FILL', () => {
    expect(tryParseFill('blur')).toBeUndefined();
    expect(() => parseFill('blur')).toThrow(LevelskipError);
    expect(() => parseFill('blur')).toThrow(/Unknown fill "blur": use one of zero, duplicate, interpolate, cache, cache:m, mean/);
    expect(() => tryParseFill('cache:0')).toThrow(/interval must be an integer ≥ 1/);
    for (const text of ['blur', 'cache:0', 'cache:1e99', 'Mean', '']) expect(isBuiltinFillLabel(text)).toBe(false);
  });

  it('derives the trainable, exportable, stateless and calibratable lists from the entries', () => {
    expect(trainableFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'mean']);
    expect(exportableFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'mean']);
    expect(statelessFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'mean']);
    expect(calibratedFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'cache', 'mean']);
    expect(calibratedStatelessFillKinds).toEqual(['zero', 'duplicate', 'interpolate', 'mean']);
    for (const d of builtinFills) {
      expect(trainableFillKinds.includes(d.kind)).toBe(d.trainable);
      expect((exportableFillKinds as readonly string[]).includes(d.kind)).toBe(d.graphFusable);
      expect(fillNeedsCache(parseFill(d.kind))).toBe(d.stateful);
      expect(isGraphFusableFill(parseFill(d.kind))).toBe(d.graphFusable);
      // A compiled graph cannot hold a fill that reads an earlier step's features.
      if (d.stateful) expect(d.graphFusable).toBe(false);
    }
    expect(isGraphFusableFill(customFill('c', (context, ops) => ops.zeros(context.shape)))).toBe(false);
  });

  it('checks a fill against a spec through its entry (interpolate needs side paths)', () => {
    expect(fillsSupportedBy(withSidePaths)).toEqual(builtinFillKinds);
    expect(fillsSupportedBy(plain)).toEqual(['zero', 'duplicate', 'cache', 'mean']);
    for (const kind of builtinFillKinds) expect(() => assertFillSupported(withSidePaths, parseFill(kind))).not.toThrow();
    expect(() => assertFillSupported(plain, parseFill('interpolate'))).toThrow(
      /^fill "interpolate" needs learned side paths, but this model was built with sidePaths: false \(train one with sidePaths: true\); use zero, duplicate, cache or mean$/,
    );
    expect(() => assertFillSupported(plain, { kind: 'cache', interval: 0 })).toThrow(/interval must be an integer ≥ 1/);
    expect(() => assertFillSupported(plain, { kind: 'blur' } as never)).toThrow(/Unknown fill kind "blur"/);
  });

  it('calibrates by default the fills marked so, where the spec supports them', () => {
    // The paper's zero fill, the learned interpolate fill and the training-free cache; not the duplicate or mean variants.
    expect(defaultCalibrationFillKinds).toEqual(['zero', 'interpolate', 'cache']);
    expect(defaultCalibrationFills(withSidePaths)).toEqual(['zero', 'interpolate', 'cache']);
    expect(defaultCalibrationFills(plain)).toEqual(['zero', 'cache']);
    for (const kind of defaultCalibrationFillKinds) expect((calibratedFillKinds as readonly string[]).includes(kind)).toBe(true);
    expect(core).toHaveProperty('defaultCalibrationFills');
  });

  it('defines a stateless fill by its differences from the defaults', () => {
    const { fill, definition } = defineStatelessFill({ kind: 'ones', description: 'ones', apply: (context, ops) => ops.zeros(context.shape), exportedByDefault: false });
    expect(fill).toEqual({ kind: 'ones' });
    expect(Object.isFrozen(fill) && Object.isFrozen(definition)).toBe(true);
    expect(definition.parse('ones')).toBe(fill);
    expect(definition.parse('one')).toBeUndefined();
    expect(definition.label(fill)).toBe('ones');
    expect(definition.syntax).toEqual(['ones']);
    expect(definition.supports(plain)).toBeUndefined();
    expect([definition.trainable, definition.stateful, definition.graphFusable, definition.exportedByDefault, definition.calibratedByDefault]).toEqual([true, false, true, false, true]);
    // The built-in stateless fills written with it keep their values: the value the definition parses is the exported one.
    expect(fillDefinition('zero').parse('zero')).toBe(zeroFill);
    expect(fillDefinition('mean').parse('mean')).toBe(meanFill);
    expect(fillDefinition('interpolate').supports(plain)).toMatch(/needs learned side paths/);
  });

  it('plans depths through the entry: only the cache changes the asked depths', () => {
    for (const kind of builtinFillKinds.filter((k) => k !== 'cache')) expect(cacheDepths([3, 3, 2, 0], parseFill(kind))).toEqual([3, 3, 2, 0]);
    expect(cacheDepths([3, 3, 2, 0], cacheFill)).toEqual([0, 3, 2, 0]);
    expect(cacheDepths([3, 3, 3, 3], zeroFill, [0, 1])).toEqual([3, 3, 3, 3]);
  });

  it('gives one help line per fill, naming its written forms', () => {
    const help = builtinFillHelp();
    expect(help).toHaveLength(builtinFills.length);
    expect(help[3]).toMatch(/^cache \| cache:m — /);
    expect(help[4]).toMatch(/^mean — /);
  });

  it('is exported from the package entry', () => {
    for (const name of ['builtinFills', 'fillDefinition', 'trainableFillKinds', 'exportableFillKinds', 'parseFill', 'fillLabel', 'assertFillSupported', 'meanFill', 'zeroFill', 'cacheFillEvery', 'duplicateChannels']) {
      expect(core).toHaveProperty(name);
    }
    expect(core.meanFill).toBe(meanFill);
  });
});

describe('the conformance suite takes its fill cases from the registry', () => {
  it('has a case for every built-in fill, making that fill', () => {
    for (const kind of builtinFillKinds) {
      expect(fillCases[kind].label).toBe(kind);
      expect(fillCases[kind].make()).toEqual(parseFill(kind));
    }
    expect(Object.keys(fillCases).sort()).toEqual([...builtinFillKinds, 'custom'].sort());
  });

  it('checks every stateless built-in fill a fixture supports at every k (mean included)', () => {
    expect(statelessFills(fixture('sidePaths'), false).map((c) => c.label)).toEqual(statelessFillKinds);
    expect(statelessFills(fixture('resnet'), true).map((c) => c.label)).toEqual(['zero', 'duplicate', 'mean', 'custom']);
  });
});
