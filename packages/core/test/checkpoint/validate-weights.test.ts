import { describe, expect, it } from 'vitest';
import { validateWeights, weightsToSpecOrder } from '../../src/checkpoint/validate-weights.js';
import { parameterLayout } from '../../src/geometry/parameter-layout.js';
import { isLevelskipError, type LevelskipError } from '../../src/errors/levelskip-error.js';
import type { HostTensor } from '../../src/backend/tensor-ops.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';

const spec = tinySpec();

function mismatch(run: () => unknown): LevelskipError {
  try {
    run();
  } catch (error) {
    if (isLevelskipError(error) && error.code === 'WEIGHTS_MISMATCH') return error;
    throw error;
  }
  throw new Error('expected WEIGHTS_MISMATCH');
}

// Shapes by hand for the tiny spec (inChannels 1, baseChannels 8, time embedding 4 * 8 = 32):
//   conv_in.weight                 OIHW [8, 1, 3, 3]
//   time_embedding.linear_1.weight [out, in] = [32, 8]
describe('validateWeights', () => {
  it('accepts the weights of the spec', () => {
    expect(() => validateWeights(spec, deterministicWeights(spec))).not.toThrow();
  });

  it('names a missing tensor with its expected shape', () => {
    const weights = deterministicWeights(spec);
    weights.delete('conv_in.weight');
    const error = mismatch(() => validateWeights(spec, weights));
    expect(error.message).toContain('conv_in.weight: missing tensor (expected shape [8, 1, 3, 3])');
    expect(error.message).toContain('1 problem)');
    expect(error.message).toMatch(/different spec/);
    expect(error.issues).toEqual([{ path: ['conv_in.weight'], message: expect.stringContaining('missing') }]);
  });

  it('names a wrong shape, expected vs got (e.g. an HWIO kernel from TensorFlow)', () => {
    const weights = deterministicWeights(spec);
    weights.set('conv_in.weight', { shape: [3, 3, 1, 8], data: new Float32Array(72) });
    weights.set('time_embedding.linear_1.weight', { shape: [8, 32], data: new Float32Array(256) });
    const error = mismatch(() => validateWeights(spec, weights));
    expect(error.message).toContain('conv_in.weight: expected shape [8, 1, 3, 3] (PyTorch layout), got [3, 3, 1, 8]');
    expect(error.message).toContain('time_embedding.linear_1.weight: expected shape [32, 8] (PyTorch layout), got [8, 32]');
    expect(error.issues).toHaveLength(2);
  });

  it('names an unexpected tensor unless allowExtra', () => {
    const weights = deterministicWeights(spec);
    weights.set('down_blocks.7.resnets.0.conv1.weight', { shape: [1], data: new Float32Array(1) });
    const error = mismatch(() => validateWeights(spec, weights));
    expect(error.message).toContain('down_blocks.7.resnets.0.conv1.weight: unexpected tensor with shape [1]');
    expect(() => validateWeights(spec, weights, { allowExtra: true })).not.toThrow();
  });

  it('names data whose length does not match the shape', () => {
    const weights = deterministicWeights(spec);
    weights.set('conv_in.weight', { shape: [8, 1, 3, 3], data: new Float32Array(70) });
    expect(mismatch(() => validateWeights(spec, weights)).message).toContain('conv_in.weight: shape [8, 1, 3, 3] needs 72 values, but data has 70');
  });

  it('lists the first 10 problems and counts the rest; every problem is in issues', () => {
    const total = parameterLayout(spec).length;
    expect(total).toBeGreaterThan(10);
    const error = mismatch(() => validateWeights(spec, new Map()));
    expect(error.message).toContain(`(${total} problems)`);
    expect(error.message).toContain(`... and ${total - 10} more`);
    expect(error.message.split('\n').filter((line) => line.includes('missing tensor'))).toHaveLength(10);
    expect(error.issues).toHaveLength(total);
  });
});

describe('weightsToSpecOrder', () => {
  it('orders tensors as the layout (diffusers module order) and drops extras', () => {
    const weights = deterministicWeights(spec);
    const shuffled = new Map<string, HostTensor>([...weights].reverse());
    shuffled.set('extra', { shape: [1], data: new Float32Array(1) });
    const ordered = weightsToSpecOrder(spec, shuffled);
    expect(ordered.map(([name]) => name)).toEqual(parameterLayout(spec).map((e) => e.name));
    // diffusers registers time_embedding before conv_in; conv_out closes the decoder.
    expect(ordered[0]![0]).toBe('time_embedding.linear_1.weight');
    expect(ordered.findIndex(([n]) => n === 'conv_in.weight')).toBe(4);
    for (const [name, tensorValue] of ordered) expect(tensorValue).toBe(weights.get(name));
  });

  it('throws WEIGHTS_MISMATCH when a tensor is missing', () => {
    const weights = deterministicWeights(spec);
    weights.delete('conv_out.bias');
    expect(mismatch(() => weightsToSpecOrder(spec, weights)).message).toContain('conv_out.bias');
  });
});
