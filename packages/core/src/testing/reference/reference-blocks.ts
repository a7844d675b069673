/**
 * The U-Net's blocks in float64, following 🤗 diffusers `UNet2DModel` (ResnetBlock2D,
 * Attention with group norm and residual, Downsample2D, Upsample2D) plus the two levelskip
 * additions: second-order neural-ODE blocks (Calvo-Ordoñez et al., "The Missing U for Efficient
 * Diffusion Models") and the learned side paths of the interpolate fill. Tensor names and
 * channel counts come from `describeArchitecture`.
 */
import type { NamedTensors } from '../../backend/tensor-ops.js';
import type { UNetBlocks } from '../../composition/level-skipping-unet.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import type { Architecture, AttentionDescription, ConvDescription, ResBlockDescription } from '../../geometry/architecture.js';
import { siluReference } from './activation.js';
import { softmaxAttentionReference } from './attention.js';
import { conv2dReference, type Conv2dOptions } from './conv2d.js';
import { groupNormReference } from './group-norm.js';
import { linearReference } from './linear.js';
import { timestepEmbeddingReference } from './time-embedding.js';
import { bicubicResizeReference, nearestUpsample2xReference } from './resize.js';
import { nchw, referenceFromHost, referenceTensor, type ReferenceTensor } from './reference-tensor.js';
import { referenceOps as ops } from './reference-ops.js';

/** Adds a per-(sample, channel) vector e [B, C] to every pixel of h [B, C, H, W]. */
function addChannelBias(h: ReferenceTensor, e: ReferenceTensor): ReferenceTensor {
  const [b, c, height, width] = nchw(h);
  const plane = height * width;
  const out = referenceTensor(h.shape, h.data);
  for (let n = 0; n < b; n++) {
    for (let ch = 0; ch < c; ch++) {
      const v = e.data[n * c + ch]!;
      const base = (n * c + ch) * plane;
      for (let i = 0; i < plane; i++) out.data[base + i]! += v;
    }
  }
  return out;
}

/** [B, C, H, W] → [B, H·W, C] (tokens in row-major pixel order). */
function toTokens(x: ReferenceTensor): ReferenceTensor {
  const [b, c, h, w] = nchw(x);
  const s = h * w;
  const out = referenceTensor([b, s, c]);
  for (let n = 0; n < b; n++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < s; i++) out.data[(n * s + i) * c + ch] = x.data[(n * c + ch) * s + i]!;
  return out;
}

/** [B, H·W, C] → [B, C, H, W]. */
function fromTokens(t: ReferenceTensor, h: number, w: number): ReferenceTensor {
  const [b, s, c] = t.shape as [number, number, number];
  const out = referenceTensor([b, c, h, w]);
  for (let n = 0; n < b; n++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < s; i++) out.data[(n * c + ch) * s + i] = t.data[(n * s + i) * c + ch]!;
  return out;
}

/** The reference `UNetBlocks` for an architecture and its (float32 host) weights, widened to float64. */
export function createReferenceBlocks(arch: Architecture, weights: NamedTensors): UNetBlocks<ReferenceTensor> {
  const spec = arch.spec;
  // Widen every weight once, up front, so later changes to the caller's arrays cannot leak in.
  const params = new Map<string, ReferenceTensor>();
  for (const [name, host] of weights) params.set(name, referenceFromHost(host));
  const param = (name: string): ReferenceTensor => {
    const t = params.get(name);
    if (t === undefined) throw new LevelskipError('WEIGHTS_MISMATCH', `weight "${name}" is missing; pass every tensor parameterLayout(spec) lists`);
    return t;
  };

  const conv = (c: ConvDescription | string, x: ReferenceTensor, options: Conv2dOptions = {}): ReferenceTensor => {
    const prefix = typeof c === 'string' ? c : c.prefix;
    const weight = param(`${prefix}.weight`);
    const kernel = weight.shape[2]!;
    return conv2dReference(x, weight, param(`${prefix}.bias`), { padding: (kernel - 1) / 2, ...options });
  };
  const linear = (prefix: string, x: ReferenceTensor): ReferenceTensor => linearReference(x, param(`${prefix}.weight`), param(`${prefix}.bias`));
  const norm = (prefix: string, x: ReferenceTensor): ReferenceTensor =>
    groupNormReference(x, spec.groups, param(`${prefix}.weight`), param(`${prefix}.bias`), spec.normEps);

  /** conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb)), then conv2(SiLU(norm2(·))): the body shared by both block kinds. */
  const body = (p: string, x: ReferenceTensor, e: ReferenceTensor): ReferenceTensor => {
    const h = addChannelBias(conv(`${p}.conv1`, siluReference(norm(`${p}.norm1`, x))), e);
    // Dropout sits before conv2 and is the identity at inference.
    return conv(`${p}.conv2`, siluReference(norm(`${p}.norm2`, h)));
  };

  const resnetBlock = (b: ResBlockDescription, x: ReferenceTensor, temb: ReferenceTensor): ReferenceTensor => {
    const e = linear(`${b.prefix}.time_emb_proj`, siluReference(temb));
    const shortcut = b.hasShortcut ? conv(`${b.prefix}.conv_shortcut`, x) : x;
    return ops.add(shortcut, body(b.prefix, x, e));
  };

  /**
   * ode2: h'' = f(h, h') with f(h, v) = body(h) − v on s ∈ [0, 1], h(0) = shortcut(x), h'(0) = 0,
   * written as the first-order system (h, v)' = (v, f(h, v)) and integrated with fixed steps.
   */
  const ode2Block = (b: ResBlockDescription, x: ReferenceTensor, temb: ReferenceTensor): ReferenceTensor => {
    const e = linear(`${b.prefix}.time_emb_proj`, siluReference(temb));
    const field = (h: ReferenceTensor, v: ReferenceTensor): ReferenceTensor => ops.sub(body(b.prefix, h, e), v);
    const axpy = (y: ReferenceTensor, a: number, d: ReferenceTensor): ReferenceTensor => ops.add(y, ops.scale(d, a));
    let h = b.hasShortcut ? conv(`${b.prefix}.conv_shortcut`, x) : x;
    let v = ops.zeros(h.shape);
    const dt = 1 / spec.ode.steps;
    for (let step = 0; step < spec.ode.steps; step++) {
      if (spec.ode.solver === 'euler') {
        const a = field(h, v);
        h = axpy(h, dt, v);
        v = axpy(v, dt, a);
      } else {
        const k1h = v;
        const k1v = field(h, v);
        const k2h = axpy(v, dt / 2, k1v);
        const k2v = field(axpy(h, dt / 2, k1h), k2h);
        const k3h = axpy(v, dt / 2, k2v);
        const k3v = field(axpy(h, dt / 2, k2h), k3h);
        const k4h = axpy(v, dt, k3v);
        const k4v = field(axpy(h, dt, k3h), k4h);
        const combine = (y: ReferenceTensor, k1: ReferenceTensor, k2: ReferenceTensor, k3: ReferenceTensor, k4: ReferenceTensor): ReferenceTensor =>
          referenceTensor(
            y.shape,
            y.data.map((value, i) => value + (dt / 6) * (k1.data[i]! + 2 * k2.data[i]! + 2 * k3.data[i]! + k4.data[i]!)),
          );
        [h, v] = [combine(h, k1h, k2h, k3h, k4h), combine(v, k1v, k2v, k3v, k4v)];
      }
    }
    return h;
  };

  const resBlock = (b: ResBlockDescription, x: ReferenceTensor, temb: ReferenceTensor): ReferenceTensor =>
    b.kind === 'resnet' ? resnetBlock(b, x, temb) : ode2Block(b, x, temb);

  const attention = (a: AttentionDescription, x: ReferenceTensor): ReferenceTensor => {
    const [, , h, w] = nchw(x);
    const tokens = toTokens(norm(`${a.prefix}.group_norm`, x));
    const mixed = softmaxAttentionReference(
      linear(`${a.prefix}.to_q`, tokens),
      linear(`${a.prefix}.to_k`, tokens),
      linear(`${a.prefix}.to_v`, tokens),
      a.heads,
    );
    return ops.add(fromTokens(linear(`${a.prefix}.to_out.0`, mixed), h, w), x);
  };

  const blockThenAttention = (b: ResBlockDescription, a: AttentionDescription | undefined, x: ReferenceTensor, temb: ReferenceTensor): ReferenceTensor => {
    const out = resBlock(b, x, temb);
    return a === undefined ? out : attention(a, out);
  };

  return {
    timeEmbedding(timesteps) {
      const sinusoid = timestepEmbeddingReference(timesteps, arch.timeEmbedding.inChannels, {
        flipSinToCos: spec.flipSinToCos,
        freqShift: spec.freqShift,
      });
      return linear('time_embedding.linear_2', siluReference(linear('time_embedding.linear_1', sinusoid)));
    },
    inputConv(x) {
      return conv(arch.convIn, x);
    },
    encoderBlock(level, index, h, temb) {
      const l = arch.encoder[level]!;
      return blockThenAttention(l.blocks[index]!, l.attentions[index], h, temb);
    },
    downsample(level, h) {
      const d = arch.encoder[level]!.downsample!;
      // downsamplePadding 0 is DDPM's asymmetric pad: one zero row/column on the bottom/right only.
      const padding = spec.downsamplePadding === 1 ? 1 : { top: 0, bottom: 1, left: 0, right: 1 };
      return conv(d, h, { stride: 2, padding });
    },
    middle(h, temb) {
      const [first, second] = arch.middle.blocks;
      return resBlock(second, blockThenAttention(first, arch.middle.attention, h, temb), temb);
    },
    decoderBlock(stage, level, index, h, temb) {
      const l = arch.decoders[stage]!.levels[level]!;
      return blockThenAttention(l.blocks[index]!, l.attentions[index], h, temb);
    },
    upsample(stage, level, h) {
      return conv(arch.decoders[stage]!.levels[level]!.upsample!, nearestUpsample2xReference(h));
    },
    output(stage, h) {
      const d = arch.decoders[stage]!;
      return conv(d.convOut, siluReference(norm(d.normOut.prefix, h)));
    },
    sideEncoder(level, skip) {
      const size = arch.middle.size;
      return conv(arch.sideEncoder[level]!.projection, bicubicResizeReference(skip, size, size));
    },
    sideDecoder(stage, level, middle) {
      const size = arch.sizes[level]!;
      return conv(arch.decoders[stage]!.sideDecoder[level]!.projection, bicubicResizeReference(middle, size, size));
    },
  };
}
