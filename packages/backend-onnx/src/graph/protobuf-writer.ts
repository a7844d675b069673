/**
 * A minimal protocol-buffers *writer* (https://protobuf.dev/programming-guides/encoding/): varint,
 * 32-bit and length-delimited wire types, which is all the ONNX messages in
 * `onnx-model-encoder.ts` need. It replaces protobufjs (and the generated onnx-proto bindings),
 * which cost the browser bundle about 20 KB gzip for an encoder a few dozen lines long.
 *
 * Output is built as a list of chunks: small fields collect in a byte list, large byte fields
 * (weights) are referenced, not copied, until `finish()` concatenates everything once. A nested
 * message is written into its own writer first, so its length is known before its bytes (no
 * back-patching of length prefixes).
 */

/** The wire types used here. */
const wireVarint = 0;
const wireLengthDelimited = 2;
const wireFixed32 = 5;

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const textEncoder = new TextEncoder();
// Byte fields at least this long are kept as their own chunk instead of being copied into the byte list.
const largeChunk = 64;

export class ProtobufWriter {
  readonly #chunks: Uint8Array[] = [];
  #pending: number[] = [];
  #chunkBytes = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#chunkBytes + this.#pending.length;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#pending));
    this.#chunkBytes += this.#pending.length;
    this.#pending = [];
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length < largeChunk) {
      for (const b of bytes) this.#pending.push(b);
      return;
    }
    this.#flush();
    this.#chunks.push(bytes);
    this.#chunkBytes += bytes.length;
  }

  /**
   * A varint of a safe integer. Negative values are written as 64-bit two's complement (ten bytes),
   * as protobuf requires for negative int32 and int64 fields.
   */
  #varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
    if (value >= 0 && value <= 0xffffffff) {
      let v = value;
      while (v > 0x7f) {
        this.#pending.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.#pending.push(v);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v > 0x7fn) {
      this.#pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#pending.push(Number(v));
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  /** An int32, int64 or enum field (varint). */
  int(field: number, value: number): this {
    this.#tag(field, wireVarint);
    this.#varint(value);
    return this;
  }

  /** A float field (32-bit little-endian). */
  float(field: number, value: number): this {
    this.#tag(field, wireFixed32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const b of bytes) this.#pending.push(b);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** A bytes field. Large arrays are referenced until `finish()`: do not change them before. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, wireLengthDelimited);
    this.#varint(value.length);
    this.#append(value);
    return this;
  }

  /** A packed repeated int32/int64 field; nothing when `values` is empty (as protobuf encoders do). */
  packedInts(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const body = new ProtobufWriter();
    for (const v of values) body.#varint(v);
    return this.message(field, body);
  }

  /** A packed repeated float field; nothing when `values` is empty. */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    return this.bytes(field, float32LittleEndian(values));
  }

  /** A packed repeated double field; nothing when `values` is empty. */
  packedDoubles(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat64(i * 8, v, true));
    return this.bytes(field, bytes);
  }

  /** An embedded message field, written from another writer (which must not be used afterwards). */
  message(field: number, body: ProtobufWriter): this {
    this.#tag(field, wireLengthDelimited);
    this.#varint(body.length);
    body.#flush();
    this.#flush();
    for (const chunk of body.#chunks) this.#chunks.push(chunk);
    this.#chunkBytes += body.#chunkBytes;
    return this;
  }

  /** The encoded bytes, in one new array. */
  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#chunkBytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function float32LittleEndian(values: readonly number[]): Uint8Array {
  const floats = Float32Array.from(values);
  if (hostIsLittleEndian) return new Uint8Array(floats.buffer);
  const bytes = new Uint8Array(floats.length * 4);
  const view = new DataView(bytes.buffer);
  floats.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}
