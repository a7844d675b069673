/**
 * Hostile checkpoint files (issue 21, items 6, 7, 9, 11 and 12): a header validated before its
 * data is read, duplicate names, a manifest dtype that disagrees with the weights, deep nesting,
 * messages that never quote a file's contents, and non-finite weights.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeSafetensorsTensor,
  defaultMaxSafetensorsHeaderBytes,
  findNonFinite,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  serializeSafetensors,
} from '../../src/checkpoint/safetensors.js';
import { checkWeightsFinite, parseCheckpoint, readCheckpointManifest, serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { isLevelskipError, type LevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import type { HostTensor } from '../../src/backend/tensor-ops.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';
import { levelskipErrorOf } from '../../src/testing/errors.js';

/** The CHECKPOINT_CORRUPT error (or `code`) that `run` throws. */
const caught = (run: () => unknown, code: LevelskipErrorCode = 'CHECKPOINT_CORRUPT'): LevelskipError => levelskipErrorOf(run, code);

/** u64 little-endian. */
function u64(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((n >> (8n * i)) & 0xffn));
  return out;
}

/** A file from a header text (its UTF-8 length is the length field) and data bytes. */
function file(header: string, data: readonly number[] = []): Uint8Array {
  const headerBytes = new TextEncoder().encode(header);
  return new Uint8Array([...u64(BigInt(headerBytes.length)), ...headerBytes, ...data]);
}

const four = [0, 0, 0x80, 0x3f]; // 1.0f little-endian
const spec = tinySpec();

function checkpointFiles(dtype: 'F32' | 'F16' | 'BF16' = 'F32', weights: Map<string, HostTensor> = deterministicWeights(spec)) {
  return serializeCheckpoint({ spec, weights, dtype });
}

describe('parseSafetensorsHeader: a header checked before any data is read (item 7)', () => {
  const tensors = new Map<string, HostTensor>([
    ['b', { shape: [2], data: new Float32Array([0.5, -2]) }],
    ['a', { shape: [1, 3], data: new Float32Array([1, 2, 3]) }],
  ]);

  it('validates the header and its coverage against the file length from the header bytes alone', () => {
    const bytes = serializeSafetensors(tensors, { metadata: { format: 'pt' } });
    const headerLength = readSafetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);
    const layout = parseSafetensorsHeader(bytes.slice(0, 8 + headerLength), bytes.length);
    expect(layout.headerLength).toBe(headerLength);
    expect(layout.dataStart).toBe(8 + headerLength);
    expect(layout.dataLength).toBe(20);
    expect(layout.metadata).toEqual({ format: 'pt' });
    // Data-buffer order (the writer lays tensors out by name).
    expect(layout.entries).toEqual([
      { name: 'a', dtype: 'F32', shape: [1, 3], begin: 0, end: 12 },
      { name: 'b', dtype: 'F32', shape: [2], begin: 12, end: 20 },
    ]);
    // One tensor at a time, from exactly its bytes.
    for (const entry of layout.entries) {
      const data = decodeSafetensorsTensor(entry, bytes.subarray(layout.dataStart + entry.begin, layout.dataStart + entry.end));
      expect(data).toEqual(tensors.get(entry.name)!.data);
    }
  });

  it('refuses a file length that does not match the header, before reading the data', () => {
    const bytes = serializeSafetensors(tensors);
    const header = bytes.slice(0, bytes.length - 20);
    expect(caught(() => parseSafetensorsHeader(header, bytes.length - 4)).message).toMatch(/extend beyond the 16-byte data buffer/);
    expect(caught(() => parseSafetensorsHeader(header, bytes.length + 4)).message).toMatch(/bytes \[20, 24\) at the end of the data buffer belong to no tensor/);
  });

  it('bounds the header at 16 MiB by default, from the first 8 bytes', () => {
    expect(defaultMaxSafetensorsHeaderBytes).toBe(16 * 1024 * 1024);
    const prefix = new Uint8Array(u64(20_000_000n));
    expect(caught(() => readSafetensorsHeaderLength(prefix, 40_000_000)).message).toMatch(/header length 20000000 exceeds the limit of 16777216 bytes/);
    expect(readSafetensorsHeaderLength(prefix, 40_000_000, { maxHeaderBytes: 30_000_000 })).toBe(20_000_000);
  });

  it('decodeSafetensorsTensor refuses a byte range of the wrong length', () => {
    const entry = { name: 'a', dtype: 'F32', shape: [2], begin: 0, end: 8 } as const;
    expect(caught(() => decodeSafetensorsTensor(entry, new Uint8Array(4)), 'INVALID_OPTION').message).toMatch(/spans 8 bytes, but 4 bytes were given/);
  });
});

describe('duplicate names and a manifest dtype that disagrees with the weights (item 12)', () => {
  const entry = (begin: number) => `{"dtype":"F32","shape":[1],"data_offsets":[${begin},${begin + 4}]}`;

  it('refuses duplicate tensor names in a safetensors header', () => {
    const message = caught(() => parseSafetensors(file(`{"a":${entry(0)},"a":${entry(4)}}`, [...four, ...four]))).message;
    expect(message).toMatch(/duplicate key "a"/);
    expect(message).toMatch(/line 1, column \d+/);
  });

  it('refuses duplicates spelled with different escapes ("a" and "\\u0061")', () => {
    expect(caught(() => parseSafetensors(file(`{"a":${entry(0)},"\\u0061":${entry(4)}}`, [...four, ...four]))).message).toMatch(/duplicate key "a"/);
  });

  it('refuses duplicate fields inside an entry and in __metadata__', () => {
    expect(caught(() => parseSafetensors(file('{"a":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four))).message).toMatch(
      /duplicate key "dtype"/,
    );
    expect(caught(() => parseSafetensors(file(`{"__metadata__":{"k":"1","k":"2"},"a":${entry(0)}}`, four))).message).toMatch(/duplicate key "k"/);
  });

  it('refuses duplicate keys in model.json', () => {
    const { manifest } = checkpointFiles();
    const doubled = manifest.replace('"dtype": "F32"', '"dtype": "F16", "dtype": "F32"');
    expect(doubled).not.toBe(manifest);
    expect(caught(() => readCheckpointManifest(doubled, 'run/model.json')).message).toMatch(/^run\/model\.json is not valid JSON \(duplicate key "dtype"/);
    const specDoubled = manifest.replace('"imageSize": 8', '"imageSize": 8, "imag\\u0065Size": 16');
    expect(specDoubled).not.toBe(manifest);
    expect(caught(() => readCheckpointManifest(specDoubled)).message).toMatch(/duplicate key "imageSize"/);
  });

  it.each([
    ['F16', 'F32'],
    ['F32', 'BF16'],
    ['BF16', 'F16'],
  ] as const)('refuses weights stored as %s under a manifest that records %s', (stored, recorded) => {
    const { manifest, weights } = checkpointFiles(stored);
    const edited = manifest.replace(`"dtype": "${stored}"`, `"dtype": "${recorded}"`);
    expect(edited).not.toBe(manifest);
    const message = caught(() => parseCheckpoint(edited, weights, { weights: 'run/model.safetensors' })).message;
    expect(message).toMatch(new RegExp(`^run/model\\.safetensors: tensor "[^"]+" is stored as ${stored}, but model\\.json records dtype ${recorded}`));
  });
});

describe('deep nesting gives a clean error, never a stack overflow (item 9)', () => {
  const deep = (depth: number, inner = '1'): string => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

  it('a 100,000-deep shape array in a safetensors header', () => {
    const message = caught(() => parseSafetensors(file(`{"a":{"dtype":"F32","shape":${deep(100_000)},"data_offsets":[0,4]}}`, four))).message;
    expect(message).toMatch(/nesting deeper than 8 levels/);
  });

  it('a 100,000-deep value anywhere in model.json', () => {
    const { manifest } = checkpointFiles();
    const inShape = manifest.replace('"channelMults": [', `"channelMults": [${deep(100_000)}, `);
    expect(caught(() => readCheckpointManifest(inShape)).message).toMatch(/nesting deeper than 64 levels/);
    const inTraining = manifest.replace('{', `{"training": {"loss": ${deep(100_000)}},`);
    expect(caught(() => readCheckpointManifest(inTraining)).message).toMatch(/nesting deeper than 64 levels/);
    expect(caught(() => readCheckpointManifest(deep(100_000, '{}'))).message).toMatch(/nesting deeper than 64 levels/);
  });

  it('moderate nesting in the training metadata still loads', () => {
    const { manifest, weights } = checkpointFiles();
    // Under a key the training record does not know (known keys have types; see training-record.ts).
    const nested = manifest.replace('{', `{"training": {"notes": ${deep(40)}},`);
    expect(parseCheckpoint(nested, weights).manifest.training).toHaveProperty('notes');
  });
});

describe("error messages never quote a file's contents (item 11)", () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';
  const secret = 'hunter2-SECRET-TOKEN-0123456789abcdef';

  it('model.json holding /etc/passwd-like text', () => {
    const { weights } = checkpointFiles();
    const message = caught(() => parseCheckpoint(passwd, weights, { manifest: '/ckpt/model.json' })).message;
    expect(message).toMatch(/^\/ckpt\/model\.json is not valid JSON \(.* at line 1, column 1 \(character 0\)\)/);
    for (const fragment of ['root', 'x:0', 'bash', 'daemon']) expect(message).not.toContain(fragment);
  });

  it('a safetensors header holding garbage text', () => {
    const message = caught(() => parseSafetensors(file(passwd, []))).message;
    expect(message).toMatch(/header is not valid UTF-8 JSON: .* at line 1, column 1 \(character 0\)/);
    for (const fragment of ['root', 'x:0', 'bash', 'daemon']) expect(message).not.toContain(fragment);
    // Valid JSON prefix, garbage later: still a position only.
    const later = caught(() => parseSafetensors(file(`{"a": ${secret}}`, []))).message;
    expect(later).toMatch(/line 1, column 7 \(character 6\)/);
    expect(later).not.toContain('hunter2');
  });

  it('field values from the file are described, not quoted', () => {
    const { manifest, weights } = checkpointFiles();
    const format = manifest.replace('"levelskip-checkpoint"', JSON.stringify(secret.repeat(20)));
    expect(caught(() => readCheckpointManifest(format)).message).not.toContain('hunter2');
    const dtype = caught(() => parseSafetensors(file(`{"a":{"dtype":${JSON.stringify(secret)},"shape":[1],"data_offsets":[0,4]}}`, four))).message;
    expect(dtype).toMatch(/unsupported dtype a string of 37 characters/);
    expect(dtype).not.toContain('hunter2');
    const shape = caught(() => parseSafetensors(file(`{"a":{"dtype":"F32","shape":[${JSON.stringify(secret)}],"data_offsets":[0,4]}}`, four))).message;
    expect(shape).not.toContain('hunter2');
    const offsets = caught(() => parseSafetensors(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":${JSON.stringify(secret)}}}`, four))).message;
    expect(offsets).not.toContain('hunter2');
    const metadata = caught(() => parseSafetensors(file(`{"__metadata__":{"k":[${JSON.stringify(secret)}]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four))).message;
    expect(metadata).not.toContain('hunter2');
    expect(parseCheckpoint(manifest, weights).spec).toEqual(spec);
  });

  it('a long unknown key in the spec is shortened', () => {
    const { manifest } = checkpointFiles();
    const key = `x${secret.repeat(10)}`;
    const error = caught(() => readCheckpointManifest(manifest.replace('"imageSize": 8', `"imageSize": 8, ${JSON.stringify(key)}: 1`)), 'INVALID_SPEC');
    expect(error.message).toMatch(/Unrecognized key: "xhunter2.*\.\.\. \(371 characters\)/);
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('non-finite weights are refused at load (item 6)', () => {
  const cases = [
    ['F32', Number.NaN, 'NaN'],
    ['F32', Infinity, '\\+Infinity'],
    ['F16', -Infinity, '-Infinity'],
    ['BF16', Number.NaN, 'NaN'],
  ] as const;

  it.each(cases)('%s weights holding %s name the tensor and the first bad index', (dtype, value, label) => {
    const weights = deterministicWeights(spec);
    const name = 'down_blocks.1.resnets.0.conv1.weight';
    const tensor = weights.get(name)!;
    tensor.data[17] = value;
    tensor.data[40] = value;
    const files = checkpointFiles(dtype, weights);
    const message = caught(() => parseCheckpoint(files.manifest, files.weights, { weights: 'ckpt/model.safetensors' })).message;
    expect(message).toMatch(new RegExp(`^ckpt/model\\.safetensors: tensor "down_blocks\\.1\\.resnets\\.0\\.conv1\\.weight" holds ${label} at index 17 `));
  });

  it('findNonFinite: a sum that overflows is not mistaken for a non-finite value', () => {
    const big = new Float32Array(9).fill(3.4e38);
    expect(findNonFinite(big)).toBe(-1);
    big[6] = Number.NaN;
    expect(findNonFinite(big)).toBe(6);
    expect(findNonFinite(new Float32Array([1, 2, 3, 4, 5, -Infinity]))).toBe(5);
    expect(findNonFinite(new Float32Array(0))).toBe(-1);
  });

  it('checkWeightsFinite checks weights held in memory (e.g. before saving)', () => {
    const weights = deterministicWeights(spec);
    expect(() => checkWeightsFinite(weights)).not.toThrow();
    weights.get('conv_out.bias')!.data[0] = Number.NaN;
    expect(caught(() => checkWeightsFinite(weights)).message).toMatch(/^tensor "conv_out\.bias" holds NaN at index 0/);
  });

  it('decodeSafetensorsTensor keeps non-finite values unless asked to reject them', () => {
    const entry = { name: 'h', dtype: 'F16', shape: [2], begin: 0, end: 4 } as const;
    const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0x7c]); // 1.0, +Infinity
    expect([...decodeSafetensorsTensor(entry, bytes)]).toEqual([1, Infinity]);
    expect(caught(() => decodeSafetensorsTensor(entry, bytes, { rejectNonFinite: true })).message).toMatch(/tensor "h" holds \+Infinity at index 1/);
  });

  it('finite extremes load', () => {
    const weights = deterministicWeights(spec);
    const data = weights.get('conv_in.weight')!.data;
    data[0] = 3.4028234663852886e38;
    data[1] = -3.4028234663852886e38;
    data[2] = 1.401298464324817e-45;
    data[3] = -0;
    const files = checkpointFiles('F32', weights);
    expect(parseCheckpoint(files.manifest, files.weights).weights.get('conv_in.weight')!.data.subarray(0, 4)).toEqual(data.subarray(0, 4));
  });
});

describe('fuzz: mutations of model.json give only LevelskipErrors (items 9, 11)', () => {
  const { manifest, weights } = checkpointFiles();
  const tokens = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u0061', 'null', '1e400', '-', '0', ' ', '\n', '"spec"', '"dtype"', '[[[[[[[[', '\u0000', '\ud800'];

  const mutation = fc.oneof(
    // Replace a span with a token or random text.
    fc.record({ at: fc.nat(), length: fc.nat({ max: 12 }), text: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 })) }),
    // Duplicate a span elsewhere (duplicate keys, repeated members).
    fc.record({ at: fc.nat(), length: fc.nat({ max: 60 }), to: fc.nat() }),
  );

  function apply(text: string, m: { at: number; length: number; text?: string; to?: number }): string {
    const at = m.at % (text.length + 1);
    if (m.text !== undefined) return text.slice(0, at) + m.text + text.slice(at + m.length);
    const span = text.slice(at, at + m.length);
    const to = (m.to ?? 0) % (text.length + 1);
    return text.slice(0, to) + span + text.slice(to);
  }

  it('never throws anything but a LevelskipError, and never echoes more than short names', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const text = mutations.reduce(apply, manifest);
        try {
          parseCheckpoint(text, weights);
        } catch (error) {
          if (!isLevelskipError(error)) throw error;
          expect(['CHECKPOINT_CORRUPT', 'INVALID_SPEC', 'WEIGHTS_MISMATCH']).toContain(error.code);
          expect(error.message).not.toContain('createdAt":');
        }
      }),
      { numRuns: 3000 },
    );
  });
});
