/**
 * The plain-TypeScript layers against hand-computed outputs (each value worked out below).
 */
import { describe, expect, it } from 'vitest';
import { conv2dValid, linear, maxPool2, reluInPlace } from '../src/lenet/layers.js';

describe('conv2dValid', () => {
  it('computes a 2-in, 2-out 2×2 convolution of a 3×3 input by hand', () => {
    // Channel 0 = [[1,2,3],[4,5,6],[7,8,9]], channel 1 = all ones.
    const input = { channels: 2, height: 3, width: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1]) };
    // OIHW. Output 0: channel 0 with [[1,0],[0,-1]] gives x[i][j] − x[i+1][j+1] = −4 everywhere, channel 1
    // with [[1,1],[1,1]] gives 4, bias 0.5: 0.5 everywhere.
    // Output 1: channel 0 with [[0,1],[0,0]] picks x[i][j+1] = [[2,3],[5,6]], channel 1 zero, bias −1: [[1,2],[4,5]].
    const filters = Float32Array.from([1, 0, 0, -1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    const out = conv2dValid(input, filters, Float32Array.from([0.5, -1]), 2);
    expect([out.channels, out.height, out.width]).toEqual([2, 2, 2]);
    expect([...out.data]).toEqual([0.5, 0.5, 0.5, 0.5, 1, 2, 4, 5]);
  });

  it('is a cross-correlation (no kernel flip), like PyTorch', () => {
    // Input [[1,2,3],[0,0,0]], kernel [[10,1],[0,0]]: 1·10 + 2·1 = 12 and 2·10 + 3·1 = 23 (a flipped kernel gives 0s).
    const out = conv2dValid(
      { channels: 1, height: 2, width: 3, data: Float32Array.from([1, 2, 3, 0, 0, 0]) },
      Float32Array.from([10, 1, 0, 0]),
      Float32Array.from([0]),
      2,
    );
    expect([...out.data]).toEqual([12, 23]);
  });
  it('agrees with the defining sum where the register blocks leave remainders (5 filters, 9 positions)', () => {
    // y[o,i,j] = b[o] + Σ_c Σ_u Σ_v w[o,c,u,v] x[c,i+u,j+v], summed directly; 3 channels of 5×5, kernel 3.
    const [C, H, K, O] = [3, 5, 3, 5];
    const x = Float32Array.from({ length: C * H * H }, (_, i) => ((i * 7) % 11) - 5);
    const w = Float32Array.from({ length: O * C * K * K }, (_, i) => ((i * 5) % 9) - 4);
    const b = Float32Array.from([1, -2, 3, -4, 5]);
    const out = conv2dValid({ channels: C, height: H, width: H, data: x }, w, b, K);
    const side = H - K + 1;
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < side; i++) {
        for (let j = 0; j < side; j++) {
          let sum = b[o]!;
          for (let c = 0; c < C; c++) for (let u = 0; u < K; u++) for (let v = 0; v < K; v++) sum += w[((o * C + c) * K + u) * K + v]! * x[(c * H + i + u) * H + j + v]!;
          expect(out.data[(o * side + i) * side + j]).toBe(sum);
        }
      }
    }
  });
});

describe('maxPool2', () => {
  it('takes the maximum of each 2×2 window and drops an odd last row and column', () => {
    // 5×5 input 0..24 (row-major): windows {0,1,5,6} → 6, {2,3,7,8} → 8, {10,11,15,16} → 16, {12,13,17,18} → 18.
    const data = Float32Array.from({ length: 25 }, (_, i) => i);
    const out = maxPool2({ channels: 1, height: 5, width: 5, data });
    expect([out.height, out.width]).toEqual([2, 2]);
    expect([...out.data]).toEqual([6, 8, 16, 18]);
  });

  it('pools each channel separately, negative values included', () => {
    const data = Float32Array.from([-4, -3, -2, -1, 5, -5, -6, -7]);
    const out = maxPool2({ channels: 2, height: 2, width: 2, data });
    expect([...out.data]).toEqual([-1, 5]);
  });
});

describe('linear and relu', () => {
  it('computes W x + b by hand', () => {
    // W = [[1,2],[3,4],[−1,0]], x = [5,6], b = [0,1,2]: [5+12, 15+24+1, −5+2] = [17, 40, −3].
    const out = linear(Float32Array.from([5, 6]), Float32Array.from([1, 2, 3, 4, -1, 0]), Float32Array.from([0, 1, 2]));
    expect([...out]).toEqual([17, 40, -3]);
    expect([...reluInPlace(out)]).toEqual([17, 40, 0]);
  });
});
