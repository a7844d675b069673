/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *
 *   8 bytes   N, a little-endian u64: the header length
 *   N bytes   a UTF-8 JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}
 *   rest      the byte buffer; offsets are relative to its start, tensors are C-order little-endian
 *
 * The reader validates like the reference implementation, and stricter: the header length is
 * bounded before anything is allocated, duplicate tensor names are refused (JSON.parse would keep
 * the last), the header can be validated against the file length before any data is read, every byte length must equal product(shape) × dtype size, and the tensors
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
import { describeJsonValue, parseStrictJson, quoteName, quoteToken, StrictJsonError } from './strict-json.js';

/** The tensor dtypes levelskip reads and writes. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const dtypeSizes: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
const supportedDtypes = Object.keys(dtypeSizes).join(', ');

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of the little-endian u64 header length that starts every safetensors file. */
export const safetensorsLengthFieldBytes = 8;

/**
 * Default bound on the header length: 16 MiB. A header entry costs about 100 bytes
 * (`"down_blocks.3.resnets.1.conv2.weight":{"dtype":"F32","shape":[512,512,3,3],"data_offsets":[..,..]}`),
 * so 16 MiB holds ~160,000 tensors, 100 times an SD-sized UNet (~700 tensors for diffusers'
 * UNet2DModel at celeba-hq 256). The reference implementation allows 100 MB, but a 100 MB header
 * takes ~2 GB and ~17 s to parse in V8; 16 MiB stays well under a second.
 */
export const defaultMaxSafetensorsHeaderBytes = 16 * 1024 * 1024;

/** Deepest nesting a header needs is 3 (object → entry → shape); anything deeper is refused before parsing. */
const maxHeaderDepth = 8;
const metadataKey = '__metadata__';
const headerAlignment = 8;

export interface ParseSafetensorsOptions {
  /** Largest accepted header, in bytes (default 16 MiB, `defaultMaxSafetensorsHeaderBytes`). */
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

/** One tensor of a safetensors header, validated. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets in the data buffer (which starts at `SafetensorsLayout.dataStart` in the file), end exclusive. */
  readonly begin: number;
  readonly end: number;
}

/** A validated safetensors header: where everything lies in the file, before any tensor is read. */
export interface SafetensorsLayout {
  /** N, the JSON header's length in bytes. */
  readonly headerLength: number;
  /** File offset of the data buffer: 8 + N. */
  readonly dataStart: number;
  /** Bytes of the data buffer: the file length − 8 − N, covered exactly by the entries. */
  readonly dataLength: number;
  /** The free-form `__metadata__` map (empty when absent). */
  readonly metadata: Record<string, string>;
  /** Every tensor, in data-buffer order (ascending `begin`), so a reader can read them sequentially. */
  readonly entries: readonly SafetensorsEntry[];
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
function parseEntry(name: string, raw: unknown, bufferLength: number): SafetensorsEntry {
  const label = `tensor ${quoteName(name)}`;
  if (!isPlainObject(raw)) throw corrupt(`${label}: header entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((key) => raw[key] === undefined);
    throw corrupt(`${label}: header entry is missing ${missing.join(', ')}`);
  }
  if (typeof dtype !== 'string') throw corrupt(`${label}: dtype must be a string, got ${describeJsonValue(dtype)}`);
  if (!isSupportedDtype(dtype)) {
    throw corrupt(`${label}: unsupported dtype ${quoteToken(dtype)}; levelskip reads ${supportedDtypes} (convert the weights to float first)`);
  }
  if (!Array.isArray(shape)) throw corrupt(`${label}: shape must be an array of dimensions, got ${describeJsonValue(shape)}`);
  for (const [index, dim] of shape.entries()) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      // Quoted only when every dimension is a number (short); a nested or string dimension is described.
      const quoted = shape.length <= 16 && shape.every((d) => typeof d === 'number' || d === null) ? ` ${formatShape(shape)}` : '';
      throw corrupt(`${label}: shape${quoted} has invalid dimension ${describeJsonValue(dim)} at index ${index}; dimensions must be non-negative integers`);
    }
  }
  const dims = shape as number[];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o): o is number => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    const got = Array.isArray(offsets) && offsets.length <= 4 ? `[${offsets.map(describeJsonValue).join(', ')}]` : describeJsonValue(offsets);
    throw corrupt(`${label}: data_offsets must be [begin, end], two non-negative integers, got ${got}`);
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
    if (typeof value !== 'string') throw corrupt(`"${metadataKey}" value of ${quoteName(key)} must be a string, got ${describeJsonValue(value)}`);
  }
  // fromEntries defines own properties, so a key like "__proto__" is kept rather than hitting the setter.
  return Object.fromEntries(Object.entries(raw)) as Record<string, string>;
}

/**
 * The spec requires the tensors to cover the buffer exactly; sorting by begin makes overlaps and
 * holes adjacent. Returns the entries in that order.
 */
function checkCoverage(entries: readonly SafetensorsEntry[], bufferLength: number): SafetensorsEntry[] {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: SafetensorsEntry | undefined;
  for (const entry of sorted) {
    if (entry.begin < cursor && previous) {
      throw corrupt(
        `tensors ${quoteName(previous.name)} [${previous.begin}, ${previous.end}] and ${quoteName(entry.name)} [${entry.begin}, ${entry.end}] overlap in the data buffer`,
      );
    }
    if (entry.begin > cursor) {
      throw corrupt(`bytes [${cursor}, ${entry.begin}) of the data buffer before tensor ${quoteName(entry.name)} belong to no tensor (a hole)`);
    }
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== bufferLength) {
    throw corrupt(`bytes [${cursor}, ${bufferLength}) at the end of the data buffer belong to no tensor`);
  }
  return sorted;
}

function checkMaxHeaderBytes(options: ParseSafetensorsOptions): number {
  const maxHeaderBytes = options.maxHeaderBytes ?? defaultMaxSafetensorsHeaderBytes;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) {
    throw new LevelskipError('INVALID_OPTION', `maxHeaderBytes must be a non-negative integer, got ${maxHeaderBytes}`);
  }
  return maxHeaderBytes;
}

/**
 * Reads and bounds N, the header length, from a file's first 8 bytes, so a reader knows how many
 * bytes to read next before allocating anything.
 *
 * @param prefix At least the file's first 8 bytes.
 * @param fileLength The whole file's length in bytes.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when the file is shorter than 8 bytes, or N exceeds
 *   `maxHeaderBytes` or the bytes that follow the length field.
 */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileLength: number, options: ParseSafetensorsOptions = {}): number {
  const maxHeaderBytes = checkMaxHeaderBytes(options);
  if (!Number.isSafeInteger(fileLength) || fileLength < 0) {
    throw new LevelskipError('INVALID_OPTION', `fileLength must be a non-negative integer, got ${fileLength}`);
  }
  if (fileLength < safetensorsLengthFieldBytes) {
    throw corrupt(`the file has ${fileLength} bytes, fewer than the 8-byte header length field (truncated or empty file)`);
  }
  if (prefix.length < safetensorsLengthFieldBytes) {
    throw new LevelskipError('INVALID_OPTION', `the safetensors prefix must hold the file's first 8 bytes, got ${prefix.length}`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  // Bounded as a BigInt first, so even 2^64 - 1 is reported exactly and nothing is allocated for it.
  const declaredLength = view.getBigUint64(0, true);
  if (declaredLength > BigInt(maxHeaderBytes)) {
    throw corrupt(`header length ${declaredLength} exceeds the limit of ${maxHeaderBytes} bytes (not a safetensors file, or a damaged one)`);
  }
  const headerLength = Number(declaredLength);
  if (headerLength > fileLength - safetensorsLengthFieldBytes) {
    throw corrupt(`header length ${headerLength} exceeds the ${fileLength - safetensorsLengthFieldBytes} bytes that follow the length field (truncated file?)`);
  }
  return headerLength;
}

/**
 * Parses and validates a safetensors header without its data, so a file can be checked (and its
 * size compared with the header) before the tensors are read, e.g. with positional reads.
 *
 * @param headerBytes The file's first 8 + N bytes (N, the header length, is the little-endian u64
 *   in the first 8 bytes; see `readSafetensorsHeaderLength`). Extra bytes after them are ignored.
 * @param fileLength The whole file's length; the data buffer is its last `fileLength − 8 − N` bytes.
 * @returns The layout: header length, data start and length, metadata, and every tensor entry in
 *   data-buffer order.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for an oversized, truncated or invalid header
 *   (invalid UTF-8 or JSON, duplicate names, nesting deeper than 8, a bad entry, an unsupported
 *   dtype, a shape that does not match its byte length) or entries that do not tile the data
 *   buffer exactly. Messages give positions and short names, never the header's text.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileLength: number, options: ParseSafetensorsOptions = {}): SafetensorsLayout {
  const headerLength = readSafetensorsHeaderLength(headerBytes, fileLength, options);
  const dataStart = safetensorsLengthFieldBytes + headerLength;
  if (headerBytes.length < dataStart) {
    throw new LevelskipError('INVALID_OPTION', `headerBytes must hold the file's first ${dataStart} bytes (8 + the header length), got ${headerBytes.length}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes.subarray(safetensorsLengthFieldBytes, dataStart));
  } catch (error) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', 'Corrupt safetensors file: the header is not valid UTF-8 JSON (invalid UTF-8)', { cause: error });
  }
  let header: unknown;
  try {
    header = parseStrictJson(text, { maxDepth: maxHeaderDepth });
  } catch (error) {
    const reason = error instanceof StrictJsonError ? error.message : 'it could not be parsed';
    throw new LevelskipError('CHECKPOINT_CORRUPT', `Corrupt safetensors file: the header is not valid UTF-8 JSON: ${reason} of the header`, { cause: error });
  }
  if (!isPlainObject(header)) throw corrupt('the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');

  const dataLength = fileLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === metadataKey) metadata = parseMetadata(raw);
    else entries.push(parseEntry(name, raw, dataLength));
  }
  return { headerLength, dataStart, dataLength, metadata, entries: checkCoverage(entries, dataLength) };
}

/**
 * Index of the first NaN or ±Infinity in `data`, or -1 when every value is finite.
 *
 * One pass of plain sums: a NaN or an infinity makes every later partial sum non-finite (∞ + x = ∞,
 * ∞ − ∞ = NaN), so a finite total proves every value finite. Four independent partial sums keep
 * the adds from waiting on each other (~0.5 ns a value, 3× a simple loop). A non-finite total
 * (or a finite sum that overflowed, which weights never come near) is followed by an exact scan.
 */
export function findNonFinite(data: Float32Array): number {
  const n = data.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += data[i]!;
    s1 += data[i + 1]!;
    s2 += data[i + 2]!;
    s3 += data[i + 3]!;
  }
  for (; i < n; i++) s0 += data[i]!;
  if (Number.isFinite(s0 + s1 + s2 + s3)) return -1;
  for (let j = 0; j < n; j++) {
    const x = data[j]!;
    if (x - x !== 0) return j;
  }
  return -1;
}

function nonFiniteError(name: string, value: number, index: number): LevelskipError {
  const what = Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity';
  return new LevelskipError(
    'CHECKPOINT_CORRUPT',
    `tensor ${quoteName(name)} holds ${what} at index ${index} (flat, row-major): the weights are damaged, or training diverged before this save; ` +
      'restore the file or load an earlier checkpoint',
  );
}

/**
 * Throws when `data` holds a NaN or an infinity.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming the tensor, the value and its first index.
 */
export function checkTensorFinite(name: string, data: Float32Array): void {
  const index = findNonFinite(data);
  if (index >= 0) throw nonFiniteError(name, data[index]!, index);
}

export interface DecodeSafetensorsOptions {
  /**
   * Throw `CHECKPOINT_CORRUPT` on a NaN or an infinity, naming the tensor and the first bad index
   * (default false: safetensors stores any float; model weights are never meant to be non-finite).
   * Checked in the decoding pass for F16/BF16 and in one more pass over the copied floats for F32.
   */
  readonly rejectNonFinite?: boolean;
}

/**
 * Decodes one tensor's bytes, widening F16/BF16 to float32.
 *
 * @param entry The tensor's entry from `parseSafetensorsHeader`.
 * @param bytes Exactly that tensor's bytes: the file's `[dataStart + begin, dataStart + end)`.
 * @throws LevelskipError `INVALID_OPTION` when `bytes` is not `end − begin` long.
 */
export function decodeSafetensorsTensor(entry: SafetensorsEntry, bytes: Uint8Array, options: DecodeSafetensorsOptions = {}): Float32Array {
  if (bytes.length !== entry.end - entry.begin) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `tensor ${quoteName(entry.name)} spans ${entry.end - entry.begin} bytes, but ${bytes.length} bytes were given; pass exactly the file's [dataStart + begin, dataStart + end)`,
    );
  }
  const count = bytes.length / dtypeSizes[entry.dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(count);
  // Non-zero when a half's exponent bits are all ones (NaN or ±∞): adding 1 to the field carries into bit 15.
  let nonFinite = 0;
  if (entry.dtype === 'F32') {
    // The file is little-endian: on a little-endian host (every platform Node and browsers run on
    // in practice) the bytes are the float32s, copied whole; otherwise read one by one.
    if (littleEndianHost) new Uint8Array(data.buffer).set(bytes);
    else for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    if (options.rejectNonFinite === true) checkTensorFinite(entry.name, data);
    return data;
  }
  if (entry.dtype === 'F16') {
    // DataView reads are little-endian regardless of the platform and need no alignment.
    const table = float16DecodeTable();
    for (let i = 0; i < count; i++) {
      const half = view.getUint16(2 * i, true);
      data[i] = table[half]!;
      nonFinite |= (half & 0x7c00) + 0x0400;
    }
  } else {
    // bfloat16 is the top half of a float32: write the widened bit patterns directly.
    const bits = new Uint32Array(data.buffer);
    for (let i = 0; i < count; i++) {
      const half = view.getUint16(2 * i, true);
      bits[i] = half << 16;
      nonFinite |= (half & 0x7f80) + 0x0080;
    }
  }
  if ((nonFinite & 0x8000) !== 0 && options.rejectNonFinite === true) checkTensorFinite(entry.name, data);
  return data;
}

/**
 * Parses a safetensors file held in memory: `parseSafetensorsHeader`, then
 * `decodeSafetensorsTensor` for each tensor.
 *
 * @param bytes The whole file.
 * @returns Every tensor widened to float32, and the `__metadata__` map.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming the problem (and the tensor) for any malformed
 *   file: truncation, an oversized or invalid header, duplicate tensor names, an unsupported dtype,
 *   a shape that does not match its byte length, overlapping tensors or bytes that belong to no tensor.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): ParsedSafetensors {
  const layout = parseSafetensorsHeader(bytes, bytes.length, options);
  const tensors = new Map<string, HostTensor>();
  for (const entry of layout.entries) {
    const start = layout.dataStart + entry.begin;
    tensors.set(entry.name, { shape: entry.shape, data: decodeSafetensorsTensor(entry, bytes.subarray(start, start + entry.end - entry.begin)) });
  }
  return { tensors, metadata: layout.metadata };
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
