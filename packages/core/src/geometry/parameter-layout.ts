/**
 * The canonical weight list of a spec: every tensor's name (diffusers `UNet2DModel` naming),
 * PyTorch shape (OIHW convs, [out, in] linears) and the part of the network it belongs to.
 */
import type { Architecture, AttentionDescription, ConvDescription, ResBlockDescription } from './architecture.js';
import { describeArchitecture } from './architecture.js';
import type { UNetSpec } from '../spec/unet-spec.js';

/** Which part of the U-Net a tensor belongs to; decides whether it is used at a given k. */
export type NetworkPart =
  | { readonly kind: 'time' }
  | { readonly kind: 'input' }
  | { readonly kind: 'encoder'; readonly level: number }
  | { readonly kind: 'downsample'; readonly level: number }
  | { readonly kind: 'middle' }
  | { readonly kind: 'decoder'; readonly level: number; readonly stage: number }
  | { readonly kind: 'upsample'; readonly level: number; readonly stage: number }
  | { readonly kind: 'output'; readonly stage: number }
  | { readonly kind: 'side-encoder'; readonly level: number }
  | { readonly kind: 'side-decoder'; readonly level: number; readonly stage: number };

export interface ParameterEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly part: NetworkPart;
  /** How random initialisation treats it: conv/linear kernels get fan-in scaling, norms scale 1, biases 0. */
  readonly role: 'kernel' | 'bias' | 'norm-scale' | 'norm-shift';
}

function conv(out: ParameterEntry[], c: ConvDescription, part: NetworkPart): void {
  out.push({ name: `${c.prefix}.weight`, shape: [c.outChannels, c.inChannels, c.kernel, c.kernel], part, role: 'kernel' });
  out.push({ name: `${c.prefix}.bias`, shape: [c.outChannels], part, role: 'bias' });
}

function linear(out: ParameterEntry[], prefix: string, inFeatures: number, outFeatures: number, part: NetworkPart): void {
  out.push({ name: `${prefix}.weight`, shape: [outFeatures, inFeatures], part, role: 'kernel' });
  out.push({ name: `${prefix}.bias`, shape: [outFeatures], part, role: 'bias' });
}

function norm(out: ParameterEntry[], prefix: string, channels: number, part: NetworkPart): void {
  out.push({ name: `${prefix}.weight`, shape: [channels], part, role: 'norm-scale' });
  out.push({ name: `${prefix}.bias`, shape: [channels], part, role: 'norm-shift' });
}

/**
 * Tensors of one res block. A `resnet` block (diffusers ResnetBlock2D) is
 * norm1 → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → norm2 → SiLU → dropout → conv2, plus shortcut.
 * An `ode2` block has the same tensors: conv_shortcut projects the input to the initial state h(0),
 * and norm1/conv1/time_emb_proj/norm2/conv2 form the vector field f_θ (see the ode2 block's docs).
 */
function resBlock(out: ParameterEntry[], b: ResBlockDescription, temb: number, part: NetworkPart): void {
  const convIn = b.kind === 'resnet' ? b.inChannels : b.outChannels;
  norm(out, `${b.prefix}.norm1`, convIn, part);
  conv(out, { prefix: `${b.prefix}.conv1`, inChannels: convIn, outChannels: b.outChannels, kernel: 3 }, part);
  linear(out, `${b.prefix}.time_emb_proj`, temb, b.outChannels, part);
  norm(out, `${b.prefix}.norm2`, b.outChannels, part);
  conv(out, { prefix: `${b.prefix}.conv2`, inChannels: b.outChannels, outChannels: b.outChannels, kernel: 3 }, part);
  if (b.hasShortcut) conv(out, { prefix: `${b.prefix}.conv_shortcut`, inChannels: b.inChannels, outChannels: b.outChannels, kernel: 1 }, part);
}

function attention(out: ParameterEntry[], a: AttentionDescription, part: NetworkPart): void {
  norm(out, `${a.prefix}.group_norm`, a.channels, part);
  for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(out, `${a.prefix}.${p}`, a.channels, a.channels, part);
}

/** Every tensor of the model, in a stable order (diffusers' module order). */
export function parameterLayout(specOrArchitecture: UNetSpec | Architecture): readonly ParameterEntry[] {
  const arch = 'encoder' in specOrArchitecture ? specOrArchitecture : describeArchitecture(specOrArchitecture);
  const temb = arch.timeEmbedding.dim;
  const out: ParameterEntry[] = [];
  linear(out, 'time_embedding.linear_1', arch.timeEmbedding.inChannels, temb, { kind: 'time' });
  linear(out, 'time_embedding.linear_2', temb, temb, { kind: 'time' });
  conv(out, arch.convIn, { kind: 'input' });
  for (const level of arch.encoder) {
    const part: NetworkPart = { kind: 'encoder', level: level.level };
    level.blocks.forEach((b, j) => {
      resBlock(out, b, temb, part);
      const a = level.attentions[j];
      if (a) attention(out, a, part);
    });
    if (level.downsample) conv(out, level.downsample, { kind: 'downsample', level: level.level });
  }
  const mid: NetworkPart = { kind: 'middle' };
  resBlock(out, arch.middle.blocks[0], temb, mid);
  if (arch.middle.attention) attention(out, arch.middle.attention, mid);
  resBlock(out, arch.middle.blocks[1], temb, mid);
  for (const decoder of arch.decoders) {
    for (let l = arch.levels - 1; l >= 0; l--) {
      const level = decoder.levels[l]!;
      const part: NetworkPart = { kind: 'decoder', level: l, stage: decoder.stage };
      level.blocks.forEach((b, j) => {
        resBlock(out, b, temb, part);
        const a = level.attentions[j];
        if (a) attention(out, a, part);
      });
      if (level.upsample) conv(out, level.upsample, { kind: 'upsample', level: l, stage: decoder.stage });
    }
    const output: NetworkPart = { kind: 'output', stage: decoder.stage };
    norm(out, decoder.normOut.prefix, decoder.normOut.channels, output);
    conv(out, decoder.convOut, output);
    for (const side of decoder.sideDecoder) conv(out, side.projection, { kind: 'side-decoder', level: side.level, stage: decoder.stage });
  }
  for (const side of arch.sideEncoder) conv(out, side.projection, { kind: 'side-encoder', level: side.level });
  return out;
}

/** Total number of scalar parameters. */
export function parameterCount(specOrArchitecture: UNetSpec | Architecture): number {
  let n = 0;
  for (const entry of parameterLayout(specOrArchitecture)) n += entry.shape.reduce((a, b) => a * b, 1);
  return n;
}
