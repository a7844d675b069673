/**
 * Exponential moving average of the weights (Polyak averaging; used for sampling by Ho et al.
 * 2020, §B, with decay 0.9999): after every optimiser step, θ_ema ← d · θ_ema + (1 − d) · θ.
 * θ_ema starts at the initial weights; d = 0 makes it the raw weights.
 */
import * as tf from '@tensorflow/tfjs';

/** θ_ema ← decay · θ_ema + (1 − decay) · θ, in place. */
export function emaUpdate(ema: tf.Variable, param: tf.Tensor, decay: number): void {
  tf.tidy(() => ema.assign(tf.add(tf.mul(ema, decay), tf.mul(param, 1 - decay))));
}
