/**
 * The parameterised layers of the U-Net on NHWC tensors, reading a `ParameterSource`:
 * 2-D convolution (PyTorch `nn.Conv2d` semantics, HWIO kernel), linear (`nn.Linear`, y = x W + b
 * with W stored [in, out]), group normalisation (Wu & He 2018; `nn.GroupNorm`), SiLU
 * (Elfwing et al. 2018: x · σ(x)) and dropout (identity unless training).
 */
import * as tf from '@tensorflow/tfjs';
import { LevelskipError } from '@levelskip/core';
import type { ParameterSource } from './parameters.js';

/** Zero padding of a convolution: PyTorch-style symmetric padding, or explicit per side. */
export type ConvPadding = number | { readonly top: number; readonly bottom: number; readonly left: number; readonly right: number };

export interface ConvOptions {
  readonly stride?: number;
  /** Default: (kernel − 1) / 2 on every side, i.e. 'same' for the odd kernels of the U-Net. */
  readonly padding?: ConvPadding;
}

/** How blocks treat training-only layers. */
export interface LayerOptions {
  /** Training mode: dropout is active. Default false (inference: dropout is the identity). */
  readonly training?: boolean;
  /**
   * Seed of the dropout masks: mask i of a run uses seed `dropoutSeed + i`, so a training run
   * is reproducible. Without it masks are random.
   */
  readonly dropoutSeed?: number;
}

export interface Layers {
  /** The parameter `name` (diffusers name, tfjs layout). */
  param(name: string): tf.Tensor;
  conv(prefix: string, x: tf.Tensor4D, options?: ConvOptions): tf.Tensor4D;
  linear(prefix: string, x: tf.Tensor2D): tf.Tensor2D;
  groupNorm(prefix: string, x: tf.Tensor4D): tf.Tensor4D;
  silu<R extends tf.Rank>(x: tf.Tensor<R>): tf.Tensor<R>;
  /** Dropout at the spec's rate while training; otherwise returns `x` itself (no copy). */
  dropout(x: tf.Tensor4D): tf.Tensor4D;
}

function explicitPadding(padding: ConvPadding): number | [[0, 0], [number, number], [number, number], [0, 0]] {
  if (typeof padding === 'number') return padding;
  return [
    [0, 0],
    [padding.top, padding.bottom],
    [padding.left, padding.right],
    [0, 0],
  ];
}

/**
 * GroupNorm of NHWC `x`: channels split into `groups` contiguous groups, each (sample, group)
 * normalised by its mean μ and biased variance σ² over channels × pixels, then scaled and shifted
 * per channel. Computed as y = x · s + t with s = γ_c / √(σ² + ε) and t = β_c − μ · s, so the
 * full-size tensor is touched twice after the statistics instead of four times.
 */
export function groupNormalize(x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const perGroup = c / groups;
    const grouped = x.reshape([b, h * w, groups, perGroup]);
    const { mean, variance } = tf.moments(grouped, [1, 3], true);
    const scale = tf.rsqrt(variance.add(eps)).mul(gamma.reshape([1, 1, groups, perGroup]));
    const shift = beta.reshape([1, 1, groups, perGroup]).sub(mean.mul(scale));
    return grouped.mul(scale).add(shift).reshape([b, h, w, c]);
  });
}

/** The layers of one model: `spec` gives the norm groups, epsilon and dropout rate. */
export function createLayers(
  params: ParameterSource,
  settings: { readonly groups: number; readonly normEps: number; readonly dropout: number },
  options: LayerOptions = {},
): Layers {
  let dropoutCalls = 0;
  const param = (name: string): tf.Tensor => {
    const t = params.get(name);
    if (t === undefined) throw new LevelskipError('WEIGHTS_MISMATCH', `weight "${name}" is missing; pass every tensor parameterLayout(spec) lists`);
    return t;
  };
  return {
    param,
    conv(prefix, x, convOptions = {}) {
      const filter = param(`${prefix}.weight`) as tf.Tensor4D;
      const kernel = filter.shape[0];
      return tf.fused.conv2d({
        x,
        filter,
        bias: param(`${prefix}.bias`),
        strides: convOptions.stride ?? 1,
        pad: explicitPadding(convOptions.padding ?? (kernel - 1) / 2),
      });
    },
    linear(prefix, x) {
      return tf.fused.matMul({ a: x, b: param(`${prefix}.weight`) as tf.Tensor2D, bias: param(`${prefix}.bias`) }) as tf.Tensor2D;
    },
    groupNorm(prefix, x) {
      return groupNormalize(x, settings.groups, param(`${prefix}.weight`), param(`${prefix}.bias`), settings.normEps);
    },
    silu(x) {
      return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
    },
    dropout(x) {
      if (options.training !== true || settings.dropout === 0) return x;
      const seed = options.dropoutSeed === undefined ? undefined : options.dropoutSeed + dropoutCalls++;
      return tf.dropout(x, settings.dropout, undefined, seed) as tf.Tensor4D;
    },
  };
}
