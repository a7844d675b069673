/**
 * Whole ONNX graphs of a level-skipping U-Net, one per (decoder stage, depth k, fill), following
 * core's `runLevelSkippingUNet` exactly: with L = N − 1 − k, encoder levels 0..L run (level L
 * without its downsample), the middle block only at k = 0, and decoder level L's first block
 * takes concat(fill, skip).
 *
 * - `fused`: x [B,C,H,W], t [B] → eps, the fill built in (every graph-fusable fill of core's fill
 *   registry, through its emitter in `fill-emitters.ts`) or taken as an extra input `fill` (the
 *   cache fill's stored features). One `session.run` per step.
 * - `head` (encoder to the cut) and `tail` (decoder from the cut, the fill an input): custom fills
 *   run between them over `TensorOps`, on the head's skip tensors.
 * With `cacheOutputs`, a graph also returns decoder level l's input after each upsample
 * (`cache_l`, l = L−1..0): the features core's composition stores in a `FeatureCache`.
 */
import { describeArchitecture, type Architecture, type GraphFusableFillKind, type NamedTensors, type UNetSpec } from '@levelskip/core';
import { fillEmitters } from './fill-emitters.js';
import { GraphBuilder, type Dimension } from './graph-builder.js';
import { UNetParts, type FeatureValue } from './unet-parts.js';

/**
 * How a fused graph produces the fill: a graph-fusable built-in fill, `none` at k = 0 (nothing is
 * skipped), or `input` (taken as the graph input `fill`).
 */
export type GraphFill = 'none' | GraphFusableFillKind | 'input';

export type GraphVariant =
  | { readonly kind: 'fused'; readonly stage: number; readonly k: number; readonly fill: GraphFill; readonly cacheOutputs: boolean }
  | { readonly kind: 'head'; readonly k: number }
  | { readonly kind: 'tail'; readonly stage: number; readonly k: number; readonly cacheOutputs: boolean };

/** A graph input or output: name, float32, NCHW (or [B], [B, D]) dims with a symbolic batch. */
export interface GraphValue {
  readonly name: string;
  readonly dims: readonly Dimension[];
}

export interface UNetGraph {
  readonly variant: GraphVariant;
  /** Stable identifier, also the exported file's stem. */
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
  /** For `cacheOutputs` graphs: output name → decoder level whose input it is, in the order core stores them. */
  readonly cacheLevels: readonly { readonly output: string; readonly level: number }[];
}

const B = 'batch';

/** A variant's identifier, e.g. `stage0-k2-duplicate`, `head-k1`, `stage1-k1-tail+cache`. */
export function graphKey(variant: GraphVariant): string {
  const cache = variant.kind !== 'head' && variant.cacheOutputs ? '+cache' : '';
  switch (variant.kind) {
    case 'fused':
      return `stage${variant.stage}-k${variant.k}-${variant.k === 0 ? 'full' : variant.fill}${cache}`;
    case 'head':
      return `head-k${variant.k}`;
    case 'tail':
      return `stage${variant.stage}-k${variant.k}-tail${cache}`;
  }
}

function imageDims(f: { readonly channels: number; readonly size: number }): Dimension[] {
  return [B, f.channels, f.size, f.size];
}

/** Encoder levels 0..cut: returns the skip stack (push order) and the last features. */
function encode(p: UNetParts, x: string, temb: string, cut: number): FeatureValue[] {
  const skips: FeatureValue[] = [p.inputConv(x)];
  let h = skips[0]!;
  for (let l = 0; l <= cut; l++) {
    const level = p.arch.encoder[l]!;
    for (let j = 0; j < level.blocks.length; j++) {
      h = p.encoderBlock(l, j, h.value, temb);
      skips.push(h);
    }
    if (l < cut) {
      h = p.downsample(l, h.value);
      skips.push(h);
    }
  }
  return skips;
}

/** Decoder levels cut..0 and the output head; records decoder inputs after each upsample when asked. */
function decode(
  p: UNetParts,
  stage: number,
  cut: number,
  deep: FeatureValue,
  skips: readonly FeatureValue[],
  temb: string,
  cacheOutputs: boolean,
): { eps: string; cached: { value: FeatureValue; level: number }[] } {
  const decoder = p.arch.decoders[stage]!;
  const stack = [...skips];
  const cached: { value: FeatureValue; level: number }[] = [];
  let h = deep;
  for (let l = cut; l >= 0; l--) {
    const level = decoder.levels[l]!;
    for (let j = 0; j < level.blocks.length; j++) {
      const skip = stack.pop()!;
      const input = p.g.op('Concat', [h.value, skip.value], { axis: 1 });
      h = p.decoderBlock(stage, l, j, input, temb);
    }
    if (l > 0) {
      h = p.upsample(stage, l, h.value);
      if (cacheOutputs) cached.push({ value: h, level: l - 1 });
    }
  }
  return { eps: p.output(stage, h.value), cached };
}

/** Shape of the fill at depth k: channels of decoder level L+1, size of level L. */
export function fillShape(arch: Architecture, stage: number, k: number): { channels: number; size: number } {
  const cut = arch.levels - 1 - k;
  return { channels: arch.decoders[stage]!.levels[cut + 1]!.channels, size: arch.sizes[cut]! };
}

/** A graph traced into a builder but not yet encoded (the encoder tests compare encodings of it). */
export interface TracedUNetGraph extends Omit<UNetGraph, 'bytes'> {
  readonly builder: GraphBuilder;
  readonly docString: string;
}

/** Builds one graph of `spec` with `weights` (PyTorch layouts, as `parameterLayout(spec)` lists them). */
export function buildUNetGraph(specOrArch: UNetSpec | Architecture, weights: NamedTensors, variant: GraphVariant): UNetGraph {
  const { builder, docString, ...graph } = traceUNetGraph(specOrArch, weights, variant);
  return { ...graph, bytes: builder.encode(docString) };
}

/** `buildUNetGraph` without the encoding: the builder holding the graph's nodes and initializers. */
export function traceUNetGraph(specOrArch: UNetSpec | Architecture, weights: NamedTensors, variant: GraphVariant): TracedUNetGraph {
  const arch = 'encoder' in specOrArch ? specOrArch : describeArchitecture(specOrArch);
  const key = graphKey(variant);
  const g = new GraphBuilder(`levelskip-${key}`);
  const p = new UNetParts(g, arch, weights);
  const { spec } = arch;
  const inputs: GraphValue[] = [];
  const outputs: GraphValue[] = [];
  const cacheLevels: { output: string; level: number }[] = [];
  const k = variant.k;
  const cut = arch.levels - 1 - k;
  const declareInput = (name: string, dims: readonly Dimension[]): string => {
    inputs.push({ name, dims });
    return g.input(name, 'float32', dims);
  };
  const declareOutput = (value: string, name: string, dims: readonly Dimension[]): void => {
    outputs.push({ name, dims });
    g.output(value, name, 'float32', dims);
  };
  const finish = (eps: string, cached: readonly { value: FeatureValue; level: number }[]): void => {
    declareOutput(eps, 'eps', [B, spec.outChannels, spec.imageSize, spec.imageSize]);
    for (const c of cached) {
      const name = `cache_${c.level}`;
      declareOutput(c.value.value, name, imageDims(c.value));
      cacheLevels.push({ output: name, level: c.level });
    }
  };
  const tembDims: Dimension[] = [B, arch.timeEmbedding.dim];

  if (variant.kind === 'tail') {
    const temb = declareInput('temb', tembDims);
    const skipShapes = skipStackShapes(arch, cut);
    const skips = skipShapes.map((s, i) => ({ ...s, value: declareInput(`skip_${i}`, imageDims(s)) }));
    const shape = fillShape(arch, variant.stage, k);
    const fill = { ...shape, value: declareInput('fill', imageDims(shape)) };
    const { eps, cached } = decode(p, variant.stage, cut, fill, skips, temb, variant.cacheOutputs);
    finish(eps, cached);
  } else {
    const x = declareInput('x', [B, spec.inChannels, spec.imageSize, spec.imageSize]);
    const t = declareInput('t', [B]);
    const temb = p.timeEmbedding(t);
    const skips = encode(p, x, temb, cut);
    if (variant.kind === 'head') {
      declareOutput(temb, 'temb', tembDims);
      skips.forEach((s, i) => declareOutput(s.value, `skip_${i}`, imageDims(s)));
    } else {
      const { stage } = variant;
      let deep: FeatureValue;
      if (k === 0) {
        deep = p.middle(skips[skips.length - 1]!.value, temb);
      } else {
        const shape = fillShape(arch, stage, k);
        const skip = skips[skips.length - 1]!;
        if (variant.fill === 'input') deep = { ...shape, value: declareInput('fill', imageDims(shape)) };
        else if (variant.fill === 'none') throw new Error(`graph ${key}: a fill is needed at k = ${k}`);
        else deep = fillEmitters[variant.fill](p, { x, skip, shape, stage, cut });
      }
      const { eps, cached } = decode(p, stage, cut, deep, skips, temb, variant.cacheOutputs);
      finish(eps, cached);
    }
  }
  return { variant, key, builder: g, docString: `levelskip U-Net graph ${key}`, inputs, outputs, cacheLevels };
}

/** Channels and sizes of the skip stack at cut level `cut`, in push order (conv_in's output first). */
export function skipStackShapes(arch: Architecture, cut: number): { channels: number; size: number }[] {
  const out = [{ channels: arch.channels[0]!, size: arch.sizes[0]! }];
  for (let l = 0; l <= cut; l++) {
    const level = arch.encoder[l]!;
    for (let j = 0; j < level.blocks.length; j++) out.push({ channels: level.channels, size: level.size });
    if (l < cut) out.push({ channels: level.channels, size: arch.sizes[l + 1]! });
  }
  return out;
}
