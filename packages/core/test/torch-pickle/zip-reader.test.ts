/**
 * The zip reader against Python's zipfile listing of archives torch wrote (expected.json), and
 * against archives built by the test's own writer (zip-builder.ts, CRCs from zlib) for every
 * variant it must refuse. Layout rules from PKWARE's APPNOTE 6.3.10.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from '../../src/checkpoint/torch-pickle/crc32.js';
import { readZipDirectory, zipEntryBytes } from '../../src/checkpoint/torch-pickle/zip-reader.js';
import { buildZip, referenceCrc32, type ZipBuildEntry } from './zip-builder.js';
import { levelskipErrorOf as caught } from '../../src/testing/errors.js';

const fixtures = new URL('../fixtures/torch-bin/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, fixtures)));
const listing = (JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as { zip: Record<string, { name: string; size: number; crc: number }[]> }).zip;

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const two: ZipBuildEntry[] = [
  { name: 'a/data.pkl', data: text('first record') },
  { name: 'a/data/0', data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
];

describe('crc32', () => {
  it('has the standard check value: CRC-32("123456789") = 0xCBF43926', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib on any bytes, whole or continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const at = cut % (bytes.length + 1);
        expect(crc32(bytes)).toBe(referenceCrc32(bytes));
        expect(crc32(bytes.subarray(at), crc32(bytes.subarray(0, at)))).toBe(referenceCrc32(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

describe('readZipDirectory reads what torch and the test writer write', () => {
  it.each(Object.keys(listing))('%s: the names, sizes and CRCs Python\'s zipfile lists', (file) => {
    const bytes = fixture(file);
    const directory = readZipDirectory(bytes);
    expect(directory.entries.map(({ name, size, crc32: crc }) => ({ name, size, crc }))).toEqual(
      listing[file]!.map(({ name, size, crc }) => ({ name, size, crc })),
    );
    for (const entry of directory.entries) expect(() => zipEntryBytes(bytes, entry)).not.toThrow();
    // torch aligns record data to 64 bytes.
    expect(directory.entries.every((entry) => entry.dataStart % 64 === 0)).toBe(true);
  });

  it('returns each record\'s bytes, with or without the zip64 end records, with a comment, with zip64 extra fields', () => {
    for (const options of [{}, { zip64End: false }, { comment: text('PK\x05\x06 a comment that looks like an end record') }]) {
      for (const zip64Extra of [false, true]) {
        const bytes = buildZip(two.map((entry) => ({ ...entry, zip64Extra })), options);
        const directory = readZipDirectory(bytes);
        expect(directory.entries.map((entry) => entry.name)).toEqual(['a/data.pkl', 'a/data/0']);
        expect(new TextDecoder().decode(zipEntryBytes(bytes, directory.byName.get('a/data.pkl')!))).toBe('first record');
        expect(Array.from(zipEntryBytes(bytes, directory.byName.get('a/data/0')!))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      }
    }
  });
});

describe('readZipDirectory refuses', () => {
  const corruptCases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /the file has 0 bytes, fewer than the 22-byte end record/],
    ['a file without an end record', () => new Uint8Array(100), /no end-of-central-directory record in the last 100 bytes/],
    ['a truncated archive', () => buildZip(two).subarray(0, 150), /no end-of-central-directory record/],
    ['an archive with its start cut off', () => buildZip(two, { zip64End: false }).subarray(64), /central directory \[.*\) runs past offset|no central directory entry|no local file header/],
    ['a name escaping the archive ("../")', () => buildZip([{ name: 'a/../../etc/passwd', data: text('x') }]), /entry 0 has the name "a\/..\/..\/etc\/passwd", which is absolute/],
    ['an absolute name', () => buildZip([{ name: '/etc/passwd', data: text('x') }]), /which is absolute/],
    ['a backslash name', () => buildZip([{ name: 'a\\..\\b', data: text('x') }]), /a backslash/],
    ['a drive-letter name', () => buildZip([{ name: 'C:/x', data: text('x') }]), /which is absolute/],
    ['an empty segment', () => buildZip([{ name: 'a//b', data: text('x') }]), /empty, "\." or "\.\." segments/],
    ['a duplicate name', () => buildZip([two[0]!, { ...two[1]!, name: 'a/data.pkl' }]), /the name "a\/data\.pkl" appears twice/],
    ['a local header naming another record', () => buildZip([{ ...two[0]!, localName: 'a/data.pkx' }]), /the local header at offset 0 names a different record/],
    ['a size beyond the file', () => buildZip([{ ...two[0]!, declaredSize: 10_000 }]), /its 10000 data bytes from offset 64 run into the central directory/],
    ['a zip64 size beyond the file', () => buildZip([{ ...two[0]!, declaredSize: 2 ** 40, zip64Extra: true }]), /its 1099511627776 data bytes/],
    ['a local header offset past the data', () => buildZip([{ ...two[0]!, declaredOffset: 5000 }]), /its local header offset 5000 is not before the central directory/],
    ['an offset that is no local header', () => buildZip([{ ...two[0]!, declaredOffset: 10 }]), /no local file header at offset 10/],
    ['overlapping entries', () => buildZip([{ ...two[0]!, declaredSize: 30 }, two[1]!]), /entries "a\/data\.pkl" and "a\/data\/0" overlap/],
    ['a non-UTF-8 name', () => buildZip([{ name: 'a/\udcff', data: text('x'), flags: 0 }]), /non-ASCII name without the UTF-8 flag/],
  ];
  it.each(corruptCases)('%s (CHECKPOINT_CORRUPT)', (_, make, message) => {
    const error = caught(() => readZipDirectory(make()));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(message);
  });

  const unsupportedCases: [string, () => Uint8Array, RegExp][] = [
    ['an encrypted entry', () => buildZip([{ ...two[0]!, flags: 0x0801 }]), /zip entry "a\/data\.pkl" is encrypted/],
    ['strong encryption', () => buildZip([{ ...two[0]!, flags: 0x0840 }]), /is encrypted/],
    ['a deflated entry', () => buildZip([{ ...two[0]!, method: 8 }]), /is deflate-compressed; torch\.save stores its records uncompressed/],
    ['another method', () => buildZip([{ ...two[0]!, method: 14 }]), /is compressed with method 14/],
    ['a split archive', () => buildZip(two, { disk: 1 }), /split \(multi-disk\) zip archives are not supported/],
    ['a split archive without zip64 records', () => buildZip(two, { disk: 1, zip64End: false }), /split \(multi-disk\)/],
  ];
  it.each(unsupportedCases)('%s (UNSUPPORTED)', (_, make, message) => {
    const error = caught(() => readZipDirectory(make()));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(message);
  });

  it('end records that disagree, and counts that cannot fit', () => {
    const bytes = buildZip(two);
    const end = bytes.length - 22;
    const view = new DataView(bytes.buffer);
    const edited = (at: number, value: number, width: 2 | 4): Uint8Array => {
      const copy = bytes.slice();
      if (width === 2) new DataView(copy.buffer).setUint16(at, value, true);
      else new DataView(copy.buffer).setUint32(at, value, true);
      return copy;
    };
    expect(view.getUint16(end + 10, true)).toBe(2);
    expect(caught(() => readZipDirectory(edited(end + 10, 3, 2))).message).toMatch(/the end-of-central-directory record gives entry count 3, its zip64 record 2/);
    expect(readZipDirectory(edited(end + 10, 0xffff, 2)).entries.length).toBe(2); // the sentinel defers to zip64
    const classic = buildZip(two, { zip64End: false });
    const classicEnd = classic.length - 22;
    const many = classic.slice();
    new DataView(many.buffer).setUint16(classicEnd + 8, 500, true);
    new DataView(many.buffer).setUint16(classicEnd + 10, 500, true);
    expect(caught(() => readZipDirectory(many)).message).toMatch(/500 entries cannot fit in a central directory of \d+ bytes/);
    const fewer = classic.slice();
    new DataView(fewer.buffer).setUint16(classicEnd + 8, 1, true);
    new DataView(fewer.buffer).setUint16(classicEnd + 10, 1, true);
    expect(caught(() => readZipDirectory(fewer)).message).toMatch(/bytes of the central directory follow its last entry/);
  });

  it('zipEntryBytes checks the CRC-32', () => {
    const bytes = buildZip([{ ...two[0]!, crc: 0x12345678 }]);
    const entry = readZipDirectory(bytes).entries[0]!;
    expect(caught(() => zipEntryBytes(bytes, entry)).message).toMatch(/fails its CRC-32 check \(stored 0x12345678, computed 0x[0-9a-f]{8}\)/);
    expect(new TextDecoder().decode(zipEntryBytes(bytes, entry, false))).toBe('first record');
  });
});
