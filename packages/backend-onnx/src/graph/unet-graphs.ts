/**
 * Whole ONNX graphs of a level-skipping U-Net, one per (decoder stage, depth k, fill), traced from
 * core's composition: core's `planSkip` says what runs (with L = N − 1 − k, encoder levels 0..L,
 * level L without its downsample, the middle block only at k = 0, decoder level L's first block on
 * concat(fill, skip)), and core's phases `encodeToCut` / `deepFeatures` / `decodeFromCut` run it
 * over graph-building blocks (`graph-blocks.ts`), so the graphs follow `runLevelSkippingUNet` by
 * construction.
 *
 * - `fused`: x [B,C,H,W], t [B] → eps, the fill built in (every graph-fusable fill of core's fill
 *   registry, through its emitter in `fill-emitters.ts`) or taken as an extra input `fill` (the
 *   cache fill's stored features). One `session.run` per step.
 * - `head` (encoder to the cut) and `tail` (decoder from the cut, the fill an input): custom fills
 *   run between them over `TensorOps`, on the head's skip tensors.
 * With `cacheOutputs`, a graph also returns decoder level l's input after each upsample
 * (`cache_l`, l = L−1..0): the features core's composition stores in a `FeatureCache`.
 */
import {
  LevelskipError,
  decodeFromCut,
  deepFeatures,
  describeArchitecture,
  encodeToCut,
  planSkip,
  type Architecture,
  type FeatureShape,
  type GraphFusableFillKind,
  type NamedTensors,
  type UNetSpec,
} from '@levelskip/core';
import { fillEmitters } from './fill-emitters.js';
import { graphBlocks, graphOps, timeEmbeddingValue } from './graph-blocks.js';
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

/**
 * Shape of the fill at depth k ≥ 1: channels of decoder level L+1, size of level L (core's
 * `planSkip(...).fillSite`).
 *
 * @throws LevelskipError `INVALID_OPTION` at k = 0 (nothing is skipped, there is no fill).
 */
export function fillShape(arch: Architecture, stage: number, k: number): { channels: number; size: number } {
  const site = planSkip(arch, { stage, k }).fillSite;
  if (site === undefined) throw new LevelskipError('INVALID_OPTION', `fillShape: k must be ≥ 1 (at k = 0 nothing is skipped and there is no fill), got ${k}`);
  return { channels: site.channels, size: site.size };
}

/** Channels and sizes of the skip stack at cut level `cut`, in push order (conv_in's output first): core's `planSkip(...).skipShapes`. */
export function skipStackShapes(arch: Architecture, cut: number): { channels: number; size: number }[] {
  return planSkip(arch, { stage: 0, k: arch.levels - 1 - cut }).skipShapes.map((s) => ({ channels: s.channels, size: s.size }));
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
  const { k } = variant;
  if (variant.kind === 'fused' && variant.fill === 'none' && k > 0) throw new Error(`graph ${key}: a fill is needed at k = ${k}`);
  if (variant.kind === 'tail' && k === 0) throw new Error(`graph ${key}: a tail graph starts at a fill, so k must be ≥ 1`);
  // The plan core's composition runs; fused graphs name their fill, head and tail graphs take it from outside.
  const fusedFill = variant.kind === 'fused' && variant.fill !== 'none' && variant.fill !== 'input' ? variant.fill : undefined;
  const plan = planSkip(arch, { stage: variant.kind === 'head' ? 0 : variant.stage, k, ...(fusedFill === undefined ? {} : { fill: { kind: fusedFill } }) });
  const blocks = graphBlocks(p);
  const ops = graphOps(p);
  const declareInput = (name: string, dims: readonly Dimension[]): string => {
    inputs.push({ name, dims });
    return g.input(name, 'float32', dims);
  };
  const declareOutput = (value: string, name: string, dims: readonly Dimension[]): void => {
    outputs.push({ name, dims });
    g.output(value, name, 'float32', dims);
  };
  const cached: { value: FeatureValue; level: number }[] = [];
  const onCacheFeatures = variant.kind !== 'head' && variant.cacheOutputs ? (level: number, value: FeatureValue) => void cached.push({ value, level }) : undefined;
  const finish = (eps: FeatureValue): void => {
    declareOutput(eps.value, 'eps', [B, spec.outChannels, spec.imageSize, spec.imageSize]);
    for (const c of cached) {
      const name = `cache_${c.level}`;
      declareOutput(c.value.value, name, imageDims(c.value));
      cacheLevels.push({ output: name, level: c.level });
    }
  };
  const tembDims: Dimension[] = [B, arch.timeEmbedding.dim];
  const fillInput = (site: FeatureShape): FeatureValue => ({ channels: site.channels, size: site.size, value: declareInput('fill', imageDims(site)) });

  if (variant.kind === 'tail') {
    const temb = timeEmbeddingValue(p, declareInput('temb', tembDims));
    const skips = plan.skipShapes.map((s, i): FeatureValue => ({ channels: s.channels, size: s.size, value: declareInput(`skip_${i}`, imageDims(s)) }));
    const deep = deepFeatures(plan, blocks, skips, temb, fillInput);
    finish(decodeFromCut(plan, blocks, ops, deep, skips, temb, onCacheFeatures));
  } else {
    const x = declareInput('x', [B, spec.inChannels, spec.imageSize, spec.imageSize]);
    const t = declareInput('t', [B]);
    const temb = timeEmbeddingValue(p, p.timeEmbedding(t));
    const skips = encodeToCut(plan, blocks, { value: x, channels: spec.inChannels, size: spec.imageSize }, temb);
    if (variant.kind === 'head') {
      declareOutput(temb.value, 'temb', tembDims);
      skips.forEach((s, i) => declareOutput(s.value, `skip_${i}`, imageDims(s)));
    } else {
      const { stage } = variant;
      const deep = deepFeatures(plan, blocks, skips, temb, (site) => {
        if (fusedFill === undefined) return fillInput(site);
        const shape = { channels: site.channels, size: site.size };
        return fillEmitters[fusedFill](p, { x, skip: skips[skips.length - 1]!, shape, stage, cut: site.level });
      });
      finish(decodeFromCut(plan, blocks, ops, deep, skips, temb, onCacheFeatures));
    }
  }
  return { variant, key, builder: g, docString: `levelskip U-Net graph ${key}`, inputs, outputs, cacheLevels };
}
