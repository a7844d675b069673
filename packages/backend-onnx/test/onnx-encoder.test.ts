/**
 * The hand-written ONNX protobuf encoder against onnx-proto's generated (protobufjs) encoder: for
 * every graph of a small spec — each k, each fill, head and tail graphs, with and without cache
 * outputs — and for a message using every field the encoder knows, both encodings are decoded
 * with onnx-proto and compared field by field, then byte for byte.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { describeArchitecture, parseUNetSpec } from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { encodeModel, type ModelMessage } from '../src/graph/onnx-model-encoder.js';
import { graphKey, traceUNetGraph, type GraphVariant } from '../src/graph/unet-graphs.js';

const { onnx } = onnxProto;

/**
 * The decoded message as a plain object: numbers for int64 fields, base64 strings for bytes fields
 * (weights compare as one string each, not element by element), only the fields present.
 */
function decoded(bytes: Uint8Array): Record<string, unknown> {
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, enums: Number, bytes: String, defaults: false });
}

function reference(model: ModelMessage): Uint8Array {
  // onnx-proto's encoder takes plain objects with its (camelCase) field names: the same object.
  return onnx.ModelProto.encode(model as onnxProto.onnx.IModelProto).finish();
}

function expectSameEncoding(model: ModelMessage): Record<string, unknown> {
  const ours = encodeModel(model);
  const theirs = reference(model);
  const fields = decoded(ours);
  expect(fields).toEqual(decoded(theirs));
  expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  return fields;
}

// sidePaths: 3 levels (k = 0, 1, 2) and side paths, so every fill has a graph.
const spec = parseUNetSpec(tinySpecs.sidePaths);
const arch = describeArchitecture(spec);
const weights = fixtureWeights(spec, 3);
const variants: GraphVariant[] = [];
for (let k = 0; k < arch.levels; k++) {
  for (const cacheOutputs of [false, true]) {
    const fills = k === 0 ? (['none'] as const) : (['zero', 'duplicate', 'interpolate', 'input'] as const);
    for (const fill of fills) variants.push({ kind: 'fused', stage: 0, k, fill, cacheOutputs });
    if (k > 0) variants.push({ kind: 'tail', stage: 0, k, cacheOutputs });
  }
  if (k > 0) variants.push({ kind: 'head', k });
}

describe('ONNX encoder = onnx-proto', () => {
  it.each(variants.map((v) => [graphKey(v), v] as const))('graph %s: same fields, same bytes', (_key, variant) => {
    const traced = traceUNetGraph(arch, weights, variant);
    const fields = expectSameEncoding(traced.builder.toModel(traced.docString)) as {
      graph: { node: { attribute?: { type: number }[] }[]; initializer: unknown[] };
      opsetImport: unknown[];
    };
    // The comparison covered a real graph: nodes, weights and the attribute kinds the U-Net uses.
    expect(fields.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(fields.graph.node.length).toBeGreaterThan(20);
    expect(fields.graph.initializer.length).toBeGreaterThan(10);
    const kinds = new Set(fields.graph.node.flatMap((n) => (n.attribute ?? []).map((a) => a.type)));
    expect(kinds).toContain(2); // INT
    expect(kinds).toContain(7); // INTS
  });

  it('a message using every field the encoder writes (negative ints, packed lists, nested tensor and graph attributes)', () => {
    const tensor = { name: 'w', dims: [2, 3], dataType: 1, rawData: new Uint8Array(Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]).buffer) };
    const inner = { name: 'body', node: [{ opType: 'Identity', input: ['a'], output: ['b'] }], docString: 'inner graph' };
    const model: ModelMessage = {
      irVersion: 8,
      producerName: 'levelskip ✓ test',
      producerVersion: '0.1.0',
      domain: 'ai.levelskip',
      modelVersion: 3,
      docString: '',
      opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
      graph: {
        name: 'everything',
        docString: 'all fields',
        node: [
          {
            opType: 'Custom',
            domain: 'ai.levelskip',
            name: 'n0',
            docString: 'a node',
            input: ['x', '', 'w'],
            output: ['y', 'z'],
            attribute: [
              { name: 'i', type: 2, i: -1 },
              { name: 'big', type: 2, i: 2 ** 40 + 3 },
              { name: 'zero', type: 2, i: 0 },
              { name: 'f', type: 1, f: -0.75 },
              { name: 's', type: 3, s: new TextEncoder().encode('cubic') },
              { name: 'ints', type: 7, ints: [-1, 0, 1, 300, -(2 ** 33)] },
              { name: 'floats', type: 6, floats: [0.5, -1e-5, 3] },
              { name: 'strings', type: 8, strings: [new TextEncoder().encode('a'), new Uint8Array(0)] },
              { name: 't', type: 4, t: tensor, docString: 'tensor attribute' },
              { name: 'g', type: 5, g: inner },
              { name: 'empty', type: 7, ints: [] },
            ],
          },
        ],
        initializer: [
          tensor,
          { name: 'large', dims: [300], dataType: 1, rawData: new Uint8Array(1200).map((_, i) => i % 251) },
          { name: 'f', dims: [3], dataType: 1, floatData: [1.5, -2, 0] },
          { name: 'i32', dims: [2], dataType: 6, int32Data: [-5, 70000] },
          { name: 'i64', dims: [3], dataType: 7, int64Data: [-1, 0, 2 ** 50] },
          { name: 'f64', dims: [2], dataType: 11, doubleData: [Math.PI, -1e300], docString: 'doubles' },
          { name: 'scalar', dims: [], dataType: 1, rawData: new Uint8Array(4) },
        ],
        input: [
          {
            name: 'x',
            docString: 'input',
            type: { denotation: 'IMAGE', tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch', denotation: 'DATA_BATCH' }, { dimValue: 3 }, { dimValue: 0 }] } } },
          },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [] } } } }],
        valueInfo: [{ name: 'z', type: { tensorType: { elemType: 7 } } }],
      },
    };
    const fields = expectSameEncoding(model) as { graph: { node: { attribute: { name: string; i?: number; ints?: number[]; s?: string }[] }[] } };
    const attributes = fields.graph.node[0]!.attribute;
    expect(attributes.find((a) => a.name === 's')).toMatchObject({ s: btoa('cubic') });
    expect(attributes.find((a) => a.name === 'i')!.i).toBe(-1);
    expect(attributes.find((a) => a.name === 'ints')!.ints).toEqual([-1, 0, 1, 300, -(2 ** 33)]);
  });

  it('the comparison notices a changed field (it can fail)', () => {
    const traced = traceUNetGraph(arch, weights, { kind: 'fused', stage: 0, k: 1, fill: 'zero', cacheOutputs: false });
    const model = traced.builder.toModel(traced.docString);
    const graph = model.graph!;
    const [first, ...rest] = graph.node!;
    const changed: ModelMessage = { ...model, graph: { ...graph, node: [{ ...first!, opType: `${first!.opType}X` }, ...rest] } };
    expect(decoded(encodeModel(changed))).not.toEqual(decoded(reference(model)));
  });

  it('an int64 outside the safe integers is refused, not silently rounded', () => {
    expect(() => encodeModel({ irVersion: 2 ** 60 })).toThrow(RangeError);
  });
});
