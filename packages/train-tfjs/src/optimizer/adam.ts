/**
 * Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1) in
 * exactly PyTorch's arrangement (`torch.optim.Adam`, no weight decay, no amsgrad):
 *
 *   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²,
 *   θ ← θ − (lr / (1 − β1^s)) · m / (√v / √(1 − β2^s) + ε)
 *
 * with s the parameter's own step count. A parameter that got no gradient in a step (a level the
 * batch skipped) is left alone, moments and step count included, as PyTorch does for a `None`
 * gradient; skipped deep levels therefore keep their own bias correction.
 *
 * Plus global-norm gradient clipping in PyTorch's form (`torch.nn.utils.clip_grad_norm_`):
 * ‖g‖ = √(Σ_p Σ g_p²), every gradient scaled by min(1, maxNorm / (‖g‖ + 1e-6)).
 */
import * as tf from '@tensorflow/tfjs';

/** Adam's hyper-parameters; the defaults are PyTorch's (and the paper's). */
export interface AdamOptions {
  /** β1, in [0, 1). Default 0.9. */
  readonly beta1?: number;
  /** β2, in [0, 1). Default 0.999. */
  readonly beta2?: number;
  /** ε, > 0. Default 1e-8. */
  readonly eps?: number;
}

export const defaultAdamOptions: Required<AdamOptions> = Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8 });

/** One parameter's Adam state. */
export interface AdamSlot {
  /** First moment m (same shape as the parameter). */
  readonly m: tf.Variable;
  /** Second moment v. */
  readonly v: tf.Variable;
  /** Steps this parameter has taken (s in the file comment). */
  step: number;
}

/** A zero Adam state for `param`. The caller disposes `m` and `v`. */
export function createAdamSlot(param: tf.Tensor): AdamSlot {
  return tf.tidy(() => ({ m: tf.variable(tf.zerosLike(param), false), v: tf.variable(tf.zerosLike(param), false), step: 0 }));
}

/**
 * One Adam step of `param` with gradient `grad` at learning rate `lr`: updates `param`, the
 * moments and the step count in place. Allocates nothing that outlives the call.
 */
export function adamUpdate(param: tf.Variable, grad: tf.Tensor, slot: AdamSlot, lr: number, options: AdamOptions = {}): void {
  const { beta1, beta2, eps } = { ...defaultAdamOptions, ...options };
  slot.step += 1;
  // Bias corrections in float64 on the host, as PyTorch computes them in Python floats.
  const biasCorrection1 = 1 - beta1 ** slot.step;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** slot.step);
  tf.tidy(() => {
    const m = tf.add(tf.mul(slot.m, beta1), tf.mul(grad, 1 - beta1));
    const v = tf.add(tf.mul(slot.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const denominator = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), eps);
    const next = tf.sub(param, tf.mul(tf.div(m, denominator), lr / biasCorrection1));
    slot.m.assign(m);
    slot.v.assign(v);
    param.assign(next);
  });
}

/**
 * ‖g‖ = √(Σ Σ g²) over every gradient, and the gradients scaled by min(1, maxNorm / (‖g‖ + 1e-6))
 * when `maxNorm` is given (PyTorch's `clip_grad_norm_`). Computed on the device, without reading
 * back; the caller owns the returned tensors (the inputs are not disposed).
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number | undefined): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(squares.length === 1 ? squares[0]! : tf.addN(squares)) as tf.Scalar;
    if (maxNorm === undefined) return { grads: grads.map((g) => tf.clone(g)), norm };
    const coefficient = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return { grads: grads.map((g) => tf.mul(g, coefficient)), norm };
  });
}
