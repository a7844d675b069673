import { describe, expect, it } from 'vitest';
import { parameterLayout } from '../../src/geometry/parameter-layout.js';
import { describeArchitecture } from '../../src/geometry/architecture.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { fixtureInput, fixtureWeights, tinySpecNames, tinySpecs } from '../../src/testing/fixtures.js';

describe('tiny fixture specs', () => {
  it.each(tinySpecNames)('%s parses, has 3 levels, and groups divides every GroupNorm input', (name) => {
    const spec = parseUNetSpec(tinySpecs[name]);
    const arch = describeArchitecture(spec);
    expect(arch.levels).toBe(3);
    const normed: number[] = [];
    for (const level of arch.encoder) for (const b of level.blocks) normed.push(b.inChannels, b.outChannels);
    for (const decoder of arch.decoders) {
      for (const level of decoder.levels) for (const b of level.blocks) normed.push(b.inChannels, b.outChannels);
    }
    for (const c of normed) expect(c % spec.groups).toBe(0);
  });

  it('cover the features the suite promises', () => {
    const specs = Object.fromEntries(tinySpecNames.map((n) => [n, parseUNetSpec(tinySpecs[n])]));
    expect(specs.sidePaths!.sidePaths).toBe(true);
    expect(specs.resnet!.sidePaths).toBe(false);
    expect(specs.ddpmStyle).toMatchObject({ downsamplePadding: 0, flipSinToCos: false, freqShift: 1, resBlocks: 2 });
    expect(specs.ode2).toMatchObject({ block: 'ode2', ode: { solver: 'rk4', steps: 2 } });
    expect(specs.multiDecoder!.decoderStages).toHaveLength(2);
  });
});

describe('fixtureWeights', () => {
  it('holds exactly the layout tensors, deterministically per seed, with jittered norms and biases', () => {
    const spec = parseUNetSpec(tinySpecs.sidePaths);
    const a = fixtureWeights(spec, 5);
    const b = fixtureWeights(tinySpecs.sidePaths, 5);
    const c = fixtureWeights(spec, 6);
    const layout = parameterLayout(spec);
    expect([...a.keys()]).toEqual(layout.map((e) => e.name));
    for (const e of layout) {
      expect(a.get(e.name)!.shape).toEqual(e.shape);
      expect(b.get(e.name)!.data).toEqual(a.get(e.name)!.data);
    }
    expect(c.get('conv_in.weight')!.data).not.toEqual(a.get('conv_in.weight')!.data);
    const scale = a.get('conv_norm_out.weight')!.data;
    // jitter 0.1 around 1: not all ones, but close to one.
    expect([...scale].some((v) => v !== 1)).toBe(true);
    for (const v of scale) expect(Math.abs(v - 1)).toBeLessThan(0.6);
    expect([...a.get('conv_in.bias')!.data].some((v) => v !== 0)).toBe(true);
  });
});

describe('fixtureInput', () => {
  it('is a deterministic NCHW batch of the spec', () => {
    const x = fixtureInput(tinySpecs.resnet, 3, 9);
    expect(x.shape).toEqual([3, 2, 8, 8]);
    expect(x.data).toBeInstanceOf(Float32Array);
    expect(x.data.length).toBe(3 * 2 * 8 * 8);
    expect(fixtureInput(tinySpecs.resnet, 3, 9).data).toEqual(x.data);
    expect(fixtureInput(tinySpecs.resnet, 3, 10).data).not.toEqual(x.data);
    const mean = x.data.reduce((s, v) => s + v, 0) / x.data.length;
    expect(Math.abs(mean)).toBeLessThan(0.25);
  });
});
