/**
 * A small zip writer for tests: builds archives laid out like torch.save's (stored entries,
 * data aligned to 64 bytes, zip64 end records), with knobs to produce each malformed variant the
 * reader must refuse. Its CRC comes from Node's zlib, independent of the reader's own.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

export interface ZipBuildEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Compression method written in both headers (default 0, stored; the data is not compressed). */
  readonly method?: number;
  /** General-purpose flags in both headers (default 0x0800, UTF-8 names). */
  readonly flags?: number;
  /** CRC-32 written to the directory (default: the real one). */
  readonly crc?: number;
  /** Name written to the local header (default: `name`). */
  readonly localName?: string;
  /** Write sizes and offset as 0xFFFFFFFF with a zip64 extra field holding the real values. */
  readonly zip64Extra?: boolean;
  /** Size written to the directory (default: data length). */
  readonly declaredSize?: number;
  /** Local header offset written to the directory (default: the real one). */
  readonly declaredOffset?: number;
}

export interface ZipBuildOptions {
  /** Write the zip64 end record and locator, as torch does (default true). */
  readonly zip64End?: boolean;
  /** Disk number in the end records (default 0). */
  readonly disk?: number;
  /** Archive comment (default none). */
  readonly comment?: Uint8Array;
  /** Data alignment (default 64, like torch's writer). */
  readonly alignment?: number;
}

const encoder = new TextEncoder();

/** CRC-32 from zlib, independent of the code under test. */
export function referenceCrc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}

/** Builds a zip archive. */
export function buildZip(entries: readonly ZipBuildEntry[], options: ZipBuildOptions = {}): Uint8Array {
  const alignment = options.alignment ?? 64;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    offset += bytes.length;
  };
  const central: Uint8Array[] = [];
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const localName = encoder.encode(entry.localName ?? entry.name);
    const flags = entry.flags ?? 0x0800;
    const method = entry.method ?? 0;
    const crc = entry.crc ?? referenceCrc32(entry.data);
    const headerOffset = offset;
    // Local header, padded with an extra field so the data starts on the alignment (torch's "FB" padding).
    const unpadded = headerOffset + 30 + localName.length;
    const padding = alignment > 1 ? (alignment - ((unpadded + 4) % alignment)) % alignment : 0;
    const localExtra = alignment > 1 ? new Uint8Array(4 + padding) : new Uint8Array(0);
    if (alignment > 1) {
      new DataView(localExtra.buffer).setUint16(0, 0x4246, true);
      new DataView(localExtra.buffer).setUint16(2, padding, true);
      localExtra.fill(0x5a, 4);
    }
    const local = new Uint8Array(30 + localName.length + localExtra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, entry.data.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, localName.length, true);
    lv.setUint16(28, localExtra.length, true);
    local.set(localName, 30);
    local.set(localExtra, 30 + localName.length);
    push(local);
    push(entry.data);

    const size = entry.declaredSize ?? entry.data.length;
    const localOffset = entry.declaredOffset ?? headerOffset;
    const extra = entry.zip64Extra === true ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (entry.zip64Extra === true) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 0x0001, true);
      ev.setUint16(2, 24, true);
      ev.setBigUint64(4, BigInt(size), true);
      ev.setBigUint64(12, BigInt(size), true);
      ev.setBigUint64(20, BigInt(localOffset), true);
    }
    const record = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(record.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 0x031e, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, entry.zip64Extra === true ? 0xffffffff : size, true);
    cv.setUint32(24, entry.zip64Extra === true ? 0xffffffff : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, entry.zip64Extra === true ? 0xffffffff : localOffset, true);
    record.set(name, 46);
    record.set(extra, 46 + name.length);
    central.push(record);
  }
  const directoryStart = offset;
  for (const record of central) push(record);
  const directorySize = offset - directoryStart;
  const disk = options.disk ?? 0;
  if (options.zip64End ?? true) {
    const zip64End = offset;
    const record = new Uint8Array(56);
    const v = new DataView(record.buffer);
    v.setUint32(0, 0x06064b50, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, 0x031e, true);
    v.setUint16(14, 45, true);
    v.setUint32(16, disk, true);
    v.setUint32(20, disk, true);
    v.setBigUint64(24, BigInt(entries.length), true);
    v.setBigUint64(32, BigInt(entries.length), true);
    v.setBigUint64(40, BigInt(directorySize), true);
    v.setBigUint64(48, BigInt(directoryStart), true);
    push(record);
    const locator = new Uint8Array(20);
    const lv = new DataView(locator.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(zip64End), true);
    lv.setUint32(16, 1, true);
    push(locator);
  }
  const comment = options.comment ?? new Uint8Array(0);
  const end = new Uint8Array(22 + comment.length);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(4, disk, true);
  ev.setUint16(6, disk, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directorySize, true);
  ev.setUint32(16, directoryStart, true);
  ev.setUint16(20, comment.length, true);
  end.set(comment, 22);
  push(end);

  const out = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Concatenates byte arrays and numbers (single bytes) into a pickle or any other byte string. */
export function bytesOf(...parts: (Uint8Array | string | number | readonly number[])[]): Uint8Array {
  const pieces = parts.map((part) =>
    typeof part === 'string' ? encoder.encode(part) : typeof part === 'number' ? new Uint8Array([part]) : part instanceof Uint8Array ? part : new Uint8Array(part),
  );
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** Little-endian u32 bytes. */
export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** Pickle opcodes for a BINUNICODE string. */
export function binunicode(text: string): Uint8Array {
  const data = encoder.encode(text);
  return bytesOf('X', u32(data.length), data);
}

/** Little-endian float32 bytes. */
export function float32Bytes(values: readonly number[], littleEndian = true): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, littleEndian));
  return out;
}
