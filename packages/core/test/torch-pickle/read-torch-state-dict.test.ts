/**
 * readTorchStateDict against files torch 1.13 wrote (scripts/dev/torch-bin-fixtures.py): the
 * expected values are torch's own `tensor.float().contiguous().flatten().tolist()`, written next to
 * the files, so every number here comes from torch. Variants torch would not write (big-endian
 * archives, views outside their storage, ...) are assembled opcode by opcode, with values derived
 * by hand in the comments.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTorchZipFile, readTorchStateDict } from '../../src/index.js';
import { readZipDirectory } from '../../src/checkpoint/torch-pickle/zip-reader.js';
import { stateDictPickle, torchArchive } from './torch-archive-builder.js';
import { binunicode, bytesOf, float32Bytes } from './zip-builder.js';
import { levelskipErrorOf as caught } from '../../src/testing/errors.js';

const fixtures = new URL('../fixtures/torch-bin/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, fixtures)));

interface ExpectedTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly stride: number[];
  readonly storage_offset: number;
  readonly values: number[];
}
const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as {
  torch: string;
  files: Record<string, Record<string, ExpectedTensor>>;
};

describe('files written by torch.save (torch 1.13) read exactly as torch reads them', () => {
  it.each(['state-dict.bin', 'module-state-dict.bin', 'protocol4.bin'])('%s: every tensor, name order, shape and value', (file) => {
    const want = expected.files[file]!;
    const tensors = readTorchStateDict(fixture(file), { source: file });
    expect([...tensors.keys()]).toEqual(Object.keys(want));
    for (const [name, tensor] of tensors) {
      expect(tensor.shape, name).toEqual(want[name]!.shape);
      expect(tensor.data).toBeInstanceOf(Float32Array);
      // Exact: float16/bfloat16 widen exactly, and toEqual tells -0 from +0.
      expect(Array.from(tensor.data), name).toEqual(want[name]!.values);
    }
  });

  it('the fixture covers the forms the reader must handle (so the test above cannot pass vacuously)', () => {
    const want = expected.files['state-dict.bin']!;
    const dtypes = new Set(Object.values(want).map((t) => t.dtype));
    expect(dtypes).toEqual(new Set(['float32', 'float16', 'bfloat16']));
    // A transpose, a strided half view, a permuted bfloat16 view, a stride-0 broadcast, an offset view, a 0-d and an empty tensor.
    expect(want['transposed']!.stride).toEqual([1, 4]);
    expect(want['half.every_other']!.stride).toEqual([6, 2]);
    expect(want['bf16.permuted']!.stride).toEqual([1, 12, 4]);
    expect(want['expanded']!.stride).toEqual([0, 1]);
    expect(want['shared.tail']!.storage_offset).toBe(3);
    expect(want['scalar']!.shape).toEqual([]);
    expect(want['empty']!.shape).toEqual([0, 5]);
    // Extremes survive widening: half max and smallest subnormal, -0, bfloat16 near max.
    expect(want['half.weight']!.values.slice(0, 3)).toEqual([65504, 2 ** -24, -0]);
    expect(want['bf16.weight']!.values[0]).toBe(3.3895313892515355e38);
    // The two files put their records under different top folders (the file's stem, and "archive").
    expect(readZipDirectory(fixture('state-dict.bin')).entries[0]!.name).toBe('state-dict/data.pkl');
    expect(readZipDirectory(fixture('module-state-dict.bin')).entries[0]!.name).toBe('archive/data.pkl');
  });

  it('views of one storage stay consistent with each other (shared storage, tied weights)', () => {
    const tensors = readTorchStateDict(fixture('state-dict.bin'));
    const head = tensors.get('shared.head')!.data;
    const tail = tensors.get('shared.tail')!.data;
    expect(head[3]).toBe(tail[0]); // both are storage element 3
    expect(Array.from(tensors.get('tied')!.data)).toEqual(Array.from(tensors.get('conv.bias')!.data));
    // Each name gets its own copy: changing one does not change the other.
    tensors.get('tied')!.data[0] = 42;
    expect(tensors.get('conv.bias')!.data[0]).not.toBe(42);
  });

  it('isTorchZipFile sniffs the zip signature', () => {
    expect(isTorchZipFile(fixture('state-dict.bin'))).toBe(true);
    expect(isTorchZipFile(fixture('legacy.bin'))).toBe(false);
    expect(isTorchZipFile(new Uint8Array([0x50, 0x4b]))).toBe(false);
  });

  it('reads a file held in a view that starts inside a larger buffer', () => {
    const bytes = fixture('protocol4.bin');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const tensors = readTorchStateDict(padded.subarray(3));
    expect(Array.from(tensors.get('a')!.data)).toEqual(expected.files['protocol4.bin']!['a']!.values);
  });
});

describe('what is refused, each with a message that says why and what to do', () => {
  it.each([
    ['hostile-os-system.bin', /pickle byte 2: the pickle names the Python global os\.system, which is not part of a PyTorch state dict/],
    ['hostile-builtins-eval.bin', /the Python global builtins\.eval, which is not part of a PyTorch state dict/],
    ['hostile-posix-stack-global.bin', /the Python global posix\.system, which is not part of a PyTorch state dict/],
    ['hostile-inside-state-dict.bin', /pickle byte 180: the pickle names the Python global os\.system/],
  ])('%s: a pickle that would run code names the global and is never executed', (file, message) => {
    const error = caught(() => readTorchStateDict(fixture(file), { source: file }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.-]/g, '\\$&')}: `));
    expect(error.message).toMatch(/never executes anything/);
  });

  it('a whole pickled module (torch.save(model)) names its class and suggests state_dict()', () => {
    const error = caught(() => readTorchStateDict(fixture('whole-module.bin')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^PyTorch checkpoint: pickle byte 2: the pickle names the Python global torch\.nn\.modules\.linear\.Linear/);
    expect(error.message).toMatch(/save model\.state_dict\(\) instead/);
  });

  it('a legacy (pre-1.6) torch file suggests re-saving it', () => {
    const error = caught(() => readTorchStateDict(fixture('legacy.bin'), { source: 'old.bin' }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/^old\.bin: this is a legacy \(pre-1\.6\) torch\.save file; .*re-save it once with a current torch/);
  });

  it('a deflate-repacked archive says how to repack it', () => {
    const error = caught(() => readTorchStateDict(fixture('deflated.bin')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/zip entry "archive\/data\.pkl" is deflate-compressed; .*zip -0/);
  });

  it('an int64 tensor is named with its dtype', () => {
    const error = caught(() => readTorchStateDict(fixture('int64.bin')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/tensor "steps" is int64 \(torch\.LongStorage\); levelskip reads float32, float16 and bfloat16 weights/);
  });

  it('a training checkpoint that nests the state dict points at the inner dict', () => {
    const error = caught(() => readTorchStateDict(fixture('nested.bin')));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/state dict entry "epoch" holds the number 3, not a tensor; .*nested under "state_dict"/);
  });

  it('non-finite weights are refused by default, naming the tensor and index, and kept when asked', () => {
    const error = caught(() => readTorchStateDict(fixture('nonfinite.bin'), { source: 'n.bin' }));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/^n\.bin: tensor "w" holds NaN at index 1 /);
    const kept = readTorchStateDict(fixture('nonfinite.bin'), { rejectNonFinite: false }).get('w')!.data;
    expect(kept[0]).toBe(1);
    expect(kept[1]).toBeNaN();
  });

  it('a damaged storage fails its CRC-32 check unless checks are turned off', () => {
    const bytes = fixture('protocol4.bin').slice();
    const entry = readZipDirectory(bytes).byName.get('archive/data/0')!;
    // Storage 0 holds a = [1.5, -2.0, 0.25]: 1.5 is 0x3FC00000, little-endian 00 00 C0 3F. Flip the top byte to 0xBF: -1.5.
    expect(bytes[entry.dataStart + 3]).toBe(0x3f);
    bytes[entry.dataStart + 3] = 0xbf;
    const error = caught(() => readTorchStateDict(bytes));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/zip entry "archive\/data\/0" fails its CRC-32 check .*download or copy it again/);
    expect(readTorchStateDict(bytes, { verifyChecksums: false }).get('a')!.data[0]).toBe(-1.5);
  });

  it('other files get a clear refusal', () => {
    expect(caught(() => readTorchStateDict(new Uint8Array(0))).message).toMatch(/^PyTorch checkpoint: not a PyTorch checkpoint: torch\.save files .* start with "PK/);
    const bare = bytesOf(0x80, 2, 'N.');
    expect(caught(() => readTorchStateDict(bare)).message).toMatch(/a bare pickle, not a torch\.save zip archive/);
    const safetensors = bytesOf([2, 0, 0, 0, 0, 0, 0, 0], '{}');
    expect(caught(() => readTorchStateDict(safetensors)).message).toMatch(/looks like a safetensors file/);
    const tar = new Uint8Array(600);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expect(caught(() => readTorchStateDict(tar)).message).toMatch(/tar-format torch\.save file/);
  });

  it('options are checked', () => {
    const bytes = fixture('protocol4.bin');
    expect(caught(() => readTorchStateDict(bytes, { source: 3 as unknown as string })).code).toBe('INVALID_OPTION');
    expect(caught(() => readTorchStateDict(bytes, { rejectNonFinite: 'yes' as unknown as boolean })).code).toBe('INVALID_OPTION');
    expect(caught(() => readTorchStateDict([1, 2] as unknown as Uint8Array)).code).toBe('INVALID_OPTION');
  });
});

describe('hand-built archives: byte order, views and bounds', () => {
  const values = [1, -2, 0.5, 3]; // exact in float32
  const plain = { name: 'w', storageKey: '0', storageNumel: 4, size: [2, 2], stride: [2, 1] };

  it('reads a big-endian archive (a byteorder record saying "big")', () => {
    const bytes = torchArchive(stateDictPickle([plain]), { '0': float32Bytes(values, false) }, { byteorder: 'big' });
    expect(Array.from(readTorchStateDict(bytes).get('w')!.data)).toEqual(values);
    const little = torchArchive(stateDictPickle([plain]), { '0': float32Bytes(values) }, { byteorder: 'little' });
    expect(Array.from(readTorchStateDict(little).get('w')!.data)).toEqual(values);
    const odd = torchArchive(stateDictPickle([plain]), { '0': float32Bytes(values) }, { byteorder: 'middle' });
    expect(caught(() => readTorchStateDict(odd)).message).toMatch(/byteorder record must say "little" or "big"/);
  });

  it('big-endian float16 and bfloat16', () => {
    // float16 1.0 = 0x3C00, -2.0 = 0xC000; bfloat16 0.5 = 0x3F00, 3.0 = 0x4040 (big-endian: high byte first).
    const half = new Uint8Array([0x3c, 0x00, 0xc0, 0x00]);
    const bf16 = new Uint8Array([0x3f, 0x00, 0x40, 0x40]);
    const pickle = stateDictPickle([
      { name: 'h', storageKey: '0', storageType: 'HalfStorage', storageNumel: 2, size: [2], stride: [1] },
      { name: 'b', storageKey: '1', storageType: 'BFloat16Storage', storageNumel: 2, size: [2], stride: [1] },
    ]);
    const tensors = readTorchStateDict(torchArchive(pickle, { '0': half, '1': bf16 }, { byteorder: 'big' }));
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([0.5, 3]);
  });

  it('gathers a 3-d view with an offset: element (i, j, k) is storage[offset + i·s0 + j·s1 + k·s2]', () => {
    const storage = Array.from({ length: 30 }, (_, i) => i);
    // size [2, 2, 3], stride [1, 12, 3], offset 5: (i, j, k) → 5 + i + 12j + 3k.
    const view = { name: 'v', storageKey: '0', storageNumel: 30, offset: 5, size: [2, 2, 3], stride: [1, 12, 3] };
    const data = readTorchStateDict(torchArchive(stateDictPickle([view]), { '0': float32Bytes(storage) })).get('v')!.data;
    expect(Array.from(data)).toEqual([5, 8, 11, 17, 20, 23, 6, 9, 12, 18, 21, 24]);
  });

  it('refuses a view that reaches past its storage (the last element is offset + Σ (size − 1)·stride)', () => {
    // size [2, 2], stride [2, 1], offset 1: the last element is 1 + 2 + 1 = 4, past a 4-element storage.
    const bytes = torchArchive(stateDictPickle([{ ...plain, offset: 1 }]), { '0': float32Bytes(values) });
    const error = caught(() => readTorchStateDict(bytes));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/size \[2, 2\], stride \[2, 1\] and offset 1 reach past the storage's 4 elements/);
    const huge = torchArchive(stateDictPickle([{ ...plain, size: [2, 2 ** 30], stride: [2 ** 30, 2 ** 30] }]), { '0': float32Bytes(values) });
    expect(caught(() => readTorchStateDict(huge)).message).toMatch(/reach past the storage's 4 elements/);
  });

  it('refuses sizes and strides that disagree, and a storage record of the wrong length', () => {
    const mismatched = torchArchive(stateDictPickle([{ ...plain, stride: [1] }]), { '0': float32Bytes(values) });
    expect(caught(() => readTorchStateDict(mismatched)).message).toMatch(/has 2 sizes but 1 strides/);
    const short = torchArchive(stateDictPickle([plain]), { '0': float32Bytes(values.slice(0, 3)) });
    expect(caught(() => readTorchStateDict(short)).message).toMatch(/storage "0" declares 4 float32 elements \(16 bytes\) but its record data\/0 holds 12 bytes/);
    const missing = torchArchive(stateDictPickle([plain]), {});
    expect(caught(() => readTorchStateDict(missing)).message).toMatch(/storage "0" has no record "archive\/data\/0"/);
    const retyped = torchArchive(
      stateDictPickle([plain, { ...plain, name: 'x', storageType: 'HalfStorage', storageNumel: 8 }]),
      { '0': float32Bytes(values) },
    );
    expect(caught(() => readTorchStateDict(retyped)).message).toMatch(/storage "0" is referenced as 8 float16 elements and as 4 float32 elements/);
  });

  it('bounds the output: many names for one large view cannot multiply memory', () => {
    // 64 names, each a stride-0 view of 2^20 elements on a 1-element storage: 2^26 floats from a few KB.
    const views = Array.from({ length: 64 }, (_, i) => ({ name: `t${i}`, storageKey: '0', storageNumel: 1, size: [1024, 1024], stride: [0, 0] }));
    const bytes = torchArchive(stateDictPickle(views), { '0': float32Bytes([1]) });
    const error = caught(() => readTorchStateDict(bytes));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(/the tensors up to "t0" hold 1048576 elements, more than 2 per byte/);
  });

  it('accepts an nn.Parameter and a 7-argument _rebuild_tensor_v2 (metadata None)', () => {
    const pickle = bytesOf(
      0x80, 2, 'ccollections\nOrderedDict\n)R(',
      binunicode('p'),
      'ctorch._utils\n_rebuild_parameter\n(',
      'ctorch._utils\n_rebuild_tensor_v2\n(',
      '(', binunicode('storage'), 'ctorch\nFloatStorage\n', binunicode('0'), binunicode('cuda:0'), 'K', 4, 'tQ',
      'K', 0, 'K', 4, 0x85, 'K', 1, 0x85, 0x89, 'ccollections\nOrderedDict\n)R', 'N', 'tR',
      0x88, 'ccollections\nOrderedDict\n)R', 'tR',
      'u.',
    );
    expect(Array.from(readTorchStateDict(torchArchive(pickle, { '0': float32Bytes(values) })).get('p')!.data)).toEqual(values);
  });

  it('refuses a dict whose root is not a dict, non-string keys, and non-empty backward hooks', () => {
    const list = torchArchive(bytesOf(0x80, 2, ']', '.'), {});
    expect(caught(() => readTorchStateDict(list)).message).toMatch(/the pickle holds a list of 0, not a state dict/);
    const intKey = torchArchive(bytesOf(0x80, 2, '}', 'K', 1, 'N', 's.'), {});
    expect(caught(() => readTorchStateDict(intKey)).message).toMatch(/the state dict has the key the number 1; tensor names are strings/);
    const hooks = bytesOf(
      0x80, 2, '}', binunicode('w'),
      'ctorch._utils\n_rebuild_tensor_v2\n(',
      '(', binunicode('storage'), 'ctorch\nFloatStorage\n', binunicode('0'), binunicode('cpu'), 'K', 4, 'tQ',
      'K', 0, 'K', 4, 0x85, 'K', 1, 0x85, 0x89, '}', 'K', 1, 'N', 's', 'tR',
      's.',
    );
    expect(caught(() => readTorchStateDict(torchArchive(hooks, { '0': float32Bytes(values) }))).message).toMatch(/backward_hooks must be an empty OrderedDict/);
  });

  it('refuses records spread over two top folders, and an archive without data.pkl', () => {
    const base = torchArchive(stateDictPickle([plain]), { '0': float32Bytes(values) });
    expect(readTorchStateDict(base).size).toBe(1);
    const noPickle = torchArchive(stateDictPickle([plain]), {}, { top: 'x' });
    const renamed = noPickle.slice();
    // Rename x/data.pkl to x/data.pkx in both headers (same length), leaving no data.pkl.
    for (let i = 0; i + 10 <= renamed.length; i++) if (new TextDecoder().decode(renamed.subarray(i, i + 10)) === 'x/data.pkl') renamed[i + 9] = 0x78;
    expect(caught(() => readTorchStateDict(renamed)).message).toMatch(/has no "x\/data\.pkl" record: it is not a torch\.save file/);
  });
});
