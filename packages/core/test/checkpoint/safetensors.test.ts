/**
 * safetensors reader/writer against the format's rules (huggingface/safetensors README and the
 * reference implementation's validation). Expected bytes are assembled by hand in each test,
 * independently of the writer; float bit patterns are derived in the comments.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSafetensors, serializeSafetensors, type SafetensorsDtype } from '../../src/checkpoint/safetensors.js';
import { isLevelskipError } from '../../src/errors/levelskip-error.js';
import type { HostTensor } from '../../src/backend/tensor-ops.js';
import { levelskipErrorOf as caught } from '../../src/testing/errors.js';

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

/** u64 little-endian. */
function u64(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((n >> (8n * i)) & 0xffn));
  return out;
}

/** A file from a header text (length field = its UTF-8 length unless given) and data bytes. */
function file(header: string, data: readonly number[], headerLength?: bigint): Uint8Array {
  const headerBytes = new TextEncoder().encode(header);
  return new Uint8Array([...u64(headerLength ?? BigInt(headerBytes.length)), ...headerBytes, ...data]);
}

function corruptMessage(bytes: Uint8Array, options?: { maxHeaderBytes?: number }): string {
  const error = caught(() => parseSafetensors(bytes, options));
  expect(error.code).toBe('CHECKPOINT_CORRUPT');
  return error.message;
}

const tensor = (shape: number[], values: number[]): HostTensor => ({ shape, data: new Float32Array(values) });

describe('parseSafetensors on a hand-built file', () => {
  // 198 header bytes, so the data starts at byte 206: not 4-aligned, which exercises unaligned reads.
  const header =
    '{"__metadata__":{"source":"hand"},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"b":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},' +
    '"c":{"dtype":"BF16","shape":[],"data_offsets":[12,14]}}';
  const data = [
    ...[0x00, 0x00, 0x80, 0x3f], // F32 1.0 = 0x3F800000, little-endian
    ...[0x00, 0x00, 0x20, 0xc0], // F32 -2.5 = 0xC0200000 (sign, exponent 128, mantissa .01)
    ...[0x00, 0x38], // F16 0.5 = 0x3800 (exponent 14)
    ...[0x00, 0xfc], // F16 -inf = 0xFC00
    ...[0x40, 0x40], // BF16 3.0 = 0x4040 (float32 0x40400000)
  ];

  it('reads tensors, shapes, dtypes and metadata', () => {
    expect(header.length).toBe(198);
    const { tensors, metadata } = parseSafetensors(file(header, data));
    expect(metadata).toEqual({ source: 'hand' });
    expect([...tensors.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(tensors.get('a')!.shape).toEqual([2]);
    expect([...tensors.get('a')!.data]).toEqual([1, -2.5]);
    expect(tensors.get('b')!.shape).toEqual([1, 2]);
    expect([...tensors.get('b')!.data]).toEqual([0.5, -Infinity]);
    expect(tensors.get('c')!.shape).toEqual([]);
    expect([...tensors.get('c')!.data]).toEqual([3]);
    for (const t of tensors.values()) expect(t.data).toBeInstanceOf(Float32Array);
  });

  it('reads a view that starts inside a larger buffer (e.g. a pooled Node Buffer)', () => {
    const bytes = file(header, data);
    const backing = new Uint8Array(bytes.length + 7);
    backing.set(bytes, 3);
    const { tensors } = parseSafetensors(backing.subarray(3, 3 + bytes.length));
    expect([...tensors.get('a')!.data]).toEqual([1, -2.5]);
  });

  it('accepts a header padded with trailing spaces and no metadata', () => {
    const padded = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ';
    const { tensors, metadata } = parseSafetensors(file(padded, [0x00, 0x00, 0x80, 0xbf])); // -1.0 = 0xBF800000
    expect(metadata).toEqual({});
    expect([...tensors.get('x')!.data]).toEqual([-1]);
  });
});

describe('serializeSafetensors writes the exact bytes of the format', () => {
  it('one F32 tensor', () => {
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes, padded to 56
    expect(header.length).toBe(54);
    const expected = [
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...ascii(header),
      ...ascii('  '),
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0 = 0xC0000000
    ];
    const bytes = serializeSafetensors(new Map([['w', tensor([2], [1, -2])]]));
    expect([...bytes]).toEqual(expected);
  });

  it('F16 tensors in name order with metadata first', () => {
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F16","shape":[],"data_offsets":[4,6]}}'; // 139 bytes, padded to 144
    expect(header.length).toBe(139);
    const expected = [
      ...[144, 0, 0, 0, 0, 0, 0, 0],
      ...ascii(header),
      ...ascii('     '),
      ...[0x00, 0x3c], // 1.0 = 0x3C00
      ...[0x00, 0xc0], // -2.0 = 0xC000
      ...[0xff, 0x7b], // 65504 = 0x7BFF
    ];
    // Inserted out of order: the writer sorts.
    const tensors = new Map([
      ['b', tensor([], [65504])],
      ['a', tensor([1, 2], [1, -2])],
    ]);
    const bytes = serializeSafetensors(tensors, { dtype: 'F16', metadata: { format: 'pt' } });
    expect([...bytes]).toEqual(expected);
  });

  it('BF16 data bytes', () => {
    const bytes = serializeSafetensors(new Map([['w', tensor([2], [1, 0.1])]]), { dtype: 'BF16' });
    // 1.0 -> 0x3F80; 0.1 = 0x3DCCCCCD -> 0x3DCD (dropped 0xCCCD rounds up)
    expect([...bytes.subarray(bytes.length - 4)]).toEqual([0x80, 0x3f, 0xcd, 0x3d]);
  });

  it('sorts names by code point, integer-like names included, and keeps the header a multiple of 8', () => {
    const tensors = new Map([
      ['b', tensor([1], [2])],
      ['9', tensor([1], [1])],
      ['a', tensor([1], [3])],
      ['10', tensor([1], [0])],
    ]);
    const bytes = serializeSafetensors(tensors, { metadata: { z: '1', a: '2' } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"2","z":"1"},' +
        '"10":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"9":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}',
    );
    expect(serializeSafetensors(new Map([...tensors].reverse()), { metadata: { a: '2', z: '1' } })).toEqual(bytes);
  });

  it('rejects data that does not match the shape, and a tensor named __metadata__', () => {
    const mismatch = caught(() => serializeSafetensors(new Map([['w', tensor([2, 2], [1, 2, 3])]])));
    expect(mismatch.code).toBe('INVALID_SHAPE');
    expect(mismatch.message).toMatch(/"w".*\[2, 2\].*4 values.*3 data values/);
    expect(caught(() => serializeSafetensors(new Map([['__metadata__', tensor([1], [1])]]))).code).toBe('INVALID_OPTION');
    expect(caught(() => serializeSafetensors(new Map([['w', tensor([-1], [])]]))).code).toBe('INVALID_SHAPE');
  });
});

describe('round trips', () => {
  const specials = [0, -0, 1, -1.5, 3.4028234663852886e38, 1.401298464324817e-45, Infinity, -Infinity, Number.NaN];

  it('F32 is exact, including -0, infinities, NaN, subnormals and empty tensors', () => {
    const tensors = new Map([
      ['special', tensor([specials.length], specials)],
      ['matrix', tensor([2, 3], [0.1, 0.2, 0.3, -4, 5e-8, 6e30])],
      ['empty', tensor([0, 4], [])],
      ['scalar', tensor([], [7])],
    ]);
    const { tensors: back, metadata } = parseSafetensors(serializeSafetensors(tensors, { metadata: { note: 'ünïcode ✓' } }));
    expect(metadata).toEqual({ note: 'ünïcode ✓' });
    expect(back.size).toBe(4);
    for (const [name, t] of tensors) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      expect(back.get(name)!.data).toEqual(t.data); // Float32Array equality: bitwise values, NaN equal to NaN
      expect(Object.is(back.get(name)!.data[1], t.data[1])).toBe(true);
    }
  });

  // Nearest representable values, computed by hand:
  //   F16 (11 significant bits; ulp 2^(e-10) for |x| in [2^e, 2^(e+1)), 2^-24 below 2^-14):
  //     0.1      -> 0x2E66 = 1638/16384 = 0.0999755859375
  //     -3.14159 -> ulp 2^-9: 3.14159 * 512 = 1608.49 -> 1608/512 = 3.140625
  //     1000.7   -> ulp 0.5: 1000.5 (0.2 away, vs 0.3 to 1001)
  //     1e-6     -> subnormal: 1e-6 * 2^24 = 16.78 -> 17 * 2^-24
  //   BF16 (8 significant bits; ulp 2^(e-7)):
  //     0.1      -> ulp 2^-11: 0.1 * 2048 = 204.8 -> 205/2048 = 0.10009765625
  //     -3.14159 -> ulp 2^-6: 3.14159 * 64 = 201.06 -> 201/64 = 3.140625
  //     1000.7   -> ulp 4: 250.18 * 4 -> 1000
  //     1e-6     -> ulp 2^-27: 1e-6 * 2^27 = 134.22 -> 134 * 2^-27
  const input = [0.1, -3.14159, 1000.7, 1e-6];
  const expected: Record<Exclude<SafetensorsDtype, 'F32'>, number[]> = {
    F16: [0.0999755859375, -3.140625, 1000.5, 17 * 2 ** -24],
    BF16: [0.10009765625, -3.140625, 1000, 134 * 2 ** -27],
  };
  it.each(['F16', 'BF16'] as const)('%s rounds to the nearest representable value', (dtype) => {
    const bytes = serializeSafetensors(new Map([['x', tensor([2, 2], input)]]), { dtype });
    const back = parseSafetensors(bytes).tensors.get('x')!;
    expect(back.shape).toEqual([2, 2]);
    expect([...back.data]).toEqual(expected[dtype]);
    // Half the size of F32 data.
    expect(bytes.length - 8 - Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(8);
  });

  it('an empty map is a valid file', () => {
    const { tensors, metadata } = parseSafetensors(serializeSafetensors(new Map()));
    expect(tensors.size).toBe(0);
    expect(metadata).toEqual({});
  });
});

/**
 * Files written by the reference implementation (safetensors 0.8.0, Python), as hex:
 *
 *   from safetensors.torch import save
 *   mixed = save({"conv.weight": torch.tensor([[1.0, -2.5, 0.1], [3.0, -0.0, 65504.0]]),
 *                 "half": torch.tensor([0.5, -3.140625, 1e-6], dtype=torch.float16),
 *                 "brain": torch.tensor([3.0, 0.1], dtype=torch.bfloat16)},
 *                metadata={"format": "pt", "note": "reference"})
 *   f32 = save({"b": torch.tensor([1.0, 2.0]), "a.weight": torch.tensor([[0.25]]), "10": torch.tensor(7.0)}, metadata={"format": "pt"})
 *   f16 = the same tensors .half()
 */
describe('agrees with the reference implementation', () => {
  const fromHex = (hex: string): Uint8Array => new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
  const mixed = fromHex(
    'f0000000000000007b225f5f6d657461646174615f5f223a7b226e6f7465223a227265666572656e6365222c22666f726d6174223a227074227d2c22636f6e762e7765' +
      '69676874223a7b226474797065223a22463332222c227368617065223a5b322c335d2c22646174615f6f666673657473223a5b302c32345d7d2c22627261696e223a' +
      '7b226474797065223a2242463136222c227368617065223a5b325d2c22646174615f6f666673657473223a5b32342c32385d7d2c2268616c66223a7b226474797065' +
      '223a22463136222c227368617065223a5b335d2c22646174615f6f666673657473223a5b32382c33345d7d7d20202020200000803f000020c0cdcccc3d0000404000' +
      '00008000e07f474040cd3d003848c21100',
  );
  const f32 = fromHex(
    'd0000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c223130223a7b226474797065223a22463332222c227368617065' +
      '223a5b5d2c22646174615f6f666673657473223a5b302c345d7d2c22612e776569676874223a7b226474797065223a22463332222c227368617065223a5b312c315d' +
      '2c22646174615f6f666673657473223a5b342c385d7d2c2262223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473' +
      '223a5b382c31365d7d7d202020202020200000e0400000803e0000803f00000040',
  );
  const f16 = fromHex(
    'c8000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c223130223a7b226474797065223a22463136222c227368617065' +
      '223a5b5d2c22646174615f6f666673657473223a5b302c325d7d2c22612e776569676874223a7b226474797065223a22463136222c227368617065223a5b312c315d' +
      '2c22646174615f6f666673657473223a5b322c345d7d2c2262223a7b226474797065223a22463136222c227368617065223a5b325d2c22646174615f6f666673657473' +
      '223a5b342c385d7d7d00470034003c0040',
  );

  it('reads a mixed-dtype file it wrote', () => {
    const { tensors, metadata } = parseSafetensors(mixed);
    expect(metadata).toEqual({ format: 'pt', note: 'reference' });
    expect(tensors.get('conv.weight')!.shape).toEqual([2, 3]);
    expect([...tensors.get('conv.weight')!.data]).toEqual([1, -2.5, Math.fround(0.1), 3, -0, 65504]);
    expect(Object.is(tensors.get('conv.weight')!.data[4], -0)).toBe(true);
    // Nearest F16 / BF16 values as derived in the round-trip tests above.
    expect([...tensors.get('half')!.data]).toEqual([0.5, -3.140625, 17 * 2 ** -24]);
    expect([...tensors.get('brain')!.data]).toEqual([3, 0.10009765625]);
  });

  it.each([
    ['F32', f32],
    ['F16', f16],
  ] as const)('writes the same bytes as the reference (%s)', (dtype, expected) => {
    const tensors = new Map([
      ['b', tensor([2], [1, 2])],
      ['a.weight', tensor([1, 1], [0.25])],
      ['10', tensor([], [7])],
    ]);
    expect(serializeSafetensors(tensors, { dtype, metadata: { format: 'pt' } })).toEqual(expected);
  });
});

describe('parseSafetensors rejects malformed files with CHECKPOINT_CORRUPT', () => {
  const entry = (dtype: unknown, shape: unknown, offsets: unknown): string => JSON.stringify({ dtype, shape, data_offsets: offsets });
  const one = (dtype: unknown, shape: unknown, offsets: unknown): string => `{"t":${entry(dtype, shape, offsets)}}`;
  const four = [0, 0, 0x80, 0x3f];

  it('a file shorter than the length field', () => {
    expect(corruptMessage(new Uint8Array([1, 0, 0, 0, 0]))).toMatch(/5 bytes, fewer than the 8-byte header length/);
    expect(corruptMessage(new Uint8Array([]))).toMatch(/0 bytes/);
  });

  it('a header length beyond the file (truncated file)', () => {
    expect(corruptMessage(file('{}', [], 100n))).toMatch(/header length 100 exceeds the 2 bytes that follow/);
  });

  it('a huge header length (2^60, 2^64 - 1) before allocating anything', () => {
    expect(corruptMessage(file('{}', [], 2n ** 60n))).toMatch(/header length 1152921504606846976 exceeds the limit of 16777216 bytes/);
    expect(corruptMessage(file('{}', [], 2n ** 64n - 1n))).toMatch(/exceeds the limit/);
  });

  it('a header longer than maxHeaderBytes', () => {
    const bytes = file(one('F32', [1], [0, 4]), four);
    expect(parseSafetensors(bytes, { maxHeaderBytes: 1000 }).tensors.size).toBe(1);
    expect(corruptMessage(bytes, { maxHeaderBytes: 16 })).toMatch(/exceeds the limit of 16 bytes/);
  });

  it('a header that is not JSON, not UTF-8, or not an object', () => {
    expect(corruptMessage(file('{"t": {', []))).toMatch(/header is not valid UTF-8 JSON/);
    expect(corruptMessage(new Uint8Array([...u64(2n), 0xff, 0xfe]))).toMatch(/header is not valid UTF-8 JSON/);
    expect(corruptMessage(file('[1,2]', []))).toMatch(/header must be a JSON object/);
    expect(corruptMessage(file('null', []))).toMatch(/header must be a JSON object/);
  });

  it('an entry missing fields or with wrong types', () => {
    expect(corruptMessage(file('{"t":{"shape":[1],"data_offsets":[0,4]}}', four))).toMatch(/tensor "t": header entry is missing dtype/);
    expect(corruptMessage(file('{"t":{"dtype":"F32"}}', four))).toMatch(/tensor "t": header entry is missing shape, data_offsets/);
    expect(corruptMessage(file('{"t":[1]}', four))).toMatch(/tensor "t": header entry must be an object/);
    expect(corruptMessage(file(one(5, [1], [0, 4]), four))).toMatch(/tensor "t": dtype must be a string/);
    expect(corruptMessage(file(one('F32', '1', [0, 4]), four))).toMatch(/tensor "t": shape must be an array/);
  });

  it('an unsupported dtype, naming the supported ones', () => {
    const message = corruptMessage(file(one('I64', [1], [0, 8]), [...four, ...four]));
    expect(message).toMatch(/tensor "t": unsupported dtype "I64"/);
    expect(message).toMatch(/F32, F16, BF16/);
  });

  it('negative or non-integer dimensions', () => {
    expect(corruptMessage(file(one('F32', [-1], [0, 4]), four))).toMatch(/tensor "t": shape \[-1\] has invalid dimension -1/);
    expect(corruptMessage(file(one('F32', [1.5], [0, 4]), four))).toMatch(/invalid dimension 1.5/);
    expect(corruptMessage(file(one('F32', [null], [0, 4]), four))).toMatch(/invalid dimension null/);
  });

  it('data_offsets that are not [begin, end] with begin <= end', () => {
    expect(corruptMessage(file(one('F32', [1], [0]), four))).toMatch(/tensor "t": data_offsets must be \[begin, end\]/);
    expect(corruptMessage(file(one('F32', [1], [0, 4, 8]), four))).toMatch(/data_offsets must be \[begin, end\]/);
    expect(corruptMessage(file(one('F32', [1], [-4, 0]), four))).toMatch(/data_offsets must be \[begin, end\]/);
    expect(corruptMessage(file(one('F32', [1], [0, '4']), four))).toMatch(/data_offsets must be \[begin, end\]/);
    expect(corruptMessage(file(one('F32', [1], [4, 0]), four))).toMatch(/tensor "t": data_offsets \[4, 0\] has begin > end/);
  });

  it('offsets beyond the buffer', () => {
    expect(corruptMessage(file(one('F32', [2], [0, 8]), four))).toMatch(/tensor "t": data_offsets \[0, 8\] extend beyond the 4-byte data buffer/);
  });

  it('a byte length that is not product(shape) * dtype size', () => {
    expect(corruptMessage(file(one('F32', [2], [0, 4]), four))).toMatch(/tensor "t": shape \[2\] of F32 needs 8 bytes, but data_offsets \[0, 4\] span 4/);
    expect(corruptMessage(file(one('F16', [1], [0, 4]), four))).toMatch(/shape \[1\] of F16 needs 2 bytes/);
    // Dimensions whose product overflows doubles must not wrap around to a match.
    expect(corruptMessage(file(one('F32', [2 ** 52, 2 ** 52, 1], [0, 4]), four))).toMatch(/needs more bytes than the file holds/);
  });

  it('overlapping tensors, naming both', () => {
    const header = `{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [2], [4, 12])}}`;
    expect(corruptMessage(file(header, [...four, ...four, ...four]))).toMatch(/tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/);
    // Same range twice (e.g. two names for one tensor).
    const twice = `{"a":${entry('F32', [1], [0, 4])},"b":${entry('F32', [1], [0, 4])}}`;
    expect(corruptMessage(file(twice, four))).toMatch(/overlap/);
  });

  it('holes: bytes between tensors or after the last one', () => {
    const hole = `{"a":${entry('F32', [1], [0, 4])},"b":${entry('F32', [1], [8, 12])}}`;
    expect(corruptMessage(file(hole, [...four, ...four, ...four]))).toMatch(/bytes \[4, 8\) .* before tensor "b" belong to no tensor \(a hole\)/);
    expect(corruptMessage(file(one('F32', [1], [4, 8]), [...four, ...four]))).toMatch(/bytes \[0, 4\) .* before tensor "t"/);
    expect(corruptMessage(file(one('F32', [1], [0, 4]), [...four, 0]))).toMatch(/bytes \[4, 5\) at the end of the data buffer belong to no tensor/);
    expect(corruptMessage(file('{}', [0]))).toMatch(/bytes \[0, 1\) at the end/);
  });

  it('metadata that is not a map of strings', () => {
    expect(corruptMessage(file('{"__metadata__":{"epoch":1}}', []))).toMatch(/"__metadata__" value of "epoch" must be a string/);
    expect(corruptMessage(file('{"__metadata__":"x"}', []))).toMatch(/"__metadata__" must be an object/);
  });
});

describe('fuzzing: malformed input only ever raises CHECKPOINT_CORRUPT', () => {
  const valid = serializeSafetensors(
    new Map([
      ['a.weight', tensor([2, 3], [1, 2, 3, 4, 5, 6])],
      ['a.bias', tensor([2], [-1, 1])],
      ['b', tensor([], [0.5])],
    ]),
    { dtype: 'F16', metadata: { format: 'pt' } },
  );

  function parsesOrCorrupt(bytes: Uint8Array): void {
    try {
      parseSafetensors(bytes);
    } catch (error) {
      if (!isLevelskipError(error) || error.code !== 'CHECKPOINT_CORRUPT') throw error;
    }
  }

  it('random byte mutations and truncations of a valid file', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.option(fc.nat({ max: valid.length }), { nil: undefined }),
        (mutations, truncateAt) => {
          const bytes = valid.slice(0, truncateAt ?? valid.length);
          for (const [index, value] of mutations) if (index < bytes.length) bytes[index] = value;
          parsesOrCorrupt(bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random headers with random data', () => {
    const dimension = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.double(), fc.constant(2 ** 60), fc.string());
    const tensorEntry = fc.oneof(
      fc.record(
        {
          dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'f32', ''), fc.integer()),
          shape: fc.oneof(fc.array(dimension, { maxLength: 4 }), fc.jsonValue()),
          data_offsets: fc.oneof(fc.array(fc.integer({ min: -4, max: 40 }), { maxLength: 3 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const header = fc.oneof(
      fc.dictionary(fc.oneof(fc.string(), fc.constant('__metadata__')), fc.oneof(tensorEntry, fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue()))), {
        maxKeys: 5,
      }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 40 }), (h, data) => {
        parsesOrCorrupt(file(JSON.stringify(h) ?? '', [...data]));
      }),
      { numRuns: 1000 },
    );
  });

  it('random length fields and random bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 64 }), (length, rest) => {
        parsesOrCorrupt(new Uint8Array([...u64(length), ...rest]));
      }),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => parsesOrCorrupt(bytes)));
  });
});
