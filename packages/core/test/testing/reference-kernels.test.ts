/**
 * The reference kernels on tiny inputs whose outputs are worked out by hand below
 * (and, for the resizes, the cubic-convolution weights written out explicitly).
 */
import { cubicConvolutionWeight } from '../../src/resize/resize-taps.js';
import { describe, expect, it } from 'vitest';
import {
  avgPoolReference,
  bicubicResizeReference,
  bilinearResizeReference,
  conv2dReference,
  groupNormReference,
  linearReference,
  nearestUpsample2xReference,
  referenceTensor,
  siluReference,
  softmaxAttentionReference,
  timestepEmbeddingReference,
} from '../../src/testing/reference/index.js';

const t = referenceTensor;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, -Math.log10(tolerance)));
}

describe('conv2dReference', () => {
  // in[r][c] = 3r + c + 1 (1..9); kernel taps: up = 1, left = 1, centre = -1, down-right = 2; bias 0.5.
  // With padding 1: out[y][x] = in[y-1][x] + in[y][x-1] - in[y][x] + 2 in[y+1][x+1] + 0.5 (zeros outside).
  const input = t([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const weight = t([1, 1, 3, 3], [0, 1, 0, 1, -1, 0, 0, 0, 2]);
  const bias = t([1], [0.5]);

  it('3×3, padding 1 (worked by hand)', () => {
    const out = conv2dReference(input, weight, bias, { padding: 1 });
    expect(out.shape).toEqual([1, 1, 3, 3]);
    // (0,0): 0 + 0 - 1 + 2·5 = 9;  (0,1): 0 + 1 - 2 + 2·6 = 11;  (0,2): 0 + 2 - 3 + 0 = -1
    // (1,0): 1 + 0 - 4 + 2·8 = 13; (1,1): 2 + 4 - 5 + 2·9 = 19;  (1,2): 3 + 5 - 6 + 0 = 2
    // (2,0): 4 + 0 - 7 + 0 = -3;   (2,1): 5 + 7 - 8 + 0 = 4;     (2,2): 6 + 8 - 9 + 0 = 5; each + 0.5
    expectClose(out.data, [9.5, 11.5, -0.5, 13.5, 19.5, 2.5, -2.5, 4.5, 5.5]);
  });

  it('stride 2 picks every other output of the stride-1 result', () => {
    const out = conv2dReference(input, weight, bias, { padding: 1, stride: 2 });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expectClose(out.data, [9.5, -0.5, -2.5, 5.5]);
  });

  it("asymmetric right/bottom padding (DDPM's downsample) with a 3×3 box filter", () => {
    // in[r][c] = 4r + c + 1 on 4×4, one zero row/column added bottom/right, stride 2 → 2×2 box sums:
    // rows 0-2 × cols 0-2: 3·4·(0+1+2) + 3·(1+2+3) = 54;  rows 0-2 × cols 2-3: 2·4·3 + 3·(3+4) = 45
    // rows 2-3 × cols 0-2: 3·4·(2+3) + 2·(1+2+3) = 72;    rows 2-3 × cols 2-3: 2·4·5 + 2·(3+4) = 54
    const x = t([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i + 1));
    const box = t([1, 1, 3, 3], new Array<number>(9).fill(1));
    const out = conv2dReference(x, box, undefined, { stride: 2, padding: { top: 0, bottom: 1, left: 0, right: 1 } });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expectClose(out.data, [54, 45, 72, 54]);
  });

  it('1×1 conv mixes channels per output: out_o = Σ_i w[o][i] x_i + b_o', () => {
    const x = t([1, 2, 1, 2], [1, 2, 10, 20]); // channel 0: [1, 2], channel 1: [10, 20]
    const w = t([2, 2, 1, 1], [2, -1, 0.5, 0.25]);
    const out = conv2dReference(x, w, t([2], [1, -1]));
    // o = 0: 2·[1, 2] - [10, 20] + 1 = [-7, -15];  o = 1: 0.5·[1, 2] + 0.25·[10, 20] - 1 = [2, 5]
    expectClose(out.data, [-7, -15, 2, 5]);
  });

  it('batches are independent', () => {
    const two = t([2, 1, 3, 3], [...input.data, ...input.data.map((v) => -v)]);
    const out = conv2dReference(two, weight, undefined, { padding: 1 });
    expectClose(out.data.subarray(0, 9), [9, 11, -1, 13, 19, 2, -3, 4, 5]);
    expectClose(out.data.subarray(9), [-9, -11, 1, -13, -19, -2, 3, -4, -5]);
  });

  it('rejects a channel mismatch', () => {
    expect(() => conv2dReference(t([1, 2, 3, 3]), weight, undefined)).toThrow(/input channels/);
  });
});

describe('groupNormReference', () => {
  it('normalises each group over channels × pixels, then scales and shifts per channel', () => {
    // Group 0 = channels 0, 1 = [1, 3 | 5, 7]: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5; eps 4 → divide by 3.
    // Group 1 = channels 2, 3 = [2, 2 | 2, 10]: mean 4, variance (4 + 4 + 4 + 36) / 4 = 12; eps 4 → divide by 4.
    const x = t([1, 4, 1, 2], [1, 3, 5, 7, 2, 2, 2, 10]);
    const gamma = t([4], [1, 2, -1, 0.5]);
    const beta = t([4], [0, 1, 0, -1]);
    const out = groupNormReference(x, 2, gamma, beta, 4);
    // ch0: [-1, -1/3]; ch1: 2·[1/3, 1] + 1 = [5/3, 3]; ch2: -[-0.5, -0.5] = [0.5, 0.5]; ch3: 0.5·[-0.5, 1.5] - 1 = [-1.25, -0.25]
    expectClose(out.data, [-1, -1 / 3, 5 / 3, 3, 0.5, 0.5, -1.25, -0.25]);
  });

  it('one group per channel is instance norm; the batch does not mix', () => {
    const x = t([2, 1, 1, 2], [0, 2, 10, 30]);
    const out = groupNormReference(x, 1, t([1], [1]), t([1], [0]), 0);
    expectClose(out.data, [-1, 1, -1, 1]);
  });
});

describe('linearReference and siluReference', () => {
  it('y = x Wᵀ + b with W [out, in]', () => {
    const out = linearReference(t([2, 3], [1, 2, 3, -1, 0, 1]), t([2, 3], [1, 0, -1, 2, 1, 0]), t([2], [0.5, -0.5]));
    // row 0: [1 - 3, 2 + 2] + b = [-1.5, 3.5]; row 1: [-1 - 1, -2 + 0] + b = [-1.5, -2.5]
    expect(out.shape).toEqual([2, 2]);
    expectClose(out.data, [-1.5, 3.5, -1.5, -2.5]);
  });

  it('SiLU(x) = x σ(x): σ(0) = 1/2, σ(ln 3) = 3/4, σ(-ln 3) = 1/4', () => {
    const out = siluReference(t([3], [0, Math.log(3), -Math.log(3)]));
    expectClose(out.data, [0, 0.75 * Math.log(3), -0.25 * Math.log(3)]);
  });
});

describe('softmaxAttentionReference', () => {
  // Keys are the unit vectors, so q·k_j is q's j-th coordinate.
  const k = t([1, 2, 2], [1, 0, 0, 1]);

  it('one head, two tokens: softmax(q kᵀ / √2) v', () => {
    // Token 0: q = [√2 ln 3, 0] → scores [ln 3, 0] → weights [3/4, 1/4]. Token 1: q = 0 → [1/2, 1/2].
    const q = t([1, 2, 2], [Math.SQRT2 * Math.log(3), 0, 0, 0]);
    const v = t([1, 2, 2], [4, 0, 0, 8]);
    const out = softmaxAttentionReference(q, k, v, 1);
    // token 0: 3/4·[4, 0] + 1/4·[0, 8] = [3, 2]; token 1: 1/2·[4, 0] + 1/2·[0, 8] = [2, 4]
    expectClose(out.data, [3, 2, 2, 4]);
  });

  it('two heads of one channel each attend separately (scale 1/√1)', () => {
    // Head 0 sees channel 0: q0 = ln 3 against keys [1, 0] → [3/4, 1/4]; head 1: q0 = 0 → [1/2, 1/2].
    const q = t([1, 2, 2], [Math.log(3), 0, 0, Math.log(3)]);
    const v = t([1, 2, 2], [4, 2, 0, 6]);
    const out = softmaxAttentionReference(q, k, v, 2);
    // token 0: head 0 = 3/4·4 + 1/4·0 = 3; head 1 = 1/2·2 + 1/2·6 = 4
    // token 1: head 0 = 1/2·4 + 1/2·0 = 2; head 1 (scores [0, ln 3]) = 1/4·2 + 3/4·6 = 5
    expectClose(out.data, [3, 4, 2, 5]);
  });
});

describe('timestepEmbeddingReference', () => {
  it('dim 4, shift 0: ω = [1, 10000^(-1/2)] = [1, 0.01]; [sin, cos] or flipped [cos, sin]', () => {
    const plain = timestepEmbeddingReference([100], 4, { flipSinToCos: false, freqShift: 0 });
    expectClose(plain.data, [Math.sin(100), Math.sin(1), Math.cos(100), Math.cos(1)]);
    const flipped = timestepEmbeddingReference([100], 4, { flipSinToCos: true, freqShift: 0 });
    expectClose(flipped.data, [Math.cos(100), Math.cos(1), Math.sin(100), Math.sin(1)]);
  });

  it('shift 1 (DDPM): ω_i = 10000^(-i / (half - 1)) = [1, 1e-4]', () => {
    const out = timestepEmbeddingReference([100, 0], 4, { flipSinToCos: false, freqShift: 1 });
    expectClose(out.data, [Math.sin(100), Math.sin(0.01), Math.cos(100), Math.cos(0.01), 0, 0, 1, 1]);
  });
});

describe('resize kernels (PyTorch align_corners = False)', () => {
  // Keys' cubic kernel with a = -0.75: W(s) = 1.25|s|³ - 2.25|s|² + 1 for |s| ≤ 1,
  // -0.75|s|³ + 3.75|s|² - 6|s| + 3 for 1 < |s| < 2.
  // W(0.25) = 0.87890625, W(0.75) = 0.26171875, W(1.25) = -0.10546875, W(1.75) = -0.03515625,
  // W(0.5) = 0.59375, W(1.5) = -0.09375.
  it('cubicConvolutionWeight matches the values worked out above', () => {
    expectClose(
      [0.25, 0.75, 1.25, 1.75, 0.5, 1.5, 0, 1, 2, -0.25].map((s) => cubicConvolutionWeight(s)),
      [0.87890625, 0.26171875, -0.10546875, -0.03515625, 0.59375, -0.09375, 1, 0, 0, 0.87890625],
    );
  });

  // Input 4×4: X[r][c] = u[r] + v[c] with u = [0, 10, 20, 30], v = [0, 1, 4, 9]. Each output row of
  // the 1-D resize weights sums to 1, so the 2-D result is U[y] + V[x] with U, V the 1-D resizes.
  const u = [0, 10, 20, 30];
  const v = [0, 1, 4, 9];
  const input = t(
    [1, 1, 4, 4],
    u.flatMap((ur) => v.map((vc) => ur + vc)),
  );

  it('bicubic 4×4 → 8×8', () => {
    // ×2: src = dst/2 - 0.25. Per output index, the 1-D weights on p[0..3] (taps clamped to the border):
    //  0: src -0.25, t 0.75, taps p0,p0,p0,p1: (-0.03515625 + 0.26171875 + 0.87890625) p0 - 0.10546875 p1
    //  1: src  0.25, t 0.25, taps p0,p0,p1,p2: (-0.10546875 + 0.87890625) p0 + 0.26171875 p1 - 0.03515625 p2
    //  2: src  0.75, t 0.75, taps p0,p0,p1,p2: (-0.03515625 + 0.26171875) p0 + 0.87890625 p1 - 0.10546875 p2
    //  3: src  1.25, t 0.25, taps p0..p3: -0.10546875, 0.87890625, 0.26171875, -0.03515625
    //  4: src  1.75, t 0.75, taps p0..p3: -0.03515625, 0.26171875, 0.87890625, -0.10546875
    //  5..7 mirror 2..0.
    // U = [1.10546875·0 - 1.0546875, 2.6171875 - 0.703125, 8.7890625 - 2.109375,
    //      8.7890625 + 5.234375 - 1.0546875, 2.6171875 + 17.578125 - 3.1640625, ...] (U[7-i] = 30 - U[i])
    const U = [-1.0546875, 1.9140625, 6.6796875, 12.96875, 17.03125, 23.3203125, 28.0859375, 31.0546875];
    // V: -0.10546875; 0.26171875 - 0.140625; 0.87890625 - 0.421875; 0.87890625 + 1.046875 - 0.31640625;
    //    0.26171875 + 3.515625 - 0.94921875; -0.10546875 + 3.515625 + 0.2265625·9;
    //    -0.03515625 + 1.046875 + 0.7734375·9; -0.421875 + 1.10546875·9
    const V = [-0.10546875, 0.12109375, 0.45703125, 1.609375, 2.828125, 5.44921875, 7.97265625, 9.52734375];
    const out = bicubicResizeReference(input, 8, 8);
    expect(out.shape).toEqual([1, 1, 8, 8]);
    expectClose(out.data, U.flatMap((a) => V.map((b) => a + b)));
  });

  it('bicubic 4×4 → 2×2 (no antialias)', () => {
    // ×½: src = 2·dst + 0.5, t = 0.5, weights W(1.5), W(0.5), W(0.5), W(1.5):
    //  0: taps p0,p0,p1,p2 → 0.5 p0 + 0.59375 p1 - 0.09375 p2;  1: taps p1,p2,p3,p3 → -0.09375 p1 + 0.59375 p2 + 0.5 p3
    // U = [5.9375 - 1.875, -0.9375 + 11.875 + 15] = [4.0625, 25.9375]; V = [0.59375 - 0.375, -0.09375 + 2.375 + 4.5]
    const U = [4.0625, 25.9375];
    const V = [0.21875, 6.78125];
    const out = bicubicResizeReference(input, 2, 2);
    expectClose(out.data, U.flatMap((a) => V.map((b) => a + b)));
  });

  it('bilinear 1×2 → 1×4: src = dst/2 - 0.25, clamped at 0', () => {
    // dst 0: src 0 → p0; 1: 0.25 → 0.75 p0 + 0.25 p1; 2: 0.75 → 0.25 p0 + 0.75 p1; 3: 1.25 → p1 (clamped)
    const out = bilinearResizeReference(t([1, 1, 1, 2], [0, 4]), 1, 4);
    expectClose(out.data, [0, 1, 3, 4]);
  });

  it('nearest ×2 turns each pixel into a 2×2 block, per channel', () => {
    const out = nearestUpsample2xReference(t([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    expect(out.shape).toEqual([1, 2, 4, 4]);
    expectClose(out.data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8]);
  });
});

describe('avgPoolReference (same padding, padded cells excluded)', () => {
  const x = t([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('window 2, stride 2 on 3×3: one padded row/column at the end', () => {
    // [mean(1,2,4,5), mean(3,6), mean(7,8), 9]
    const out = avgPoolReference(x, 2, 2);
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expectClose(out.data, [3, 4.5, 7.5, 9]);
  });

  it('window 3, stride 1: a 3×3 neighbourhood mean that counts only real cells', () => {
    // corners: mean of 4 cells; edges: 6 cells; centre: all 9
    const out = avgPoolReference(x, 3, 1);
    expectClose(out.data, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]);
  });
});
