/**
 * A minimal, strict reader of zip archives held in memory, for the files `torch.save` writes
 * (PKWARE APPNOTE 6.3.10; PyTorch's `PyTorchStreamWriter` uses miniz):
 *
 *   [local header 30 B + name + extra][data][data descriptor]   one per record, data aligned to 64 B
 *   [central directory: 46 B + name + extra + comment per record]
 *   [zip64 end-of-central-directory record 56 B][zip64 locator 20 B]   (torch always writes these)
 *   [end-of-central-directory record 22 B + comment]
 *
 * The central directory is authoritative (torch's local headers carry zero sizes and CRCs, with
 * the real values in a data descriptor). Only what such files need is accepted: one disk, stored
 * (uncompressed) entries, zip64 sizes and offsets. Everything else is refused by name: encryption,
 * compression, split archives, names that escape the archive or repeat, entries whose bytes leave
 * the file or overlap another entry or the directory. Every offset is bounded before it is read,
 * so any byte string gives either a directory or a `LevelskipError`.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { crc32 } from './crc32.js';

/** One stored record of a zip archive: where its bytes lie in the file. */
export interface ZipEntry {
  /** The record's name, e.g. `archive/data.pkl`. */
  readonly name: string;
  /** File offset of the record's first data byte. */
  readonly dataStart: number;
  /** The record's length in bytes (stored, so compressed and uncompressed sizes agree). */
  readonly size: number;
  /** The CRC-32 the central directory records for the data. */
  readonly crc32: number;
}

/** The validated directory of a zip archive. */
export interface ZipDirectory {
  /** Every record, in central-directory order. */
  readonly entries: readonly ZipEntry[];
  /** The same records by name. */
  readonly byName: ReadonlyMap<string, ZipEntry>;
}

const localHeaderSignature = 0x04034b50;
const centralHeaderSignature = 0x02014b50;
const endSignature = 0x06054b50;
const zip64EndSignature = 0x06064b50;
const zip64LocatorSignature = 0x07064b50;

const localHeaderBytes = 30;
const centralHeaderBytes = 46;
const endRecordBytes = 22;
const zip64EndRecordBytes = 56;
const zip64LocatorBytes = 20;
const maxCommentBytes = 0xffff;
const zip64ExtraId = 0x0001;

/** General-purpose flag bits (APPNOTE 4.4.4). */
const flagEncrypted = 1 << 0;
const flagStrongEncryption = 1 << 6;
const flagUtf8 = 1 << 11;
const flagMaskedHeaders = 1 << 13;

function corrupt(message: string): LevelskipError {
  return new LevelskipError('CHECKPOINT_CORRUPT', `not a valid zip archive: ${message}`);
}

function unsupported(message: string): LevelskipError {
  return new LevelskipError('UNSUPPORTED', message);
}

/** A record name for an error message: quoted when short and printable, otherwise described. */
export function describeZipName(name: string): string {
  return /^[\x20-\x7e]{1,120}$/.test(name) ? JSON.stringify(name) : `a name of ${name.length} characters`;
}

/** Reads an unsigned 64-bit field as a number, refusing values beyond 2^53 (no file is that large). */
function readUint64(view: DataView, at: number, field: string): number {
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  if (high >= 2 ** 21) throw corrupt(`${field} ${BigInt(high) * 2n ** 32n + BigInt(low)} is beyond any file size`);
  return high * 2 ** 32 + low;
}

/** Finds the end-of-central-directory record: the last signature whose comment ends exactly at the end of the file. */
function findEndRecord(bytes: Uint8Array, view: DataView): number {
  const last = bytes.length - endRecordBytes;
  const first = Math.max(0, last - maxCommentBytes);
  for (let at = last; at >= first; at--) {
    if (bytes[at] !== 0x50 || view.getUint32(at, true) !== endSignature) continue;
    if (at + endRecordBytes + view.getUint16(at + 20, true) === bytes.length) return at;
  }
  throw corrupt(`no end-of-central-directory record in the last ${bytes.length - first} bytes (not a zip file, or a truncated one)`);
}

interface EndOfDirectory {
  readonly entryCount: number;
  readonly directoryStart: number;
  readonly directorySize: number;
  /** Where the directory must end: the zip64 record when there is one, else the end record. */
  readonly directoryLimit: number;
}

/** A field of the classic end record must equal its zip64 counterpart unless it holds the "see zip64" sentinel. */
function agree(classic: number, sentinel: number, zip64: number, field: string): void {
  if (classic !== sentinel && classic !== zip64) {
    throw corrupt(`the end-of-central-directory record gives ${field} ${classic}, its zip64 record ${zip64}`);
  }
}

function readEndOfDirectory(bytes: Uint8Array, view: DataView): EndOfDirectory {
  const end = findEndRecord(bytes, view);
  const disk = view.getUint16(end + 4, true);
  const directoryDisk = view.getUint16(end + 6, true);
  const entriesOnDisk = view.getUint16(end + 8, true);
  const entryCount = view.getUint16(end + 10, true);
  const directorySize = view.getUint32(end + 12, true);
  const directoryStart = view.getUint32(end + 16, true);

  const locator = end - zip64LocatorBytes;
  if (locator < 0 || view.getUint32(locator, true) !== zip64LocatorSignature) {
    if (disk !== 0 || directoryDisk !== 0 || entriesOnDisk !== entryCount) {
      throw unsupported('split (multi-disk) zip archives are not supported; join the parts into one file');
    }
    return { entryCount, directoryStart, directorySize, directoryLimit: end };
  }
  // Zip64 (APPNOTE 4.3.14-15): the locator points at the zip64 end record, which holds 64-bit values.
  const locatorDisk = view.getUint32(locator + 4, true);
  const zip64End = readUint64(view, locator + 8, 'the zip64 end record offset');
  const totalDisks = view.getUint32(locator + 16, true);
  if (locatorDisk !== 0 || totalDisks !== 1) throw unsupported('split (multi-disk) zip archives are not supported; join the parts into one file');
  if (zip64End + zip64EndRecordBytes > locator) throw corrupt(`the zip64 end record offset ${zip64End} leaves no room for the record before its locator`);
  if (view.getUint32(zip64End, true) !== zip64EndSignature) throw corrupt(`no zip64 end-of-central-directory record at offset ${zip64End}`);
  const recordSize = readUint64(view, zip64End + 4, 'the zip64 end record size');
  if (recordSize < zip64EndRecordBytes - 12 || zip64End + 12 + recordSize > locator) {
    throw corrupt(`the zip64 end record claims ${recordSize} bytes, which do not fit before its locator`);
  }
  const disk64 = view.getUint32(zip64End + 16, true);
  const directoryDisk64 = view.getUint32(zip64End + 20, true);
  const entriesOnDisk64 = readUint64(view, zip64End + 24, 'the zip64 entry count');
  const entryCount64 = readUint64(view, zip64End + 32, 'the zip64 entry count');
  const directorySize64 = readUint64(view, zip64End + 40, 'the zip64 central directory size');
  const directoryStart64 = readUint64(view, zip64End + 48, 'the zip64 central directory offset');
  if (disk64 !== 0 || directoryDisk64 !== 0 || entriesOnDisk64 !== entryCount64) {
    throw unsupported('split (multi-disk) zip archives are not supported; join the parts into one file');
  }
  agree(disk, 0xffff, disk64, 'disk number');
  agree(directoryDisk, 0xffff, directoryDisk64, 'directory disk');
  agree(entryCount, 0xffff, entryCount64, 'entry count');
  agree(directorySize, 0xffffffff, directorySize64, 'central directory size');
  agree(directoryStart, 0xffffffff, directoryStart64, 'central directory offset');
  return { entryCount: entryCount64, directoryStart: directoryStart64, directorySize: directorySize64, directoryLimit: zip64End };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(raw: Uint8Array, flags: number, index: number): string {
  if (raw.length === 0) throw corrupt(`entry ${index} has an empty name`);
  let name: string;
  if ((flags & flagUtf8) !== 0) {
    try {
      name = utf8.decode(raw);
    } catch {
      throw corrupt(`entry ${index} is flagged UTF-8 but its name is not valid UTF-8`);
    }
  } else {
    // Without the UTF-8 flag names are CP437; torch writes ASCII, so only ASCII is read.
    if (raw.some((b) => b >= 0x80)) throw corrupt(`entry ${index} has a non-ASCII name without the UTF-8 flag`);
    name = utf8.decode(raw);
  }
  const segments = name.split('/');
  if (
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    /^[A-Za-z]:/.test(name) ||
    segments.some((segment, i) => segment === '..' || segment === '.' || (segment === '' && i < segments.length - 1))
  ) {
    throw corrupt(`entry ${index} has the name ${describeZipName(name)}, which is absolute, has empty, "." or ".." segments or a backslash (it would escape the archive)`);
  }
  return name;
}

interface Zip64Fields {
  size: number;
  compressedSize: number;
  localOffset: number;
  disk: number;
}

/** Applies the zip64 extra field (APPNOTE 4.5.3): 64-bit values for exactly the fields set to the 0xFFFFFFFF sentinel, in this order. */
function readExtraFields(view: DataView, start: number, length: number, fields: Zip64Fields, name: string): void {
  let at = start;
  const end = start + length;
  let seenZip64 = false;
  while (at < end) {
    if (at + 4 > end) throw corrupt(`entry ${describeZipName(name)}: its extra field ends inside a field header`);
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    const body = at + 4;
    if (body + size > end) throw corrupt(`entry ${describeZipName(name)}: extra field 0x${id.toString(16)} of ${size} bytes runs past the extra data`);
    if (id === zip64ExtraId) {
      if (seenZip64) throw corrupt(`entry ${describeZipName(name)} has two zip64 extra fields`);
      seenZip64 = true;
      let cursor = body;
      const take = (field: string): number => {
        if (cursor + 8 > body + size) throw corrupt(`entry ${describeZipName(name)}: its zip64 extra field is too short for the ${field}`);
        const value = readUint64(view, cursor, `entry ${describeZipName(name)}: the zip64 ${field}`);
        cursor += 8;
        return value;
      };
      if (fields.size === 0xffffffff) fields.size = take('size');
      if (fields.compressedSize === 0xffffffff) fields.compressedSize = take('compressed size');
      if (fields.localOffset === 0xffffffff) fields.localOffset = take('local header offset');
      if (fields.disk === 0xffff) {
        if (cursor + 4 > body + size) throw corrupt(`entry ${describeZipName(name)}: its zip64 extra field is too short for the disk number`);
        fields.disk = view.getUint32(cursor, true);
      }
    }
    at = body + size;
  }
}

interface RawEntry extends ZipEntry {
  readonly localOffset: number;
  readonly dataEnd: number;
}

/**
 * Reads and validates the central directory of a zip archive held in memory, and each entry's
 * local header.
 *
 * @param bytes The whole archive.
 * @returns Every record with its data range; nothing is decompressed or checksummed yet.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a truncated or malformed archive (missing or
 *   inconsistent end records, a directory or data range outside the file, overlapping entries,
 *   mismatched local headers, duplicate or escaping names); `UNSUPPORTED` for encrypted or
 *   compressed entries and split archives.
 */
export function readZipDirectory(bytes: Uint8Array): ZipDirectory {
  if (bytes.length < endRecordBytes) throw corrupt(`the file has ${bytes.length} bytes, fewer than the 22-byte end record (truncated or empty file)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { entryCount, directoryStart, directorySize, directoryLimit } = readEndOfDirectory(bytes, view);
  const directoryEnd = directoryStart + directorySize;
  if (directoryEnd > directoryLimit) {
    throw corrupt(`the central directory [${directoryStart}, ${directoryEnd}) runs past offset ${directoryLimit}, where the end records start (truncated file?)`);
  }
  if (entryCount > directorySize / centralHeaderBytes) {
    throw corrupt(`${entryCount} entries cannot fit in a central directory of ${directorySize} bytes`);
  }

  const entries: RawEntry[] = [];
  const byName = new Map<string, RawEntry>();
  let at = directoryStart;
  for (let index = 0; index < entryCount; index++) {
    if (at + centralHeaderBytes > directoryEnd) throw corrupt(`central directory entry ${index} runs past the directory's end`);
    if (view.getUint32(at, true) !== centralHeaderSignature) throw corrupt(`no central directory entry ${index} at offset ${at}`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const next = at + centralHeaderBytes + nameLength + extraLength + commentLength;
    if (next > directoryEnd) throw corrupt(`central directory entry ${index} (name, extra field, comment) runs past the directory's end`);
    const rawName = bytes.subarray(at + centralHeaderBytes, at + centralHeaderBytes + nameLength);
    const name = decodeName(rawName, flags, index);
    const fields: Zip64Fields = {
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      disk: view.getUint16(at + 34, true),
      localOffset: view.getUint32(at + 42, true),
    };
    readExtraFields(view, at + centralHeaderBytes + nameLength, extraLength, fields, name);
    const label = `entry ${describeZipName(name)}`;
    if ((flags & (flagEncrypted | flagStrongEncryption | flagMaskedHeaders)) !== 0) {
      throw unsupported(`zip ${label} is encrypted; torch.save never encrypts, so decrypt the archive (or re-save the weights) first`);
    }
    if (method !== 0) {
      throw unsupported(
        `zip ${label} is ${method === 8 ? 'deflate-compressed' : `compressed with method ${method}`}; torch.save stores its records uncompressed, ` +
          'so this archive was repacked by another tool: unpack it and re-zip it without compression (zip -0), or re-save it with torch.save',
      );
    }
    if (fields.disk !== 0) throw unsupported('split (multi-disk) zip archives are not supported; join the parts into one file');
    if (fields.compressedSize !== fields.size) throw corrupt(`stored ${label} has compressed size ${fields.compressedSize} but size ${fields.size}`);
    if (byName.has(name)) throw corrupt(`the name ${describeZipName(name)} appears twice in the central directory`);

    // The local header must agree with the directory on the name and the method.
    const local = fields.localOffset;
    if (local + localHeaderBytes > directoryStart) throw corrupt(`${label}: its local header offset ${local} is not before the central directory`);
    if (view.getUint32(local, true) !== localHeaderSignature) throw corrupt(`${label}: no local file header at offset ${local}`);
    const localFlags = view.getUint16(local + 6, true);
    const localMethod = view.getUint16(local + 8, true);
    const localNameLength = view.getUint16(local + 26, true);
    const localExtraLength = view.getUint16(local + 28, true);
    const dataStart = local + localHeaderBytes + localNameLength + localExtraLength;
    const dataEnd = dataStart + fields.size;
    if (dataEnd > directoryStart) {
      throw corrupt(`${label}: its ${fields.size} data bytes from offset ${dataStart} run into the central directory at ${directoryStart} (truncated file?)`);
    }
    const localName = bytes.subarray(local + localHeaderBytes, local + localHeaderBytes + localNameLength);
    if (localNameLength !== nameLength || !localName.every((b, i) => b === rawName[i])) {
      throw corrupt(`${label}: the local header at offset ${local} names a different record`);
    }
    if (localMethod !== method || (localFlags & flagEncrypted) !== 0) {
      throw corrupt(`${label}: the local header at offset ${local} disagrees with the central directory on compression or encryption`);
    }
    const entry: RawEntry = { name, dataStart, size: fields.size, crc32: crc, localOffset: local, dataEnd };
    entries.push(entry);
    byName.set(name, entry);
    at = next;
  }
  if (at !== directoryEnd) throw corrupt(`${directoryEnd - at} bytes of the central directory follow its last entry`);

  // No two records may share bytes: sorted by position, each must end before the next begins.
  const sorted = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const entry = sorted[i]!;
    if (entry.localOffset < previous.dataEnd) {
      throw corrupt(`entries ${describeZipName(previous.name)} and ${describeZipName(entry.name)} overlap (bytes ${entry.localOffset} to ${previous.dataEnd - 1})`);
    }
  }
  const publicEntries: ZipEntry[] = entries.map(({ name, dataStart, size, crc32: crc }) => ({ name, dataStart, size, crc32: crc }));
  return { entries: publicEntries, byName: new Map(publicEntries.map((entry) => [entry.name, entry])) };
}

/**
 * The bytes of one stored record (a view into `bytes`, not a copy).
 *
 * @param verifyChecksum Compare the data's CRC-32 with the directory's (default true).
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when the checksum differs.
 */
export function zipEntryBytes(bytes: Uint8Array, entry: ZipEntry, verifyChecksum = true): Uint8Array {
  const data = bytes.subarray(entry.dataStart, entry.dataStart + entry.size);
  if (verifyChecksum) {
    const actual = crc32(data);
    if (actual !== entry.crc32) {
      throw new LevelskipError(
        'CHECKPOINT_CORRUPT',
        `zip entry ${describeZipName(entry.name)} fails its CRC-32 check (stored 0x${entry.crc32.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')}): the file is damaged; download or copy it again`,
      );
    }
  }
  return data;
}
