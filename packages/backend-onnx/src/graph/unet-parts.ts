/**
 * The U-Net's blocks as ONNX subgraphs, following 🤗 diffusers `UNet2DModel` (ResnetBlock2D,
 * Attention with group norm and residual, Downsample2D, Upsample2D) in PyTorch layouts, which
 * ONNX shares (NCHW activations, OIHW conv kernels), so weights go in untransposed — except the
 * attention projections, stored [in, out] for MatMul on [B, tokens, C].
 *
 * - GroupNorm (Wu & He 2018) is a Reshape to [B, G, −1], InstanceNormalization with unit scale
 *   and zero shift, a Reshape back and the per-channel affine: opset 17 has no GroupNormalization
 *   (opset 18's has a channel-vs-group scale ambiguity and is deprecated in 21).
 * - The sinusoidal time embedding (Vaswani et al. 2017 §3.5, diffusers
 *   `get_timestep_embedding`) is computed in the graph from the float timesteps, in float64 so
 *   large t·ω keep their phase, and cast to float32 before the MLP.
 * - ode2 blocks (Calvo-Ordonez et al., "The Missing U") unroll their fixed-step Euler or RK4
 *   solver in the graph.
 * - Resizes: nearest ×2 = Resize(nearest, asymmetric, floor) = PyTorch `nearest`; bicubic =
 *   PyTorch `bicubic`, align_corners False (= Resize(cubic, a = −0.75, half_pixel, exclude_outside 0)),
 *   built as two MatMuls with core's interpolation matrix (faster than Resize(cubic) in ORT).
 */
import { LevelskipError, resizeMatrix, type Architecture, type AttentionDescription, type NamedTensors, type ResBlockDescription } from '@levelskip/core';
import { float, type GraphBuilder } from './graph-builder.js';

/** A value in the graph with the NCHW channel count and spatial size it carries. */
export interface FeatureValue {
  readonly value: string;
  readonly channels: number;
  readonly size: number;
}

/** Builds U-Net blocks into one graph; weights become initializers once per graph, on first use. */
export class UNetParts {
  readonly #weights = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    readonly arch: Architecture,
    readonly weights: NamedTensors,
  ) {}

  #tensor(name: string): { readonly shape: readonly number[]; readonly data: Float32Array } {
    const t = this.weights.get(name);
    if (t === undefined) throw new LevelskipError('WEIGHTS_MISMATCH', `weight "${name}" is missing; pass every tensor parameterLayout(spec) lists`);
    return t;
  }

  /** The initializer of weight `name`, optionally viewed with other dims (same data order). */
  weight(name: string, dims?: readonly number[]): string {
    const key = `${name}|${dims?.join('x') ?? ''}`;
    let value = this.#weights.get(key);
    if (value === undefined) {
      const t = this.#tensor(name);
      value = this.g.initializer(name.replace(/[^A-Za-z0-9_]/g, '_'), t.data, dims ?? t.shape);
      this.#weights.set(key, value);
    }
    return value;
  }

  /** A [out, in] linear weight transposed to [in, out] (for MatMul on token rows). */
  weightTransposed(name: string): string {
    const key = `${name}|T`;
    let value = this.#weights.get(key);
    if (value === undefined) {
      const t = this.#tensor(name);
      const [rows, cols] = t.shape as [number, number];
      const out = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
      value = this.g.initializer(`${name.replace(/[^A-Za-z0-9_]/g, '_')}_T`, out, [cols, rows]);
      this.#weights.set(key, value);
    }
    return value;
  }

  /** Convolution with PyTorch weights; `pads` = [top, left, bottom, right]. */
  conv(prefix: string, x: string, options: { readonly pads?: readonly number[]; readonly stride?: number } = {}): string {
    const w = this.#tensor(`${prefix}.weight`);
    const kernel = w.shape[2]!;
    const p = (kernel - 1) / 2;
    const stride = options.stride ?? 1;
    return this.g.op('Conv', [x, this.weight(`${prefix}.weight`), this.weight(`${prefix}.bias`)], {
      kernel_shape: [kernel, kernel],
      pads: options.pads ?? [p, p, p, p],
      strides: [stride, stride],
    });
  }

  silu(x: string): string {
    return this.g.op('Mul', [x, this.g.op('Sigmoid', [x])], {}, 'silu');
  }

  /** GroupNorm(spec.groups) with affine `prefix.weight/bias` on an NCHW value of `channels` channels. */
  groupNorm(prefix: string, x: string, channels: number): string {
    const { g } = this;
    const G = this.arch.spec.groups;
    const grouped = g.op('Reshape', [x, g.constInts([0, G, -1])]);
    const ones = g.constFloat(new Array<number>(G).fill(1));
    const zeros = g.constFloat(new Array<number>(G).fill(0));
    const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: float(this.arch.spec.normEps) });
    const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
    const scaled = g.op('Mul', [back, this.weight(`${prefix}.weight`, [channels, 1, 1])]);
    return g.op('Add', [scaled, this.weight(`${prefix}.bias`, [channels, 1, 1])], {}, 'gn');
  }

  /** y = x Wᵀ + b on a [B, in] value. */
  linear(prefix: string, x: string): string {
    return this.g.op('Gemm', [x, this.weight(`${prefix}.weight`), this.weight(`${prefix}.bias`)], { transB: 1 });
  }

  /** y = x Wᵀ + b on a [B, tokens, in] value. */
  tokenLinear(prefix: string, x: string): string {
    return this.g.op('Add', [this.g.op('MatMul', [x, this.weightTransposed(`${prefix}.weight`)]), this.weight(`${prefix}.bias`)]);
  }

  scale(x: string, factor: number): string {
    return factor === 1 ? x : this.g.op('Mul', [x, this.g.constFloat(factor)]);
  }

  /** y + a·d. */
  axpy(y: string, a: number, d: string): string {
    return this.g.op('Add', [y, this.scale(d, a)]);
  }

  /** Sinusoidal embedding of float timesteps `t` [B] → MLP: [B, timeEmbedDim]. */
  timeEmbedding(t: string): string {
    const { g } = this;
    const { spec } = this.arch;
    const half = this.arch.timeEmbedding.inChannels / 2;
    const freqs = new Float64Array(half);
    for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / (half - spec.freqShift));
    const t64 = g.op('Cast', [t], { to: 11 /* DOUBLE */ });
    const column = g.op('Unsqueeze', [t64, g.constInts([1])]);
    const phase = g.op('Mul', [column, g.initializer('time_freqs', freqs, [1, half])]);
    const sin = g.op('Sin', [phase]);
    const cos = g.op('Cos', [phase]);
    const emb64 = g.op('Concat', spec.flipSinToCos ? [cos, sin] : [sin, cos], { axis: 1 });
    const emb = g.op('Cast', [emb64], { to: 1 /* FLOAT */ }, 'sinusoid');
    const hidden = this.silu(this.linear('time_embedding.linear_1', emb));
    return g.op('Identity', [this.linear('time_embedding.linear_2', hidden)], {}, 'temb');
  }

  /** Per-block time projection time_emb_proj(SiLU(temb)) as [B, C, 1, 1]. */
  #timeProjection(prefix: string, temb: string): string {
    const e = this.linear(`${prefix}.time_emb_proj`, this.silu(temb));
    return this.g.op('Unsqueeze', [e, this.g.constInts([2, 3])]);
  }

  /** conv2(SiLU(norm2(conv1(SiLU(norm1(x))) + e))): the body both block kinds share. */
  #body(b: ResBlockDescription, x: string, xChannels: number, e: string): string {
    const h = this.conv(`${b.prefix}.conv1`, this.silu(this.groupNorm(`${b.prefix}.norm1`, x, xChannels)));
    const withTime = this.g.op('Add', [h, e]);
    // Dropout sits before conv2 and is the identity at inference.
    return this.conv(`${b.prefix}.conv2`, this.silu(this.groupNorm(`${b.prefix}.norm2`, withTime, b.outChannels)));
  }

  /** A ResNet or ode2 block. */
  resBlock(b: ResBlockDescription, x: string, temb: string): string {
    const e = this.#timeProjection(b.prefix, temb);
    if (b.kind === 'resnet') {
      const shortcut = b.hasShortcut ? this.conv(`${b.prefix}.conv_shortcut`, x) : x;
      return this.g.op('Add', [shortcut, this.#body(b, x, b.inChannels, e)], {}, 'res');
    }
    return this.#ode2Block(b, x, e);
  }

  /**
   * ode2: h'' = f(h, h') with f(h, v) = body(h) − v on s ∈ [0, 1], h(0) = shortcut(x), v(0) = 0,
   * integrated as the first-order system (h, v)' = (v, f(h, v)). `undefined` stands for the
   * initial zero velocity, so no zero tensor (of dynamic batch) is needed.
   */
  #ode2Block(b: ResBlockDescription, x: string, e: string): string {
    const { g } = this;
    const C = b.outChannels;
    type V = string | undefined;
    const field = (h: string, v: V): string => {
      const body = this.#body(b, h, C, e);
      return v === undefined ? body : g.op('Sub', [body, v]);
    };
    const axpy = (y: V, a: number, d: V): V => (d === undefined ? y : y === undefined ? this.scale(d, a) : this.axpy(y, a, d));
    let h = b.hasShortcut ? this.conv(`${b.prefix}.conv_shortcut`, x) : x;
    let v: V = undefined;
    const { steps, solver } = this.arch.spec.ode;
    const dt = 1 / steps;
    for (let step = 0; step < steps; step++) {
      if (solver === 'euler') {
        const a = field(h, v);
        h = axpy(h, dt, v)!;
        v = axpy(v, dt, a);
      } else {
        const k1h = v;
        const k1v = field(h, v);
        const k2h = axpy(v, dt / 2, k1v)!;
        const k2v = field(axpy(h, dt / 2, k1h)!, k2h);
        const k3h = axpy(v, dt / 2, k2v)!;
        const k3v = field(axpy(h, dt / 2, k2h)!, k3h);
        const k4h = axpy(v, dt, k3v)!;
        const k4v = field(axpy(h, dt, k3h)!, k4h);
        const combine = (y: V, k1: V, k2: string, k3: string, k4: string): string => {
          let sum = g.op('Add', [g.op('Add', [k2, k3]), g.op('Add', [k2, k3])]);
          sum = g.op('Add', [sum, k4]);
          if (k1 !== undefined) sum = g.op('Add', [sum, k1]);
          return axpy(y, dt / 6, sum)!;
        };
        [h, v] = [combine(h, k1h, k2h, k3h, k4h), combine(v, k1v, k2v, k3v, k4v)];
      }
    }
    return h;
  }

  /** diffusers Attention (group norm, multi-head, residual) on an NCHW value of `size`². */
  attention(a: AttentionDescription, x: string, size: number): string {
    const { g } = this;
    const C = a.channels;
    const H = a.heads;
    const d = C / H;
    const T = size * size;
    const normed = this.groupNorm(`${a.prefix}.group_norm`, x, C);
    const tokens = g.op('Transpose', [g.op('Reshape', [normed, g.constInts([0, C, T])])], { perm: [0, 2, 1] });
    const heads = (value: string, perm: readonly number[]): string =>
      g.op('Transpose', [g.op('Reshape', [value, g.constInts([0, T, H, d])])], { perm });
    const q = heads(this.tokenLinear(`${a.prefix}.to_q`, tokens), [0, 2, 1, 3]);
    const kT = heads(this.tokenLinear(`${a.prefix}.to_k`, tokens), [0, 2, 3, 1]);
    const v = heads(this.tokenLinear(`${a.prefix}.to_v`, tokens), [0, 2, 1, 3]);
    const scores = this.scale(g.op('MatMul', [q, kT]), 1 / Math.sqrt(d));
    const weights = g.op('Softmax', [scores], { axis: -1 });
    const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [weights, v])], { perm: [0, 2, 1, 3] }), g.constInts([0, T, C])]);
    const out = this.tokenLinear(`${a.prefix}.to_out.0`, merged);
    const image = g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1] }), g.constInts([0, C, size, size])]);
    return g.op('Add', [image, x], {}, 'attn');
  }

  inputConv(x: string): FeatureValue {
    return { value: this.conv('conv_in', x), channels: this.arch.channels[0]!, size: this.arch.sizes[0]! };
  }

  encoderBlock(level: number, index: number, h: string, temb: string): FeatureValue {
    const l = this.arch.encoder[level]!;
    let out = this.resBlock(l.blocks[index]!, h, temb);
    const a = l.attentions[index];
    if (a) out = this.attention(a, out, l.size);
    return { value: out, channels: l.channels, size: l.size };
  }

  downsample(level: number, h: string): FeatureValue {
    const l = this.arch.encoder[level]!;
    const d = l.downsample!;
    // downsamplePadding 0 is DDPM's F.pad(x, (0, 1, 0, 1)) then an unpadded conv: ONNX pads are [top, left, bottom, right].
    const pads = this.arch.spec.downsamplePadding === 1 ? [1, 1, 1, 1] : [0, 0, 1, 1];
    return { value: this.conv(d.prefix, h, { pads, stride: 2 }), channels: l.channels, size: this.arch.sizes[level + 1]! };
  }

  middle(h: string, temb: string): FeatureValue {
    const m = this.arch.middle;
    let out = this.resBlock(m.blocks[0], h, temb);
    if (m.attention) out = this.attention(m.attention, out, m.size);
    out = this.resBlock(m.blocks[1], out, temb);
    return { value: out, channels: m.channels, size: m.size };
  }

  decoderBlock(stage: number, level: number, index: number, h: string, temb: string): FeatureValue {
    const l = this.arch.decoders[stage]!.levels[level]!;
    let out = this.resBlock(l.blocks[index]!, h, temb);
    const a = l.attentions[index];
    if (a) out = this.attention(a, out, l.size);
    return { value: out, channels: l.channels, size: l.size };
  }

  upsample(stage: number, level: number, h: string): FeatureValue {
    const l = this.arch.decoders[stage]!.levels[level]!;
    const up = this.nearestUpsample2x(h);
    return { value: this.conv(l.upsample!.prefix, up), channels: l.channels, size: this.arch.sizes[level - 1]! };
  }

  output(stage: number, h: string): string {
    const d = this.arch.decoders[stage]!;
    return this.conv(d.convOut.prefix, this.silu(this.groupNorm(d.normOut.prefix, h, d.normOut.channels)));
  }

  /** PyTorch `F.interpolate(scale_factor=2, mode='nearest')`: src = ⌊dst / 2⌋. */
  nearestUpsample2x(x: string): string {
    return this.g.op('Resize', [x, '', this.g.constFloat([1, 1, 2, 2])], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }

  /**
   * PyTorch bicubic resize (align_corners False, no antialias) of a `from`² map to `to`². The
   * resize is separable and linear, so it is R · X · Rᵀ per channel with R the [to, from] matrix
   * of core's bicubic taps (`resizeMatrix`, the taps of the reference): two MatMuls. That equals
   * Resize(cubic, a = −0.75, half_pixel, exclude_outside 0) but runs far faster in onnxruntime's
   * CPU provider, whose cubic Resize made the interpolate fill at k = 3 cost twice the full
   * network (mnistSmall, batch 16, k = 3: 259 ms with Resize, 48 ms with the MatMuls; the full
   * network 119 ms; `pnpm bench speed --quick --fills zero,interpolate --parts predict`).
   */
  bicubic(x: string, from: number, to: number): string {
    if (from === to) return x;
    const r = resizeMatrix(from, to, 'bicubic'); // [to, from], row-major
    const rT = new Array<number>(from * to);
    for (let i = 0; i < to; i++) for (let j = 0; j < from; j++) rT[j * to + i] = r[i * from + j]!;
    const columns = this.g.op('MatMul', [x, this.g.constFloat(rT, [from, to])]); // [B, C, from, to]
    return this.g.op('MatMul', [this.g.constFloat(Array.from(r), [to, from]), columns]); // [B, C, to, to]
  }

  sideEncoder(level: number, skip: FeatureValue): FeatureValue {
    const m = this.arch.middle;
    const resized = this.bicubic(skip.value, skip.size, m.size);
    return { value: this.conv(this.arch.sideEncoder[level]!.projection.prefix, resized), channels: m.channels, size: m.size };
  }

  sideDecoder(stage: number, level: number, middle: FeatureValue): FeatureValue {
    const size = this.arch.sizes[level]!;
    const side = this.arch.decoders[stage]!.sideDecoder[level]!;
    const resized = this.bicubic(middle.value, middle.size, size);
    return { value: this.conv(side.projection.prefix, resized), channels: side.projection.outChannels, size };
  }

  /**
   * Zeros [B, channels, size, size], with B taken from `like`: a scalar 0 broadcast by Expand.
   * Not ConstantOfShape: onnxruntime's WebGPU provider has no kernel for it, so it ran on the CPU
   * and every call copied the zeros to the GPU (mnistSmall on an H200, batch 256: k = 3 took 57 ms
   * against 27 ms at full depth; `node scripts/dev/gpu-check.mjs ort --providers webgpu`).
   */
  zeros(like: string, channels: number, size: number): string {
    const { g } = this;
    const batch = g.op('Shape', [like], { start: 0, end: 1 });
    const shape = g.op('Concat', [batch, g.constInts([channels, size, size])], { axis: 0 });
    return g.op('Expand', [g.constFloat([0], [1, 1, 1, 1]), shape], {}, 'zero_fill');
  }

  /** The duplicate fill: channel c of the result is channel c mod C_skip of `skip`. */
  duplicate(skip: FeatureValue, channels: number): string {
    const { g } = this;
    const c = skip.channels;
    if (channels === c) return skip.value;
    const copies = Math.ceil(channels / c);
    const tiled = copies === 1 ? skip.value : g.op('Concat', new Array<string>(copies).fill(skip.value), { axis: 1 });
    if (copies * c === channels) return tiled;
    return g.op('Slice', [tiled, g.constInts([0]), g.constInts([channels]), g.constInts([1])], {}, 'duplicate_fill');
  }
}
