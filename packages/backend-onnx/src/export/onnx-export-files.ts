/**
 * `exportOnnxFiles`: a model's fused per-depth ONNX graphs and a `manifest.json` that says which
 * file is which (stage, k, fill, input and output names and shapes), as bytes, so any ONNX runtime
 * can run a level-skipping sampler without levelskip. Runs anywhere (no file system): a web page
 * can zip or download the files; in Node.js, `exportOnnx` writes them to a directory.
 */
import {
  LevelskipError,
  assertFillSupported,
  builtinFills,
  describeArchitecture,
  exportableFillKinds,
  parseFill,
  parseUNetSpec,
  validateWeights,
  type Architecture,
  type GraphFusableFillKind,
  type NamedTensors,
  type UNetSpec,
  type UNetSpecInput,
} from '@levelskip/core';
import { onnxIrVersion, onnxOpset } from '../graph/graph-builder.js';
import { buildUNetGraph, type GraphValue } from '../graph/unet-graphs.js';

/** A fill an export can hold: every graph-fusable fill of core's fill registry (`exportableFillKinds`). */
export type ExportFill = GraphFusableFillKind;

/**
 * The fills an export holds when `fills` is not given: those of core's fill registry exported by
 * default (zero, duplicate and interpolate; `mean` is opt-in) that the model supports.
 */
export function defaultExportFills(spec: UNetSpec): ExportFill[] {
  return builtinFills
    .filter((d) => d.graphFusable && d.exportedByDefault && d.supports(spec) === undefined)
    .map((d) => d.kind as ExportFill);
}

export interface ExportOnnxOptions {
  /** Depths to export (default every k = 0..N-1). */
  readonly ks?: readonly number[];
  /** Fills to fuse for k > 0, from `exportableFillKinds` (default `defaultExportFills(spec)`: zero and duplicate, plus interpolate when the model has side paths). */
  readonly fills?: readonly ExportFill[];
  /** Decoder stages (default all). */
  readonly stages?: readonly number[];
}

export interface ExportedGraph {
  /** File name inside the export directory. */
  readonly file: string;
  readonly stage: number;
  readonly k: number;
  /** `full` at k = 0 (nothing is skipped). */
  readonly fill: ExportFill | 'full';
  /** Inputs `x` [batch, C, H, W] and `t` [batch] (float diffusion timesteps), float32. */
  readonly inputs: readonly GraphValue[];
  /** Output `eps` [batch, C_out, H, W], float32. */
  readonly outputs: readonly GraphValue[];
}

export interface OnnxExportManifest {
  readonly format: 'levelskip-onnx';
  readonly formatVersion: 1;
  readonly opset: number;
  readonly irVersion: number;
  /** The parsed spec (every default filled in). */
  readonly spec: UNetSpec;
  readonly graphs: readonly ExportedGraph[];
  readonly createdAt: string;
}

/** One file of an export: a graph (`stage{s}-k{k}-{fill}.onnx`) or, last, `manifest.json`. */
export type OnnxExportFile =
  | { readonly kind: 'graph'; readonly name: string; readonly bytes: Uint8Array; readonly graph: ExportedGraph }
  | { readonly kind: 'manifest'; readonly name: 'manifest.json'; readonly bytes: Uint8Array; readonly manifest: OnnxExportManifest };

function checkList(values: readonly number[], max: number, what: string): void {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new LevelskipError('INVALID_OPTION', `${what} must be integers in [0, ${max}], got ${v}`);
  }
}

function* files(spec: UNetSpec, arch: Architecture, weights: NamedTensors, plan: { ks: readonly number[]; fills: readonly ExportFill[]; stages: readonly number[] }): Generator<OnnxExportFile> {
  const graphs: ExportedGraph[] = [];
  for (const stage of plan.stages) {
    for (const k of plan.ks) {
      for (const fill of k === 0 ? (['full'] as const) : plan.fills) {
        const built = buildUNetGraph(arch, weights, { kind: 'fused', stage, k, fill: fill === 'full' ? 'none' : fill, cacheOutputs: false });
        const graph: ExportedGraph = { file: `${built.key}.onnx`, stage, k, fill, inputs: built.inputs, outputs: built.outputs };
        graphs.push(graph);
        yield { kind: 'graph', name: graph.file, bytes: built.bytes, graph };
      }
    }
  }
  const manifest: OnnxExportManifest = {
    format: 'levelskip-onnx',
    formatVersion: 1,
    opset: onnxOpset,
    irVersion: onnxIrVersion,
    spec,
    graphs,
    createdAt: new Date().toISOString(),
  };
  yield { kind: 'manifest', name: 'manifest.json', bytes: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`), manifest };
}

/**
 * The export of `spec` with `weights`: every fused graph, then `manifest.json`. Arguments are
 * checked on the call; each graph is built when iteration reaches it, so a large model holds one
 * graph's bytes at a time (iterate once).
 *
 * @throws LevelskipError `WEIGHTS_MISMATCH`, `INVALID_OPTION` or `INVALID_FILL`.
 *
 * @example
 * for (const file of exportOnnxFiles(spec, weights, { ks: [0, 2] })) zip.file(file.name, file.bytes);
 */
export function exportOnnxFiles(specInput: UNetSpec | UNetSpecInput, weights: NamedTensors, options: ExportOnnxOptions = {}): Iterable<OnnxExportFile> {
  const spec = parseUNetSpec(specInput);
  validateWeights(spec, weights);
  const arch = describeArchitecture(spec);
  const ks = options.ks ?? Array.from({ length: arch.levels }, (_, k) => k);
  const stages = options.stages ?? arch.decoders.map((_, s) => s);
  const fills = options.fills ?? defaultExportFills(spec);
  checkList(ks, arch.levels - 1, 'ks');
  checkList(stages, arch.decoders.length - 1, 'stages');
  for (const fill of fills) {
    if (!(exportableFillKinds as readonly unknown[]).includes(fill)) {
      throw new LevelskipError('INVALID_FILL', `exportOnnx fuses the fills ${exportableFillKinds.join(', ')}, got "${String(fill)}"`, {
        issues: [{ path: ['fills'], message: `must list fills from ${exportableFillKinds.join(', ')}` }],
      });
    }
    assertFillSupported(spec, parseFill(fill));
  }
  return files(spec, arch, weights, { ks, fills, stages });
}
