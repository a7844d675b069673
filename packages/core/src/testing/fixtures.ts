/**
 * Tiny U-Net fixtures for backend tests and the conformance suite: specs small enough that the
 * float64 reference predicts in milliseconds, yet covering every architectural feature a backend
 * must get right (attention with several heads, side paths, DDPM-style embedding and padding,
 * second-order neural-ODE blocks, multi-decoder U-Nets).
 *
 * GroupNorm runs on every block input, including decoder inputs of h + skip channels, so `groups`
 * divides every level's channels (encoder and each decoder width) and therefore every sum of them.
 */
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';
import { SeededRng } from '../random/seeded-rng.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import { randomWeights } from '../weights/random-weights.js';

/** Names of the fixture specs. */
export type TinySpecName = 'resnet' | 'sidePaths' | 'ddpmStyle' | 'ode2' | 'multiDecoder';

/** Three levels (sizes 8, 4, 2), so k ranges over 0, 1, 2. */
const base = {
  imageSize: 8,
  inChannels: 2,
  baseChannels: 8,
  channelMults: [1, 2, 2],
  resBlocks: 1,
  attentionLevels: [1],
  groups: 4,
} satisfies UNetSpecInput;

/**
 * The fixture specs (as users write them; parse with `parseUNetSpec`):
 * - `resnet`: ResNet blocks, attention at level 1 and in the middle with 2 heads, no side paths;
 * - `sidePaths`: the same with learned side paths, for the `interpolate` fill;
 * - `ddpmStyle`: DDPM's conventions (right/bottom-only downsample padding, [sin, cos] embedding,
 *   frequency shift 1), two res blocks per level and a non-default time-embedding width;
 * - `ode2`: second-order neural-ODE blocks solved with 2 RK4 steps;
 * - `multiDecoder`: two decoders (t < 0.5 and t ≥ 0.5) of different widths, with side paths.
 */
export const tinySpecs: Readonly<Record<TinySpecName, UNetSpecInput>> = Object.freeze({
  resnet: { ...base, attentionHeads: 2 },
  sidePaths: { ...base, sidePaths: true },
  ddpmStyle: { ...base, resBlocks: 2, downsamplePadding: 0, flipSinToCos: false, freqShift: 1, timeEmbedDim: 24 },
  ode2: { ...base, block: 'ode2', ode: { solver: 'rk4', steps: 2 } },
  multiDecoder: {
    ...base,
    sidePaths: true,
    decoderStages: [
      { tStart: 0, tEnd: 0.5, baseChannels: 8 },
      { tStart: 0.5, tEnd: 1, baseChannels: 4 },
    ],
  },
});

/** Every fixture spec name, in a stable order. */
export const tinySpecNames: readonly TinySpecName[] = ['resnet', 'sidePaths', 'ddpmStyle', 'ode2', 'multiDecoder'];

function asSpec(spec: UNetSpec | UNetSpecInput): UNetSpec {
  return parseUNetSpec(spec);
}

/**
 * Deterministic random weights for a fixture: `randomWeights` with `jitter: 0.1`, so norm scales,
 * shifts and biases differ from their defaults and a backend that ignores one of them is caught.
 */
export function fixtureWeights(spec: UNetSpec | UNetSpecInput, seed: number): NamedTensors {
  return randomWeights(asSpec(spec), { seed, jitter: 0.1 });
}

/** A deterministic standard-normal batch of images, shape [batch, inChannels, imageSize, imageSize]. */
export function fixtureInput(spec: UNetSpec | UNetSpecInput, batch: number, seed: number): HostTensor {
  const parsed = asSpec(spec);
  const shape = [batch, parsed.inChannels, parsed.imageSize, parsed.imageSize] as const;
  const data = new SeededRng(seed).normal(batch * parsed.inChannels * parsed.imageSize * parsed.imageSize);
  return { data, shape };
}
