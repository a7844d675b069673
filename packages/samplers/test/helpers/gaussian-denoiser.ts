/**
 * A denoiser that is exactly optimal for Gaussian data: if x₀ ~ N(μ, s²I) then
 * x_t = √ᾱ x₀ + √(1-ᾱ) ε ~ N(√ᾱ μ, (ᾱ s² + 1 - ᾱ) I) and the MMSE ε-prediction is
 *
 *   E[ε | x_t] = √(1-ᾱ) (x_t - √ᾱ μ) / (ᾱ s² + 1 - ᾱ),
 *
 * so a correct sampler driven by it must reproduce N(μ, s²) (up to its discretisation error).
 * With V = ᾱ s² + 1 - ᾱ, the other targets are just as exact (posterior means of jointly Gaussian
 * variables, each affine in x_t; written here from these formulas, not through the package's
 * conversion code):
 *
 *   x₀: E[x₀ | x_t] = μ + √ᾱ s² (x_t - √ᾱ μ)/V
 *   v:  E[v | x_t] = √ᾱ E[ε | x_t] - √(1-ᾱ) E[x₀ | x_t] = √ᾱ √(1-ᾱ) (1 - s²) x_t/V - √(1-ᾱ) μ/V
 *
 * (the last since v = √ᾱ ε - √(1-ᾱ) x₀ is linear). It ignores k and the fill, and counts its calls.
 */
import type { PredictionType } from '../../src/index.js';
import { FeatureCache, specificationVersion, type Denoiser, type NoiseSchedule, type PredictOptions, type TensorOps, type UNetSpec } from '@levelskip/core';

export interface GaussianDenoiser<T> extends Denoiser<T> {
  readonly calls: number;
}

/**
 * @param mean - μ of one image (C·H·W values, NCHW order).
 * @param std - s.
 * @param prediction - what it outputs: ε (default), v or x₀ (diffusers' prediction_type names).
 */
export function gaussianDenoiser<T>(
  ops: TensorOps<T>,
  spec: UNetSpec,
  schedule: NoiseSchedule,
  mean: Float32Array,
  std: number,
  prediction: PredictionType = 'epsilon',
): GaussianDenoiser<T> {
  const perImage = spec.inChannels * spec.imageSize * spec.imageSize;
  if (mean.length !== perImage) throw new Error(`mean needs ${perImage} values`);
  const means = new Map<number, T>();
  let calls = 0;
  const meanFor = (batch: number): T => {
    let tensor = means.get(batch);
    if (tensor === undefined) {
      const data = new Float32Array(batch * perImage);
      for (let b = 0; b < batch; b++) data.set(mean, b * perImage);
      tensor = ops.fromFloat32(data, [batch, spec.inChannels, spec.imageSize, spec.imageSize]);
      means.set(batch, tensor);
    }
    return tensor;
  };
  return {
    specificationVersion,
    spec,
    levels: spec.channelMults.length,
    backend: `gaussian-oracle(${ops.name})`,
    ops,
    get calls() {
      return calls;
    },
    predict(x: T, timesteps: number | readonly number[], _options?: PredictOptions<T>): Promise<T> {
      calls++;
      const t = typeof timesteps === 'number' ? timesteps : (timesteps[0] as number);
      const alphaBar = schedule.alphasCumprod[t] as number;
      const variance = alphaBar * std * std + 1 - alphaBar;
      const a = Math.sqrt(alphaBar);
      const s = Math.sqrt(1 - alphaBar);
      // The prediction as gainX·x_t + gainMu·μ (the formulas of the file comment).
      const [gainX, gainMu] =
        prediction === 'epsilon'
          ? [s / variance, (-s * a) / variance]
          : prediction === 'sample'
            ? [(a * std * std) / variance, (1 - alphaBar) / variance]
            : [(a * s * (1 - std * std)) / variance, -s / variance];
      const mu = meanFor(ops.shape(x)[0] as number);
      const scaledX = ops.scale(x, gainX);
      const scaledMu = ops.scale(mu, gainMu);
      const out = ops.add(scaledX, scaledMu);
      ops.dispose([scaledX, scaledMu]);
      return Promise.resolve(out);
    },
    createFeatureCache: () => new FeatureCache(ops),
    dispose() {
      for (const tensor of means.values()) ops.dispose(tensor);
      means.clear();
    },
  };
}
