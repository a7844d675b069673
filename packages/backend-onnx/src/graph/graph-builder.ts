/**
 * A small builder for ONNX graphs (ONNX IR 8, default-domain opset 17; see
 * https://github.com/onnx/onnx/blob/main/docs/Operators.md), encoded by `onnx-model-encoder.ts`.
 * It keeps graph code readable: `node(op, inputs, attrs)` returns the output names, constants and
 * weights become initializers (float32 little-endian `rawData`).
 */
import {
  attributeType,
  encodeModel,
  tensorDataType,
  type AttributeMessage,
  type ModelMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './onnx-model-encoder.js';

/** ONNX opset of the default domain the graphs use. */
export const onnxOpset = 17;
/** ONNX IR version the graphs declare (opset 17 needs ≥ 8). */
export const onnxIrVersion = 8;

/** An attribute value: numbers are INT when integral unless wrapped with `float()`; arrays of integers are INTS. */
export type AttributeValue = number | string | readonly number[] | FloatAttribute | FloatsAttribute;

interface FloatAttribute {
  readonly float: number;
}
interface FloatsAttribute {
  readonly floats: readonly number[];
}

/** Marks a number attribute as FLOAT (ONNX is strict about INT vs FLOAT). */
export function float(value: number): FloatAttribute {
  return { float: value };
}

/** Marks a list attribute as FLOATS. */
export function floats(values: readonly number[]): FloatsAttribute {
  return { floats: values };
}

/** A dimension: a fixed size or a symbolic name (e.g. `'batch'`). */
export type Dimension = number | string;

export type ElementType = 'float32' | 'float64' | 'int64';

const elementTypes: Record<ElementType, number> = tensorDataType;

interface ValueInfo {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly Dimension[];
}

function attribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: attributeType.int, i: value } : { name, type: attributeType.float, f: value };
  }
  if (typeof value === 'string') return { name, type: attributeType.string, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: attributeType.float, f: value.float };
  if ('floats' in value) return { name, type: attributeType.floats, floats: [...value.floats] };
  return { name, type: attributeType.ints, ints: [...value] };
}

function valueInfo(v: ValueInfo): ValueInfoMessage {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: elementTypes[v.type],
        shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array | Float64Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian. On such hosts (every platform onnxruntime ships for) this is a
  // view, not a copy: the encoder copies it once into the model bytes, so a large model's weights
  // are not held three times over while its graph is built.
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * size, data[i]!, true);
    else if (data instanceof Float64Array) view.setFloat64(i * size, data[i]!, true);
    else view.setBigInt64(i * size, data[i]!, true);
  }
  return bytes;
}

/**
 * Builds one ONNX graph. Value names are unique within the builder. Initializer data is
 * referenced until `encode()` (graphs are built and encoded in one go): do not change it in between.
 */
export class GraphBuilder {
  readonly #nodes: NodeMessage[] = [];
  readonly #initializers: TensorMessage[] = [];
  readonly #inputs: ValueInfo[] = [];
  readonly #outputs: ValueInfo[] = [];
  readonly #names = new Set<string>();
  readonly #constants = new Map<string, string>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.#names.has(name)) name = `${hint}_${++this.#counter}`;
    this.#names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, type: ElementType, dims: readonly Dimension[]): string {
    if (this.#names.has(name)) throw new Error(`graph ${this.name}: value "${name}" already exists`);
    this.#names.add(name);
    this.#inputs.push({ name, type, dims });
    return name;
  }

  /** Declares `value` as a graph output named `name` (an Identity node renames it when needed). */
  output(value: string, name: string, type: ElementType, dims: readonly Dimension[]): string {
    let out = value;
    if (value !== name) [out] = this.node('Identity', [value], {}, 1, name) as [string];
    this.#outputs.push({ name: out, type, dims });
    return out;
  }

  /**
   * Adds a node and returns its output names. `inputs` may hold '' for a skipped optional input.
   * `hint` names the (first) output, for readable graphs.
   */
  node(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttributeValue>> = {}, outputs = 1, hint?: string): string[] {
    const names = Array.from({ length: outputs }, (_, i) => this.fresh(i === 0 && hint !== undefined ? hint : `${op.toLowerCase()}${i === 0 ? '' : `_o${i}`}`));
    this.#nodes.push({
      opType: op,
      input: [...inputs],
      output: names,
      name: this.fresh(`n_${names[0]}`),
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return names;
  }

  /** `node` with a single output. */
  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttributeValue>> = {}, hint?: string): string {
    return this.node(op, inputs, attrs, 1, hint)[0]!;
  }

  /** Adds a float32 (or float64 / int64) initializer and returns its name. */
  initializer(hint: string, data: Float32Array | Float64Array | BigInt64Array, dims: readonly number[]): string {
    const name = this.fresh(hint);
    const dataType =
      data instanceof Float32Array ? elementTypes.float32 : data instanceof Float64Array ? elementTypes.float64 : elementTypes.int64;
    this.#initializers.push({ name, dataType, dims: [...dims], rawData: littleEndianBytes(data) });
    return name;
  }

  /** A shared float32 scalar or vector constant (deduplicated by value). */
  constFloat(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.#shared(`f:${shape.join('x')}:${list.join(',')}`, () => this.initializer('const_f', Float32Array.from(list), shape));
  }

  /** A shared int64 vector constant (shapes, axes). */
  constInts(values: readonly number[]): string {
    return this.#shared(`i:${values.join(',')}`, () => this.initializer('const_i', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]));
  }

  #shared(key: string, make: () => string): string {
    let name = this.#constants.get(key);
    if (name === undefined) {
      name = make();
      this.#constants.set(key, name);
    }
    return name;
  }

  /** The ModelProto as a plain message (onnx-proto's field names), before encoding. */
  toModel(docString = ''): ModelMessage {
    return {
      irVersion: onnxIrVersion,
      opsetImport: [{ domain: '', version: onnxOpset }],
      producerName: '@levelskip/backend-onnx',
      producerVersion: '0.1.0',
      docString,
      graph: {
        name: this.name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs.map(valueInfo),
        output: this.#outputs.map(valueInfo),
      },
    };
  }

  /** The ModelProto, protobuf-encoded. */
  encode(docString = ''): Uint8Array {
    return encodeModel(this.toModel(docString));
  }
}
