/**
 * Protobuf encoding of the ONNX messages the graph builder emits — ModelProto, OperatorSetIdProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto(.Tensor),
 * TensorShapeProto(.Dimension) — with field numbers from onnx/onnx.proto
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto). Message shapes use onnx-proto's
 * camelCase field names, so the same object can be handed to onnx-proto's encoder; the tests do
 * exactly that and compare the two encodings field by field.
 *
 * Presence follows protobufjs: a field is written when its property is defined (a repeated field
 * when non-empty), fields in field-number order, repeated numbers packed. Every protobuf parser
 * (onnxruntime's included) accepts packed and unpacked repeated scalars alike.
 */
import { ProtobufWriter } from './protobuf-writer.js';

/** onnx.TensorProto.DataType values used by levelskip graphs. */
export const tensorDataType = { float32: 1, int64: 7, float64: 11 } as const;

/** onnx.AttributeProto.AttributeType values. */
export const attributeType = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const;

export interface OperatorSetIdMessage {
  readonly domain?: string;
  readonly version?: number;
}

export interface TensorMessage {
  readonly dims?: readonly number[];
  readonly dataType?: number;
  readonly floatData?: readonly number[];
  readonly int32Data?: readonly number[];
  readonly int64Data?: readonly number[];
  readonly name?: string;
  /** Little-endian element bytes. Referenced, not copied, until the model is encoded. */
  readonly rawData?: Uint8Array;
  readonly doubleData?: readonly number[];
  readonly docString?: string;
}

export interface AttributeMessage {
  readonly name?: string;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly t?: TensorMessage;
  readonly g?: GraphMessage;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
  readonly strings?: readonly Uint8Array[];
  readonly docString?: string;
  readonly type?: number;
}

export interface NodeMessage {
  readonly input?: readonly string[];
  readonly output?: readonly string[];
  readonly name?: string;
  readonly opType?: string;
  readonly attribute?: readonly AttributeMessage[];
  readonly docString?: string;
  readonly domain?: string;
}

export interface DimensionMessage {
  readonly dimValue?: number;
  readonly dimParam?: string;
  readonly denotation?: string;
}

export interface TypeMessage {
  readonly tensorType?: { readonly elemType?: number; readonly shape?: { readonly dim?: readonly DimensionMessage[] } };
  readonly denotation?: string;
}

export interface ValueInfoMessage {
  readonly name?: string;
  readonly type?: TypeMessage;
  readonly docString?: string;
}

export interface GraphMessage {
  readonly node?: readonly NodeMessage[];
  readonly name?: string;
  readonly initializer?: readonly TensorMessage[];
  readonly docString?: string;
  readonly input?: readonly ValueInfoMessage[];
  readonly output?: readonly ValueInfoMessage[];
  readonly valueInfo?: readonly ValueInfoMessage[];
}

export interface ModelMessage {
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly domain?: string;
  readonly modelVersion?: number;
  readonly docString?: string;
  readonly graph?: GraphMessage;
  readonly opsetImport?: readonly OperatorSetIdMessage[];
}

type Encode<M> = (w: ProtobufWriter, message: M) => void;

function repeated<M>(w: ProtobufWriter, field: number, items: readonly M[] | undefined, encode: Encode<M>): void {
  for (const item of items ?? []) w.message(field, encodeWith(item, encode));
}

function encodeWith<M>(message: M, encode: Encode<M>): ProtobufWriter {
  const w = new ProtobufWriter();
  encode(w, message);
  return w;
}

function strings(w: ProtobufWriter, field: number, values: readonly string[] | undefined): void {
  for (const v of values ?? []) w.string(field, v);
}

const operatorSetId: Encode<OperatorSetIdMessage> = (w, m) => {
  if (m.domain !== undefined) w.string(1, m.domain);
  if (m.version !== undefined) w.int(2, m.version);
};

const tensor: Encode<TensorMessage> = (w, m) => {
  if (m.dims !== undefined) w.packedInts(1, m.dims);
  if (m.dataType !== undefined) w.int(2, m.dataType);
  if (m.floatData !== undefined) w.packedFloats(4, m.floatData);
  if (m.int32Data !== undefined) w.packedInts(5, m.int32Data);
  if (m.int64Data !== undefined) w.packedInts(7, m.int64Data);
  if (m.name !== undefined) w.string(8, m.name);
  if (m.rawData !== undefined) w.bytes(9, m.rawData);
  if (m.doubleData !== undefined) w.packedDoubles(10, m.doubleData);
  if (m.docString !== undefined) w.string(12, m.docString);
};

const attribute: Encode<AttributeMessage> = (w, m) => {
  if (m.name !== undefined) w.string(1, m.name);
  if (m.f !== undefined) w.float(2, m.f);
  if (m.i !== undefined) w.int(3, m.i);
  if (m.s !== undefined) w.bytes(4, m.s);
  if (m.t !== undefined) w.message(5, encodeWith(m.t, tensor));
  if (m.g !== undefined) w.message(6, encodeWith(m.g, graph));
  if (m.floats !== undefined) w.packedFloats(7, m.floats);
  if (m.ints !== undefined) w.packedInts(8, m.ints);
  for (const s of m.strings ?? []) w.bytes(9, s);
  if (m.docString !== undefined) w.string(13, m.docString);
  if (m.type !== undefined) w.int(20, m.type);
};

const node: Encode<NodeMessage> = (w, m) => {
  strings(w, 1, m.input);
  strings(w, 2, m.output);
  if (m.name !== undefined) w.string(3, m.name);
  if (m.opType !== undefined) w.string(4, m.opType);
  repeated(w, 5, m.attribute, attribute);
  if (m.docString !== undefined) w.string(6, m.docString);
  if (m.domain !== undefined) w.string(7, m.domain);
};

const dimension: Encode<DimensionMessage> = (w, m) => {
  if (m.dimValue !== undefined) w.int(1, m.dimValue);
  if (m.dimParam !== undefined) w.string(2, m.dimParam);
  if (m.denotation !== undefined) w.string(3, m.denotation);
};

const type: Encode<TypeMessage> = (w, m) => {
  const tensorType = m.tensorType;
  if (tensorType !== undefined) {
    const body = new ProtobufWriter();
    if (tensorType.elemType !== undefined) body.int(1, tensorType.elemType);
    if (tensorType.shape !== undefined) {
      const shape = new ProtobufWriter();
      repeated(shape, 1, tensorType.shape.dim, dimension);
      body.message(2, shape);
    }
    w.message(1, body);
  }
  if (m.denotation !== undefined) w.string(6, m.denotation);
};

const valueInfo: Encode<ValueInfoMessage> = (w, m) => {
  if (m.name !== undefined) w.string(1, m.name);
  if (m.type !== undefined) w.message(2, encodeWith(m.type, type));
  if (m.docString !== undefined) w.string(3, m.docString);
};

const graph: Encode<GraphMessage> = (w, m) => {
  repeated(w, 1, m.node, node);
  if (m.name !== undefined) w.string(2, m.name);
  repeated(w, 5, m.initializer, tensor);
  if (m.docString !== undefined) w.string(10, m.docString);
  repeated(w, 11, m.input, valueInfo);
  repeated(w, 12, m.output, valueInfo);
  repeated(w, 13, m.valueInfo, valueInfo);
};

const model: Encode<ModelMessage> = (w, m) => {
  if (m.irVersion !== undefined) w.int(1, m.irVersion);
  if (m.producerName !== undefined) w.string(2, m.producerName);
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion);
  if (m.domain !== undefined) w.string(4, m.domain);
  if (m.modelVersion !== undefined) w.int(5, m.modelVersion);
  if (m.docString !== undefined) w.string(6, m.docString);
  if (m.graph !== undefined) w.message(7, encodeWith(m.graph, graph));
  repeated(w, 8, m.opsetImport, operatorSetId);
};

/** The protobuf encoding of an ONNX ModelProto (what `InferenceSession.create` and `.onnx` files take). */
export function encodeModel(message: ModelMessage): Uint8Array {
  return encodeWith(message, model).finish();
}
