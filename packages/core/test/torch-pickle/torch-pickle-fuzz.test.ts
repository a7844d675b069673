/**
 * Fuzzing readTorchStateDict, as the safetensors reader is fuzzed: random bytes, mutated real
 * torch files (byte edits, truncations, spliced spans, length-field edits), mutated pickles
 * repacked with valid CRCs (so the mutations reach the unpickler), and random opcode programs
 * built from the tokens a state dict uses. Whatever the input, the reader returns tensors whose
 * data matches their shape, within the output bound, or throws a LevelskipError with code
 * CHECKPOINT_CORRUPT or UNSUPPORTED; never another exception.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readTorchStateDict, type ReadTorchStateDictOptions } from '../../src/checkpoint/torch-pickle/read-torch-state-dict.js';
import { readZipDirectory, zipEntryBytes } from '../../src/checkpoint/torch-pickle/zip-reader.js';
import { isLevelskipError } from '../../src/errors/levelskip-error.js';
import { binunicode, buildZip, bytesOf, u32, type ZipBuildEntry } from './zip-builder.js';

const fixtures = new URL('../fixtures/torch-bin/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, fixtures)));

/** Reads, and checks the outcome is either consistent tensors or an allowed LevelskipError. */
function readChecked(bytes: Uint8Array, options: ReadTorchStateDictOptions = {}): void {
  try {
    const tensors = readTorchStateDict(bytes, { ...options, rejectNonFinite: options.rejectNonFinite ?? false });
    let total = 0;
    for (const tensor of tensors.values()) {
      expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
      total += tensor.data.length;
    }
    expect(total).toBeLessThanOrEqual(2 * bytes.length + 1024);
  } catch (error) {
    if (!isLevelskipError(error)) throw error;
    expect(['CHECKPOINT_CORRUPT', 'UNSUPPORTED']).toContain(error.code);
  }
}

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'field'; at: number; width: 2 | 4 | 8; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 60 }), to: fc.nat() }),
  fc.record({
    kind: fc.constant('field' as const),
    at: fc.nat(),
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    // Length-field values a mutation should try: small, off by one, sentinels, huge.
    value: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0xffff, 0xffffffff, 0x7fffffff, 2 ** 32, 2 ** 53 - 1)),
  }),
);

/** Applies one mutation; `positions` (if given) picks where edits land, e.g. the zip structure. */
function apply(bytes: Uint8Array, m: Mutation, positions?: readonly number[]): Uint8Array {
  const n = bytes.length;
  const pick = (i: number): number => (positions !== undefined && positions.length > 0 ? positions[i % positions.length]! : i % (n + 1));
  switch (m.kind) {
    case 'set': {
      const out = bytes.slice();
      if (n > 0) out[pick(m.at) % n] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.at % (n + 1));
    case 'delete': {
      const at = pick(m.at);
      return bytesOf(bytes.subarray(0, at), bytes.subarray(at + m.length));
    }
    case 'duplicate': {
      const at = m.at % (n + 1);
      const to = pick(m.to);
      return bytesOf(bytes.subarray(0, to), bytes.subarray(at, at + m.length), bytes.subarray(to));
    }
    case 'field': {
      const out = bytes.slice();
      const at = pick(m.at);
      if (at + m.width > n) return out;
      const view = new DataView(out.buffer);
      if (m.width === 2) view.setUint16(at, m.value & 0xffff, true);
      else if (m.width === 4) view.setUint32(at, m.value >>> 0, true);
      else view.setBigUint64(at, BigInt(m.value), true);
      return out;
    }
  }
}

/** Offsets of the zip structure (headers and end records), where length fields live. */
function structureOffsets(bytes: Uint8Array): number[] {
  const directory = readZipDirectory(bytes);
  const last = directory.entries[directory.entries.length - 1]!;
  const offsets: number[] = [];
  for (let at = last.dataStart + last.size; at < bytes.length; at++) offsets.push(at);
  for (const entry of directory.entries) {
    // The local header and name before each record's data (the padding field is skipped: it is up to 64 bytes of "Z").
    for (let at = Math.max(0, entry.dataStart - 128); at < entry.dataStart; at++) offsets.push(at);
  }
  return offsets;
}

describe('fuzz: readTorchStateDict only ever throws LevelskipErrors', () => {
  const valid = fixture('state-dict.bin');
  const structure = structureOffsets(valid);

  it('random bytes, bare and behind a zip signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, signed) => {
        readChecked(signed ? bytesOf([0x50, 0x4b, 0x03, 0x04], bytes) : bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes ending in an end record whose fields point into them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 320 }), fc.nat({ max: 320 }), fc.nat({ max: 12 }), (body, offset, size, count) => {
        const end = new Uint8Array(22);
        const view = new DataView(end.buffer);
        view.setUint32(0, 0x06054b50, true);
        view.setUint16(8, count, true);
        view.setUint16(10, count, true);
        view.setUint32(12, size, true);
        view.setUint32(16, offset, true);
        readChecked(bytesOf([0x50, 0x4b, 0x03, 0x04], body, end));
      }),
      { numRuns: 300 },
    );
  });

  it('mutations of a real torch file anywhere, with and without CRC checks', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutations, verifyChecksums) => {
        readChecked(
          mutations.reduce((bytes, m) => apply(bytes, m), valid),
          { verifyChecksums },
        );
      }),
      { numRuns: 500 },
    );
  });

  it('length-field edits in the zip structure (headers, directory, end records)', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        readChecked(
          mutations.reduce((bytes, m) => apply(bytes, m, structure), valid),
          { verifyChecksums: false },
        );
      }),
      { numRuns: 500 },
    );
  });

  describe('mutated pickles repacked with valid CRCs, so every mutation reaches the unpickler', () => {
    const directory = readZipDirectory(valid);
    const pickle = zipEntryBytes(valid, directory.byName.get('state-dict/data.pkl')!);
    const others: ZipBuildEntry[] = directory.entries
      .filter((entry) => entry.name !== 'state-dict/data.pkl')
      .map((entry) => ({ name: entry.name, data: zipEntryBytes(valid, entry) }));
    const repack = (data: Uint8Array): Uint8Array => buildZip([{ name: 'state-dict/data.pkl', data }, ...others]);

    it('the unmutated repack reads (so the mutations start from a valid file)', () => {
      expect(readTorchStateDict(repack(pickle)).size).toBe(14);
    });

    it('byte edits, deletions and duplicated spans of data.pkl', () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
          readChecked(repack(mutations.reduce((bytes, m) => apply(bytes, m), pickle)));
        }),
        { numRuns: 500 },
      );
    });

    it('random programs of state-dict opcodes and arguments', () => {
      const tokens = [
        '(', 't', ')', 'R', 'Q', 'b', 'u', 's', 'a', 'e', ']', '}', 'N', '.', '0', '1', 0x85, 0x86, 0x87, 0x88, 0x89, 0x94,
        'ccollections\nOrderedDict\n', 'ctorch._utils\n_rebuild_tensor_v2\n', 'ctorch._utils\n_rebuild_parameter\n',
        'ctorch\nFloatStorage\n', 'ctorch\nHalfStorage\n', 'ctorch\nBFloat16Storage\n', 'ctorch\nLongStorage\n', 'cos\nsystem\n',
      ].map((t) => bytesOf(t));
      const token = fc.oneof(
        fc.constantFrom(...tokens),
        fc.constantFrom('storage', 'cpu', '0', '1', '2', '12', 'w', '').map(binunicode),
        fc.integer({ min: 0, max: 255 }).map((n) => bytesOf('K', n)),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => bytesOf('J', new Uint8Array(new Int32Array([n]).buffer))),
        fc.integer({ min: 0, max: 12 }).map((n) => bytesOf('h', n)),
        fc.integer({ min: 0, max: 12 }).map((n) => bytesOf('q', n)),
        fc.integer({ min: 0, max: 12 }).map((n) => bytesOf('j', u32(n))),
      );
      fc.assert(
        fc.property(fc.array(token, { maxLength: 60 }), (program) => {
          readChecked(repack(bytesOf(0x80, 2, ...program, '.')));
        }),
        { numRuns: 600 },
      );
    });
  });
});
