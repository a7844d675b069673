/**
 * The ONNX renderings of the U-Net's resizes and GroupNorm against core's float64 reference ops
 * (PyTorch conventions), run in onnxruntime: nearest ×2 (Resize nearest/asymmetric/floor) and
 * bicubic (Resize cubic, a = −0.75, half_pixel) up and down by powers of two, as the side paths use.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { describeArchitecture, parseUNetSpec, SeededRng, type NamedTensors } from '@levelskip/core';
import { referenceOps, tinySpecs } from '@levelskip/core/testing';
import { GraphBuilder, UNetParts } from '../src/index.js';

const arch = describeArchitecture(parseUNetSpec(tinySpecs.resnet));

async function runUnary(build: (p: UNetParts, x: string) => string, input: Float32Array, shape: number[], weights: NamedTensors = new Map()): Promise<ort.Tensor> {
  const g = new GraphBuilder('test');
  const p = new UNetParts(g, arch, weights);
  const x = g.input('x', 'float32', ['batch', shape[1]!, 'h', 'w']);
  g.output(build(p, x), 'y', 'float32', ['batch', shape[1]!, 'h2', 'w2']);
  const session = await ort.InferenceSession.create(g.encode());
  try {
    const out = await session.run({ x: new ort.Tensor('float32', input, shape) });
    return out['y']!;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('ONNX resize semantics match PyTorch (core reference ops)', () => {
  const shape = [2, 3, 8, 8];
  const data = new SeededRng(5).normal(2 * 3 * 8 * 8);
  const reference = referenceOps.fromFloat32(data, shape);

  it('nearest ×2 equals F.interpolate(scale_factor=2, mode="nearest") exactly', async () => {
    const out = await runUnary((p, x) => p.nearestUpsample2x(x), data, shape);
    expect(out.dims).toEqual([2, 3, 16, 16]);
    expect(maxAbsDiff(out.data as Float32Array, referenceOps.resize(reference, 16, 16, 'nearest').data)).toBe(0);
  });

  it.each([
    [8, 2],
    [8, 4],
    [8, 16],
    [8, 32],
  ])('bicubic %i² → %i² equals F.interpolate(mode="bicubic", align_corners=False)', async (from, to) => {
    const out = await runUnary((p, x) => p.bicubic(x, from, to), data, shape);
    expect(out.dims).toEqual([2, 3, to, to]);
    const expected = referenceOps.resize(reference, to, to, 'bicubic').data;
    expect(maxAbsDiff(out.data as Float32Array, expected)).toBeLessThan(1e-5);
  });

  it('a bicubic resize to a different size is not the identity (the check can fail)', async () => {
    const out = await runUnary((p, x) => p.bicubic(x, 8, 4), data, shape);
    expect(maxAbsDiff(out.data as Float32Array, referenceOps.resize(reference, 4, 4, 'bilinear').data)).toBeGreaterThan(1e-3);
  });
});

describe('GroupNorm via InstanceNormalization on [B, G, −1]', () => {
  it('equals the per-group normalisation with affine, written out', async () => {
    const C = 8;
    const G = arch.spec.groups; // 4 groups of 2 channels
    const shape = [2, C, 3, 3];
    const rng = new SeededRng(9);
    const data = rng.normal(2 * C * 9);
    const gamma = rng.normal(C);
    const beta = rng.normal(C);
    const weights: NamedTensors = new Map([
      ['gn.weight', { shape: [C], data: gamma }],
      ['gn.bias', { shape: [C], data: beta }],
    ]);
    const out = await runUnary((p, x) => p.groupNorm('gn', x, C), data, shape, weights);
    // Hand-written GroupNorm (biased variance, eps inside the square root), float64.
    const per = (C / G) * 9;
    const expected = new Float64Array(data.length);
    for (let b = 0; b < 2; b++) {
      for (let grp = 0; grp < G; grp++) {
        const start = (b * C + grp * (C / G)) * 9;
        let mean = 0;
        for (let i = 0; i < per; i++) mean += data[start + i]!;
        mean /= per;
        let variance = 0;
        for (let i = 0; i < per; i++) variance += (data[start + i]! - mean) ** 2;
        variance /= per;
        for (let i = 0; i < per; i++) {
          const c = grp * (C / G) + Math.floor(i / 9);
          expected[start + i] = ((data[start + i]! - mean) / Math.sqrt(variance + arch.spec.normEps)) * gamma[c]! + beta[c]!;
        }
      }
    }
    expect(maxAbsDiff(out.data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});
