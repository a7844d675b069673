/**
 * Test weights for a spec: every tensor of `parameterLayout` filled with simple deterministic
 * values (no RNG), distinct per tensor so a swapped or reordered tensor would be noticed.
 */
import { parameterLayout } from '../../src/geometry/parameter-layout.js';
import { parseUNetSpec, type UNetSpec } from '../../src/spec/unet-spec.js';
import type { HostTensor } from '../../src/backend/tensor-ops.js';

/** The small two-level spec the checkpoint tests use. */
export function tinySpec(): UNetSpec {
  return parseUNetSpec({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, groups: 4, attentionLevels: [1] });
}

export function deterministicWeights(spec: UNetSpec): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  parameterLayout(spec).forEach((entry, t) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    // Values of the form k/64 in [-1, 1): exact in F16 and in F32.
    for (let i = 0; i < size; i++) data[i] = (((i * 7 + t * 13) % 128) - 64) / 64;
    weights.set(entry.name, { shape: [...entry.shape], data });
  });
  return weights;
}
