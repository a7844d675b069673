/**
 * The two block kinds of a level, on NHWC tensors:
 * - `resnet`: diffusers' ResnetBlock2D,
 *   out = shortcut(x) + conv2(dropout(SiLU(norm2(conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb)))))).
 * - `ode2`: a second-order neural-ODE block (Calvo-Ordoñez et al., "The Missing U for Efficient
 *   Diffusion Models"): h'' = f(h, h') with f(h, v) = body(h) − v on s ∈ [0, 1], h(0) = shortcut(x),
 *   h'(0) = 0, where body is the resnet block's residual branch; written as the first-order system
 *   (h, v)' = (v, f(h, v)) and integrated with `spec.ode.steps` fixed Euler or classical RK4 steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResBlockDescription, UNetSpec } from '@levelskip/core';
import type { Layers } from './layers.js';

/** time_emb_proj(SiLU(temb)) as [B, 1, 1, C], ready to add to every pixel. */
function timeProjection(layers: Layers, prefix: string, temb: tf.Tensor2D): tf.Tensor4D {
  const e = layers.linear(`${prefix}.time_emb_proj`, layers.silu(temb));
  return e.reshape([e.shape[0], 1, 1, e.shape[1]]);
}

/** conv2(dropout(SiLU(norm2(conv1(SiLU(norm1(x))) + e)))): the residual branch both kinds share. */
function body(layers: Layers, prefix: string, x: tf.Tensor4D, e: tf.Tensor4D): tf.Tensor4D {
  const h = layers.conv(`${prefix}.conv1`, layers.silu(layers.groupNorm(`${prefix}.norm1`, x))).add(e) as tf.Tensor4D;
  return layers.conv(`${prefix}.conv2`, layers.dropout(layers.silu(layers.groupNorm(`${prefix}.norm2`, h))));
}

function shortcut(layers: Layers, b: ResBlockDescription, x: tf.Tensor4D): tf.Tensor4D {
  return b.hasShortcut ? layers.conv(`${b.prefix}.conv_shortcut`, x) : x;
}

export function resnetBlock(layers: Layers, b: ResBlockDescription, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => shortcut(layers, b, x).add(body(layers, b.prefix, x, timeProjection(layers, b.prefix, temb))));
}

/** y + a · d. */
function axpy(y: tf.Tensor4D, a: number, d: tf.Tensor4D): tf.Tensor4D {
  return y.add(d.mul(a));
}

export function ode2Block(layers: Layers, spec: UNetSpec, b: ResBlockDescription, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const e = timeProjection(layers, b.prefix, temb);
    const field = (h: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D => body(layers, b.prefix, h, e).sub(v);
    let h = shortcut(layers, b, x);
    let v = tf.zerosLike(h);
    const dt = 1 / spec.ode.steps;
    for (let step = 0; step < spec.ode.steps; step++) {
      if (spec.ode.solver === 'euler') {
        // Both updates use the state at the start of the step.
        const a = field(h, v);
        [h, v] = [axpy(h, dt, v), axpy(v, dt, a)];
      } else {
        const k1h = v;
        const k1v = field(h, v);
        const k2h = axpy(v, dt / 2, k1v);
        const k2v = field(axpy(h, dt / 2, k1h), k2h);
        const k3h = axpy(v, dt / 2, k2v);
        const k3v = field(axpy(h, dt / 2, k2h), k3h);
        const k4h = axpy(v, dt, k3v);
        const k4v = field(axpy(h, dt, k3h), k4h);
        const combine = (y: tf.Tensor4D, k1: tf.Tensor4D, k2: tf.Tensor4D, k3: tf.Tensor4D, k4: tf.Tensor4D): tf.Tensor4D =>
          axpy(y, dt / 6, tf.addN([k1, k2.mul(2), k3.mul(2), k4]) as tf.Tensor4D);
        [h, v] = [combine(h, k1h, k2h, k3h, k4h), combine(v, k1v, k2v, k3v, k4v)];
      }
    }
    return h;
  });
}
