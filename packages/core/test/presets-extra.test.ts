/**
 * The mnistMultistage and mnistOde2 presets: parameter counts against hand formulas (written
 * independently of parameterLayout, anchored on mnistSmall's known 2,997,793), and the float64
 * reference backend predicting with each preset at every depth k.
 */
import { describe, expect, it } from 'vitest';
import { parseUNetSpec, type UNetSpecInput } from '../src/spec/unet-spec.js';
import { mnistMultistage, mnistOde2, mnistSmall, presets } from '../src/spec/presets.js';
import { parameterCount } from '../src/geometry/parameter-layout.js';
import { randomWeights } from '../src/weights/random-weights.js';
import { SeededRng } from '../src/random/seeded-rng.js';
import { createReferenceBackend } from '../src/testing/reference/index.js';

// Hand formulas: conv = i·o·k² + o, linear = i·o + o, GroupNorm = 2c.
const conv = (i: number, o: number, k: number): number => i * o * k * k + o;
const linear = (i: number, o: number): number => i * o + o;
const norm = (c: number): number => 2 * c;
const attention = (c: number): number => norm(c) + 4 * linear(c, c);
const shortcut = (i: number, o: number): number => (i === o ? 0 : conv(i, o, 1));
// ResNet block (diffusers ResnetBlock2D): norm1(i), conv1 i→o, time projection, norm2(o), conv2 o→o, 1×1 shortcut.
const resnet = (i: number, o: number, t: number): number => norm(i) + conv(i, o, 3) + linear(t, o) + norm(o) + conv(o, o, 3) + shortcut(i, o);
// ode2 block: a 1×1 projection i→o gives h(0) (when i ≠ o); the vector field f(h, v) = body(h) − v has
// norm1(o), conv1 o→o, time projection, norm2(o), conv2 o→o: both 3×3 convs act on the state's width o.
const ode2 = (i: number, o: number, t: number): number => norm(o) + conv(o, o, 3) + linear(t, o) + norm(o) + conv(o, o, 3) + shortcut(i, o);

type Block = (i: number, o: number, t: number) => number;

/**
 * A 1-channel, 32×32, N = 4 U-Net with multipliers [1, 2, 2, 4], one block per encoder level (two
 * per decoder level), attention at level 2 and in the middle, time embedding 4·base, and one
 * decoder per width in `decoderWidths`.
 */
function handCount(base: number, decoderWidths: readonly number[], block: Block): number {
  const t = 4 * base;
  const [e0, e1, e2, e3] = [base, 2 * base, 2 * base, 4 * base];
  const time = linear(base, t) + linear(t, t);
  const convIn = conv(1, e0, 3);
  const encoder =
    block(e0, e0, t) + conv(e0, e0, 3) + // level 0 and its downsample
    block(e0, e1, t) + conv(e1, e1, 3) + // level 1
    block(e1, e2, t) + attention(e2) + conv(e2, e2, 3) + // level 2, with attention
    block(e2, e3, t); // level 3: no downsample
  const middle = block(e3, e3, t) + attention(e3) + block(e3, e3, t);
  const decoder = (d: number): number => {
    const [d0, d1, d2, d3] = [d, 2 * d, 2 * d, 4 * d];
    // Block inputs are concat(h, skip); the skips pop r3, d2 | r2, d1 | r1, d0 | r0, conv_in.
    return (
      block(e3 + e3, d3, t) + block(d3 + e2, d3, t) + conv(d3, d3, 3) + // level 3 and its upsample
      block(d3 + e2, d2, t) + block(d2 + e1, d2, t) + 2 * attention(d2) + conv(d2, d2, 3) + // level 2
      block(d2 + e1, d1, t) + block(d1 + e0, d1, t) + conv(d1, d1, 3) + // level 1
      block(d1 + e0, d0, t) + block(d0 + e0, d0, t) + // level 0
      norm(d0) + conv(d0, 1, 3) // conv_norm_out, conv_out
    );
  };
  return time + convIn + encoder + middle + decoderWidths.reduce((sum, d) => sum + decoder(d), 0);
}

describe('extra presets: parameter counts', () => {
  it('the hand formula reproduces mnistSmall (2,997,793)', () => {
    expect(handCount(32, [32], resnet)).toBe(2_997_793);
    expect(parameterCount(parseUNetSpec(mnistSmall))).toBe(2_997_793);
  });

  it('mnistMultistage: mnistSmall encoder, decoders of base 32, 24, 16', () => {
    const expected = handCount(32, [32, 24, 16], resnet);
    expect(parameterCount(parseUNetSpec(mnistMultistage))).toBe(expected);
    expect(expected).toBe(4_721_803);
  });

  it('mnistOde2: about a quarter of mnistSmall', () => {
    const expected = handCount(16, [16], ode2);
    expect(parameterCount(parseUNetSpec(mnistOde2))).toBe(expected);
    expect(expected).toBe(671_537);
    expect(expected / 2_997_793).toBeGreaterThan(0.2);
    expect(expected / 2_997_793).toBeLessThan(0.3);
  });

  it('are in the presets map and parse', () => {
    expect(presets.mnistMultistage).toBe(mnistMultistage);
    expect(presets.mnistOde2).toBe(mnistOde2);
    const multi = parseUNetSpec(mnistMultistage);
    expect(multi.decoderStages?.map((s) => [s.tStart, s.tEnd, s.baseChannels])).toEqual([
      [0, 0.442, 32],
      [0.442, 0.6308, 24],
      [0.6308, 1, 16],
    ]);
    const ode = parseUNetSpec(mnistOde2);
    expect(ode.block).toBe('ode2');
    expect(ode.channelMults).toHaveLength(4);
  });
});

describe('extra presets: the reference backend predicts at every k', () => {
  const backend = createReferenceBackend();

  async function predictions(input: UNetSpecInput, timestepFor: (k: number) => number): Promise<Float32Array[]> {
    const spec = parseUNetSpec(input);
    const denoiser = await backend.createDenoiser(spec, randomWeights(spec, { seed: 3 }));
    const x = backend.ops.fromFloat32(new SeededRng(11).normal(32 * 32), [1, 1, 32, 32]);
    const outputs: Float32Array[] = [];
    for (let k = 0; k < 4; k++) {
      const y = await denoiser.predict(x, [timestepFor(k)], { k, fill: { kind: 'zero' } });
      expect(backend.ops.shape(y)).toEqual([1, 1, 32, 32]);
      const data = await backend.ops.toFloat32(y);
      expect(data.every(Number.isFinite)).toBe(true);
      outputs.push(data);
    }
    denoiser.dispose();
    return outputs;
  }

  it('mnistOde2 at k = 0..3', async () => {
    const outputs = await predictions(mnistOde2, () => 500);
    // Skipping changes the network, so every depth gives a different prediction.
    for (let k = 1; k < 4; k++) expect(outputs[k]).not.toEqual(outputs[k - 1]);
  }, 120_000); // the float64 reference takes ~6 s here; generous for a loaded CI machine

  it('mnistMultistage at k = 0..3, visiting every decoder stage', async () => {
    // k = 0 → stage 0 (t = 0.1), k = 1 → stage 1 (t = 0.5), k = 2 → stage 2 (t = 0.9), k = 3 → stage 0.
    const timesteps = [100, 500, 900, 200];
    const outputs = await predictions(mnistMultistage, (k) => timesteps[k]!);
    for (let k = 1; k < 4; k++) expect(outputs[k]).not.toEqual(outputs[k - 1]);
  }, 120_000);
});
