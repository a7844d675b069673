/**
 * `exportOnnx`: writes a model's fused per-depth ONNX graphs and a `manifest.json` that says which
 * file is which (stage, k, fill, input and output names and shapes), so any ONNX runtime can run a
 * level-skipping sampler without levelskip. Each file is written atomically (temporary file in the
 * same directory, fsync, rename), graphs first and the manifest last, so a reader never finds a
 * manifest naming a graph that is not fully on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LevelskipError,
  assertFillSupported,
  describeArchitecture,
  parseUNetSpec,
  validateWeights,
  type NamedTensors,
  type UNetSpec,
  type UNetSpecInput,
} from '@levelskip/core';
import { onnxIrVersion, onnxOpset } from '../graph/graph-builder.js';
import { buildUNetGraph, type GraphValue } from '../graph/unet-graphs.js';

export type ExportFill = 'zero' | 'duplicate' | 'interpolate';

export interface ExportOnnxOptions {
  /** Depths to export (default every k = 0..N-1). */
  readonly ks?: readonly number[];
  /** Fills to fuse for k > 0 (default zero and duplicate, plus interpolate when the model has side paths). */
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

async function writeAtomic(dir: string, file: string, data: Uint8Array): Promise<void> {
  const target = join(dir, file);
  const temp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new LevelskipError('IO_ERROR', `could not write ${target}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function checkList(values: readonly number[], max: number, what: string): void {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new LevelskipError('INVALID_OPTION', `${what} must be integers in [0, ${max}], got ${v}`);
  }
}

/**
 * Writes the fused graphs of `spec` with `weights` to `dir` (created if missing) and `manifest.json`.
 * File names are `stage{s}-k{k}-{fill}.onnx` (`-full` at k = 0).
 *
 * @returns the manifest written.
 * @throws LevelskipError `WEIGHTS_MISMATCH`, `INVALID_OPTION`, `INVALID_FILL` or `IO_ERROR`.
 */
export async function exportOnnx(
  specInput: UNetSpec | UNetSpecInput,
  weights: NamedTensors,
  dir: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxExportManifest> {
  const spec = parseUNetSpec(specInput);
  validateWeights(spec, weights);
  const arch = describeArchitecture(spec);
  const ks = options.ks ?? Array.from({ length: arch.levels }, (_, k) => k);
  const stages = options.stages ?? arch.decoders.map((_, s) => s);
  const fills = options.fills ?? (spec.sidePaths ? ['zero', 'duplicate', 'interpolate'] : ['zero', 'duplicate']);
  checkList(ks, arch.levels - 1, 'ks');
  checkList(stages, arch.decoders.length - 1, 'stages');
  for (const fill of fills) {
    if (fill !== 'zero' && fill !== 'duplicate' && fill !== 'interpolate') {
      throw new LevelskipError('INVALID_FILL', `exportOnnx fuses the fills zero, duplicate and interpolate, got "${String(fill)}"`);
    }
    assertFillSupported(spec, { kind: fill });
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new LevelskipError('IO_ERROR', `could not create ${dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const graphs: ExportedGraph[] = [];
  for (const stage of stages) {
    for (const k of ks) {
      for (const fill of k === 0 ? (['full'] as const) : fills) {
        const graph = buildUNetGraph(arch, weights, { kind: 'fused', stage, k, fill: fill === 'full' ? 'none' : fill, cacheOutputs: false });
        const file = `${graph.key}.onnx`;
        await writeAtomic(dir, file, graph.bytes);
        graphs.push({ file, stage, k, fill, inputs: graph.inputs, outputs: graph.outputs });
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
  await writeAtomic(dir, 'manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}
