/**
 * Exponential moving average of the weights (Polyak averaging; used for sampling by Ho et al.
 * 2020, §B, with decay 0.9999): after every optimiser step, θ_ema ← d · θ_ema + (1 − d) · θ.
 * θ_ema starts at the initial weights; d = 0 makes it the raw weights.
 *
 * With warm-up (the default), update s (1-based) uses d_s = min(d, (1 + s) / (10 + s)), as
 * TensorFlow's `ExponentialMovingAverage(num_updates=…)` and diffusers' `EMAModel` do: without it
 * the average keeps a weight of d^s on the random initial weights (0.999^1000 ≈ 0.37), so a run
 * of a few thousand steps would sample with partly untrained weights.
 */
import * as tf from '@tensorflow/tfjs';

/** The decay of 1-based update `step`: `min(decay, (1 + step) / (10 + step))` with warm-up, else `decay`. */
export function emaDecay(step: number, decay: number, warmup: boolean): number {
  return warmup ? Math.min(decay, (1 + step) / (10 + step)) : decay;
}

/** θ_ema ← decay · θ_ema + (1 − decay) · θ, in place. */
export function emaUpdate(ema: tf.Variable, param: tf.Tensor, decay: number): void {
  tf.tidy(() => ema.assign(tf.add(tf.mul(ema, decay), tf.mul(param, 1 - decay))));
}
