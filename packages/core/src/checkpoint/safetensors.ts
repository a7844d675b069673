/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *
 *   8 bytes   N, a little-endian u64: the header length
 *   N bytes   a UTF-8 JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}
 *   rest      the byte buffer; offsets are relative to its start, tensors are C-order little-endian
 *
 * The reader validates like the reference implementation: the header length is bounded before
 * anything is allocated, every byte length must equal product(shape) × dtype size, and the tensors
 * must tile the buffer exactly (no overlap, no hole, nothing after the last). Only the float dtypes
 * levelskip stores (F32, F16, BF16) are read; F16/BF16 are widened to float32.
 *
 * The writer matches the reference serializer: compact JSON, the header padded with spaces to a
 * multiple of 8 bytes, tensors laid out in name order (one dtype per file, so the reference's
 * dtype-then-name order is name order).
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';
import { float16DecodeTable, float32BitsToBfloat16Bits, float32BitsToFloat16Bits } from './float16.js';

/** The tensor dtypes levelskip reads and writes. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const dtypeSizes: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
const supportedDtypes = Object.keys(dtypeSizes).join(', ');

/** The reference implementation's limit on the header length (100 MB). */
const defaultMaxHeaderBytes = 100_000_000;
const metadataKey = '__metadata__';
const headerAlignment = 8;

export interface ParseSafetensorsOptions {
  /** Largest accepted header, in bytes (default 100 MB, the reference implementation's limit). */
  readonly maxHeaderBytes?: number;
}

export interface ParsedSafetensors {
  /** Every tensor, widened to float32, keyed by name. */
  readonly tensors: Map<string, HostTensor>;
  /** The free-form `__metadata__` map (empty when absent). */
  readonly metadata: Record<string, string>;
}

export interface SerializeSafetensorsOptions {
  /** Storage dtype of every tensor (default F32). F16/BF16 round to nearest even. */
  readonly dtype?: SafetensorsDtype;
  /** Free-form string metadata, stored as `__metadata__`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

function corrupt(message: string): LevelskipError {
  return new LevelskipError('CHECKPOINT_CORRUPT', `Corrupt safetensors file: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSupportedDtype(value: string): value is SafetensorsDtype {
  return Object.hasOwn(dtypeSizes, value);
}

function formatShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

/** Validates one header entry; the reference parses these fields into unsigned integers. */
function parseEntry(name: string, raw: unknown, bufferLength: number): HeaderEntry {
  const label = `tensor "${name}"`;
  if (!isPlainObject(raw)) throw corrupt(`${label}: header entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((key) => raw[key] === undefined);
    throw corrupt(`${label}: header entry is missing ${missing.join(', ')}`);
  }
  if (typeof dtype !== 'string') throw corrupt(`${label}: dtype must be a string, got ${JSON.stringify(dtype)}`);
  if (!isSupportedDtype(dtype)) {
    throw corrupt(`${label}: unsupported dtype ${JSON.stringify(dtype)}; levelskip reads ${supportedDtypes} (convert the weights to float first)`);
  }
  if (!Array.isArray(shape)) throw corrupt(`${label}: shape must be an array of dimensions, got ${JSON.stringify(shape)}`);
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw corrupt(`${label}: shape ${JSON.stringify(shape)} has invalid dimension ${JSON.stringify(dim)}; dimensions must be non-negative integers`);
    }
  }
  const dims = shape as number[];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o): o is number => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw corrupt(`${label}: data_offsets must be [begin, end], two non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw corrupt(`${label}: data_offsets [${begin}, ${end}] has begin > end`);
  if (end > bufferLength) {
    throw corrupt(`${label}: data_offsets [${begin}, ${end}] extend beyond the ${bufferLength}-byte data buffer (truncated file?)`);
  }
  // Element count capped at the buffer size: a larger product cannot match and must not overflow.
  let elements = 1;
  for (const dim of dims) elements = Math.min(elements * dim, bufferLength + 1);
  const expectedBytes = elements * dtypeSizes[dtype];
  if (end - begin !== expectedBytes) {
    throw corrupt(
      `${label}: shape ${formatShape(dims)} of ${dtype} needs ${elements > bufferLength ? 'more bytes than the file holds' : `${expectedBytes} bytes`}, but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (!isPlainObject(raw)) throw corrupt(`"${metadataKey}" must be an object mapping strings to strings`);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') throw corrupt(`"${metadataKey}" value of "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  // fromEntries defines own properties, so a key like "__proto__" is kept rather than hitting the setter.
  return Object.fromEntries(Object.entries(raw)) as Record<string, string>;
}

/** The spec requires the tensors to cover the buffer exactly; sorting by begin makes overlaps and holes adjacent. */
function checkCoverage(entries: readonly HeaderEntry[], bufferLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of sorted) {
    if (entry.begin < cursor && previous) {
      throw corrupt(
        `tensors "${previous.name}" [${previous.begin}, ${previous.end}] and "${entry.name}" [${entry.begin}, ${entry.end}] overlap in the data buffer`,
      );
    }
    if (entry.begin > cursor) {
      throw corrupt(`bytes [${cursor}, ${entry.begin}) of the data buffer before tensor "${entry.name}" belong to no tensor (a hole)`);
    }
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== bufferLength) {
    throw corrupt(`bytes [${cursor}, ${bufferLength}) at the end of the data buffer belong to no tensor`);
  }
}

function decodeTensor(view: DataView, start: number, entry: HeaderEntry): Float32Array {
  const count = (entry.end - entry.begin) / dtypeSizes[entry.dtype];
  const data = new Float32Array(count);
  // DataView reads are little-endian regardless of the platform and need no alignment.
  if (entry.dtype === 'F32') {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + 4 * i, true);
  } else if (entry.dtype === 'F16') {
    const table = float16DecodeTable();
    for (let i = 0; i < count; i++) data[i] = table[view.getUint16(start + 2 * i, true)]!;
  } else {
    // bfloat16 is the top half of a float32: write the widened bit patterns directly.
    const bits = new Uint32Array(data.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(start + 2 * i, true) << 16;
  }
  return data;
}

/**
 * Parses a safetensors file held in memory.
 *
 * @param bytes The whole file.
 * @returns Every tensor widened to float32, and the `__metadata__` map.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming the problem (and the tensor) for any malformed
 *   file: truncation, an oversized or invalid header, an unsupported dtype, a shape that does not
 *   match its byte length, overlapping tensors or bytes that belong to no tensor.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): ParsedSafetensors {
  const maxHeaderBytes = options.maxHeaderBytes ?? defaultMaxHeaderBytes;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new LevelskipError('INVALID_OPTION', `maxHeaderBytes must be a non-negative integer, got ${maxHeaderBytes}`);
  }
  if (bytes.length < 8) {
    throw corrupt(`the file has ${bytes.length} bytes, fewer than the 8-byte header length field (truncated or empty file)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Bounded as a BigInt first, so even 2^64 - 1 is reported exactly and nothing is allocated for it.
  const declaredLength = view.getBigUint64(0, true);
  if (declaredLength > BigInt(maxHeaderBytes)) {
    throw corrupt(`header length ${declaredLength} exceeds the limit of ${maxHeaderBytes} bytes (not a safetensors file, or a damaged one)`);
  }
  const headerLength = Number(declaredLength);
  if (headerLength > bytes.length - 8) {
    throw corrupt(`header length ${headerLength} exceeds the ${bytes.length - 8} bytes that follow the length field (truncated file?)`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (error) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `Corrupt safetensors file: the header is not valid UTF-8 JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (!isPlainObject(header)) throw corrupt('the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');

  const dataStart = 8 + headerLength;
  const bufferLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === metadataKey) metadata = parseMetadata(raw);
    else entries.push(parseEntry(name, raw, bufferLength));
  }
  checkCoverage(entries, bufferLength);

  const tensors = new Map<string, HostTensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { shape: entry.shape, data: decodeTensor(view, dataStart + entry.begin, entry) });
  }
  return { tensors, metadata };
}

/** Orders strings by Unicode code point, which is UTF-8 byte order (the reference sorts Rust strings by bytes). */
function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

function encodeTensor(view: DataView, start: number, data: Float32Array, dtype: SafetensorsDtype): void {
  if (dtype === 'F32') {
    for (let i = 0; i < data.length; i++) view.setFloat32(start + 4 * i, data[i]!, true);
    return;
  }
  // The float32 bit patterns, read in place (a Float32Array is always 4-aligned).
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  if (dtype === 'F16') {
    for (let i = 0; i < bits.length; i++) view.setUint16(start + 2 * i, float32BitsToFloat16Bits(bits[i]!), true);
  } else {
    for (let i = 0; i < bits.length; i++) view.setUint16(start + 2 * i, float32BitsToBfloat16Bits(bits[i]!), true);
  }
}

/**
 * Serializes tensors to safetensors bytes. The output is deterministic: tensors in name order,
 * metadata keys sorted, the header padded with spaces to a multiple of 8 bytes.
 *
 * @throws LevelskipError `INVALID_SHAPE` when a tensor's data length is not the product of its shape;
 *   `INVALID_OPTION` for an unsupported dtype, non-string metadata or a tensor named `__metadata__`.
 */
export function serializeSafetensors(tensors: NamedTensors | Map<string, HostTensor>, options: SerializeSafetensorsOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  if (!isSupportedDtype(dtype)) {
    throw new LevelskipError('INVALID_OPTION', `Unsupported safetensors dtype ${JSON.stringify(dtype)}; choose one of ${supportedDtypes}`);
  }
  const size = dtypeSizes[dtype];

  // The header JSON is assembled from [key, value] pairs: a JS object would move integer-like
  // keys ("0", "12") to the front and break the sorted, metadata-first order.
  const members: string[] = [];
  if (options.metadata !== undefined) {
    const pairs: string[] = [];
    for (const key of Object.keys(options.metadata).sort(compareCodePoints)) {
      const value = options.metadata[key];
      if (typeof value !== 'string') {
        throw new LevelskipError('INVALID_OPTION', `safetensors metadata value of "${key}" must be a string, got ${typeof value}; convert it with String() or JSON.stringify()`);
      }
      pairs.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    members.push(`${JSON.stringify(metadataKey)}:{${pairs.join(',')}}`);
  }

  const names = [...tensors.keys()].sort(compareCodePoints);
  let offset = 0;
  for (const name of names) {
    if (name === metadataKey) {
      throw new LevelskipError('INVALID_OPTION', `A tensor cannot be named "${metadataKey}": safetensors reserves that key for metadata; rename the tensor`);
    }
    const tensor = tensors.get(name)!;
    for (const dim of tensor.shape) {
      if (!Number.isSafeInteger(dim) || dim < 0) {
        throw new LevelskipError('INVALID_SHAPE', `Tensor "${name}" has shape ${formatShape(tensor.shape)}; dimensions must be non-negative integers`);
      }
    }
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== elements) {
      throw new LevelskipError(
        'INVALID_SHAPE',
        `Tensor "${name}" has shape ${formatShape(tensor.shape)} (${elements} values) but ${tensor.data.length} data values; fix the shape or the data`,
      );
    }
    const bytes = elements * size;
    // Key order dtype, shape, data_offsets as in the reference's TensorInfo.
    members.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }

  const json = new TextEncoder().encode(`{${members.join(',')}}`);
  const headerLength = Math.ceil(json.length / headerAlignment) * headerAlignment;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  const dataStart = 8 + headerLength;
  let cursor = dataStart;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    encodeTensor(view, cursor, tensor.data, dtype);
    cursor += tensor.data.length * size;
  }
  return out;
}
