/**
 * The mean fill against hand calculations: per (sample, channel) spatial means of the cut level's
 * skip, tiled or truncated along channels like the duplicate fill, broadcast over the level. The
 * whole U-Net with the mean fill is then checked against the same U-Net with a custom fill that
 * computes those means in plain JavaScript on the host (an implementation that shares no code with
 * the registry entry).
 */
import { describe, expect, it } from 'vitest';
import type { FillContext } from '../../src/fills/fill-strategy.js';
import { customFill } from '../../src/fills/fill-strategy.js';
import { fillLabel, meanFill, meanFillDefinition, parseFill, spatialMeanChannels, type SidePathBlocks } from '../../src/fills/fill-registry.js';
import { parseUNetSpec } from '../../src/spec/unet-spec.js';
import { createReferenceBackend, referenceOps, type ReferenceTensor } from '../../src/testing/reference/index.js';
import { fixtureInput, fixtureWeights, tinySpecs } from '../../src/testing/fixtures.js';

const ops = referenceOps;
const noSidePaths: SidePathBlocks<ReferenceTensor> = {
  sideEncoder: () => {
    throw new Error('the mean fill uses no side paths');
  },
  sideDecoder: () => {
    throw new Error('the mean fill uses no side paths');
  },
};

// skip [B = 2, C = 2, H = 2, W = 2], NCHW. Spatial means by hand:
//   sample 0: channel 0 (1 + 2 + 3 + 4) / 4 = 2.5, channel 1 (0 + 0 + 0 + 8) / 4 = 2
//   sample 1: channel 0 (−1 + 1 − 3 + 3) / 4 = 0,  channel 1 (10 + 20 + 30 + 60) / 4 = 30
const skipData = [1, 2, 3, 4, 0, 0, 0, 8, -1, 1, -3, 3, 10, 20, 30, 60];
const skip = (): ReferenceTensor => ops.fromFloat32(Float32Array.from(skipData), [2, 2, 2, 2]);

function contextFor(s: ReferenceTensor, shape: readonly [number, number, number, number]): FillContext<ReferenceTensor> {
  return {
    level: 1,
    k: 1,
    levels: 3,
    stage: 0,
    shape,
    skip: s,
    skips: [s],
    cached: undefined,
    timesteps: [100, 900],
    spec: parseUNetSpec(tinySpecs.resnet),
  };
}

/** `values[b][c]` broadcast over h × w, as a flat NCHW array. */
function broadcast(values: number[][], h: number, w: number): number[] {
  return values.flatMap((channels) => channels.flatMap((v) => new Array<number>(h * w).fill(v)));
}

describe('mean fill: hand-computed values', () => {
  it('tiles the means along channels like duplicate when the missing input has more channels (3 = 2 + 1)', () => {
    const out = meanFillDefinition.apply(contextFor(skip(), [2, 3, 2, 2]), ops, noSidePaths);
    expect(out.shape).toEqual([2, 3, 2, 2]);
    expect([...out.data]).toEqual(broadcast([[2.5, 2, 2.5], [0, 30, 0]], 2, 2));
  });

  it('keeps the first channels when the missing input has fewer', () => {
    const out = meanFillDefinition.apply(contextFor(skip(), [2, 1, 2, 2]), ops, noSidePaths);
    expect([...out.data]).toEqual(broadcast([[2.5], [0]], 2, 2));
  });

  it('averages an odd-sized map over all its cells (3 × 3: 1..9 → 5; 0,…,0,9 → 1)', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    const s = ops.fromFloat32(data, [1, 2, 3, 3]);
    const out = spatialMeanChannels(ops, s, 4, 3, 3);
    expect(out.shape).toEqual([1, 4, 3, 3]);
    expect([...out.data]).toEqual(broadcast([[5, 1, 5, 1]], 3, 3));
  });

  it('leaves its input alone and is written as "mean"', () => {
    const s = skip();
    meanFillDefinition.apply(contextFor(s, [2, 4, 2, 2]), ops, noSidePaths);
    expect([...s.data]).toEqual(skipData);
    expect(parseFill('mean')).toEqual(meanFill);
    expect(fillLabel(meanFill)).toBe('mean');
  });
});

/** The mean fill computed on the host, in plain JavaScript, as a custom fill. */
const hostMean = customFill<ReferenceTensor>('host-mean', (context, o) => {
  const [b, cSkip, h, w] = context.skip.shape as [number, number, number, number];
  const [, c, hOut, wOut] = context.shape;
  const out = new Float32Array(b * c * hOut * wOut);
  for (let n = 0; n < b; n++) {
    for (let ch = 0; ch < c; ch++) {
      const source = ch % cSkip;
      let sum = 0;
      for (let i = 0; i < h * w; i++) sum += context.skip.data[(n * cSkip + source) * h * w + i]!;
      out.fill(sum / (h * w), (n * c + ch) * hOut * wOut, (n * c + ch + 1) * hOut * wOut);
    }
  }
  // float64 → float32 is enough here: the comparison below allows float32 rounding.
  return o.fromFloat32(out, context.shape);
});

describe('mean fill: the whole U-Net', () => {
  it('matches a host-side mean passed as a custom fill, at every k, on a spec whose cut levels need tiling', async () => {
    const backend = createReferenceBackend();
    const spec = parseUNetSpec(tinySpecs.resnet);
    const denoiser = await backend.createDenoiser(spec, fixtureWeights(spec, 5));
    const input = fixtureInput(spec, 2, 3);
    const x = ops.fromFloat32(input.data, input.shape);
    for (let k = 1; k < denoiser.levels; k++) {
      const viaRegistry = await denoiser.predict(x, [120, 870], { k, fill: meanFill });
      const viaHost = await denoiser.predict(x, [120, 870], { k, fill: hostMean });
      let worst = 0;
      viaRegistry.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - viaHost.data[i]!))));
      expect(worst).toBeLessThan(1e-5);
      // It is a fill of its own: not the zero or duplicate fill's prediction.
      const viaZero = await denoiser.predict(x, [120, 870], { k, fill: { kind: 'zero' } });
      expect([...viaRegistry.data]).not.toEqual([...viaZero.data]);
    }
    denoiser.dispose();
  });
});
