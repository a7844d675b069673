/**
 * The restricted pickle machine against CPython's own pickler: plain-pickles.json holds
 * `pickle.dumps(value, protocol)` for protocols 2 and 4 with the value it encodes (written by
 * scripts/dev/torch-bin-fixtures.py), so the opcodes and the values both come from CPython.
 * Malformed pickles are written by hand from the opcode table in CPython's Lib/pickletools.py.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PickleDict,
  PickleGlobal,
  type PickleHooks,
  PickleList,
  PickleTuple,
  type PickleValue,
  runPickle,
} from '../../src/checkpoint/torch-pickle/pickle-machine.js';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { bytesOf } from './zip-builder.js';
import { levelskipErrorOf as caught } from '../../src/testing/errors.js';

const fixtures = new URL('../fixtures/torch-bin/', import.meta.url);

type Encoded = null | boolean | string | number | { int: string } | { float: string } | { tuple: Encoded[] } | { list: Encoded[] } | { dict: [Encoded, Encoded][] };

const cases = JSON.parse(readFileSync(new URL('plain-pickles.json', fixtures), 'utf8')) as { protocol: number; hex: string; value: Encoded }[];

/** Hooks that accept nothing: plain data needs none of them. */
const refuseAll: PickleHooks = {
  findGlobal: (module, name) => {
    throw new LevelskipError('UNSUPPORTED', `global ${module}.${name} refused`);
  },
  persistentLoad: () => {
    throw new LevelskipError('UNSUPPORTED', 'persistent id refused');
  },
  reduce: () => {
    throw new LevelskipError('UNSUPPORTED', 'reduce refused');
  },
  build: () => {
    throw new LevelskipError('UNSUPPORTED', 'build refused');
  },
};

/** The machine's value in the JSON encoding (numbers are compared after decoding the expected side). */
function encode(value: PickleValue): unknown {
  if (value instanceof PickleTuple) return { tuple: value.items.map(encode) };
  if (value instanceof PickleList) return { list: value.items.map(encode) };
  if (value instanceof PickleDict) return { dict: [...value.entries].map(([k, v]) => [encode(k), encode(v)]) };
  if (typeof value === 'bigint') return { int: value.toString() };
  return value;
}

/** The expected value with Python floats as JS numbers (-0.0 stays -0). */
function decodeExpected(value: Encoded): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('float' in value) return Number(value.float);
  if ('int' in value) return value;
  if ('tuple' in value) return { tuple: value.tuple.map(decodeExpected) };
  if ('list' in value) return { list: value.list.map(decodeExpected) };
  return { dict: value.dict.map(([k, v]) => [decodeExpected(k), decodeExpected(v)]) };
}

function hex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((b) => parseInt(b, 16)));
}

const run = (...parts: Parameters<typeof bytesOf>): PickleValue => runPickle(bytesOf(...parts), refuseAll);
const fails = (...parts: Parameters<typeof bytesOf>): LevelskipError => caught(() => run(...parts));

describe('runPickle reads what CPython pickles', () => {
  it('the fixture holds both protocols and the batching cases', () => {
    expect(cases.filter((c) => c.protocol === 2).length).toBeGreaterThan(30);
    expect(cases.filter((c) => c.protocol === 4).length).toBeGreaterThan(30);
    // Python batches APPENDS/SETITEMS 1000 items per MARK: a 1001-item list needs two batches.
    expect(cases.some((c) => typeof c.value === 'object' && c.value !== null && 'list' in c.value && c.value.list.length === 1001)).toBe(true);
  });

  it.each(cases.map((c, i) => [i, c.protocol, c.hex.length / 2, c] as const))('case %i (protocol %i, %i bytes)', (_, __, ___, c) => {
    expect(encode(runPickle(hex(c.hex), refuseAll))).toEqual(decodeExpected(c.value));
  });

  it('keeps shared references shared (memo BINGET)', () => {
    const shared = cases.find((c) => JSON.stringify(c.value) === '{"list":[{"list":[7]},{"list":[7]}]}')!;
    const value = runPickle(hex(shared.hex), refuseAll) as PickleList;
    expect(value.items[0]).toBe(value.items[1]);
  });

  it('LONG1: little-endian two\'s complement of any width', () => {
    expect(run(0x8a, 0, '.')).toBe(0);
    expect(run(0x8a, 1, 0xff, '.')).toBe(-1);
    expect(run(0x8a, 2, 0x00, 0x80, '.')).toBe(-32768);
    expect(run(0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0, 1], '.')).toBe(2n ** 64n);
  });

  it('hands globals, persistent ids, REDUCE and BUILD to the hooks', () => {
    const seen: string[] = [];
    const hooks: PickleHooks = {
      findGlobal: (module, name) => new PickleGlobal(module, name),
      persistentLoad: (id) => {
        seen.push(`pid ${String(id)}`);
        return 'loaded';
      },
      reduce: (callable, args) => {
        seen.push(`reduce ${(callable as PickleGlobal).qualifiedName} ${args.items.length}`);
        return new PickleDict(true);
      },
      build: (target, state) => {
        (target as PickleDict).state = state;
      },
    };
    const value = runPickle(bytesOf(0x80, 2, 'cmod\nfn\n', 'K', 1, 'K', 2, 0x86, 'R', '}', 'b', '.'), hooks) as PickleDict;
    expect(value.ordered).toBe(true);
    expect(value.state).toBeInstanceOf(PickleDict);
    expect(runPickle(bytesOf('X', [1, 0, 0, 0], 'k', 'Q', '.'), hooks)).toBe('loaded');
    expect(seen).toEqual(['reduce mod.fn 2', 'pid k']);
  });

  it('never recurses: a list nested 200,000 deep is read', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(2 * depth);
    bytes.fill(0x5d, 0, depth); // EMPTY_LIST × depth
    bytes.fill(0x61, depth, 2 * depth - 1); // APPEND × (depth − 1): each list into the one below
    bytes[2 * depth - 1] = 0x2e; // STOP
    expect(runPickle(bytes, refuseAll)).toBeInstanceOf(PickleList);
  });
});

describe('runPickle refuses malformed pickles with CHECKPOINT_CORRUPT, giving the offset', () => {
  const corrupt: [string, Uint8Array, RegExp][] = [
    ['no STOP', bytesOf(0x80, 2, 'N'), /pickle byte 3: the pickle ends without STOP/],
    ['bytes after STOP', bytesOf('N..'), /pickle byte 1: 1 bytes follow STOP/],
    ['two values at STOP', bytesOf('NN.'), /STOP with 2 values on the stack/],
    ['an open MARK at STOP', bytesOf('N(.'), /STOP with 1 MARK\(s\) still open/],
    ['TUPLE without MARK', bytesOf('Nt.'), /pickle byte 1: no MARK to pop to/],
    ['TUPLE1 on an empty stack', bytesOf(0x85, '.'), /taken from an empty stack/],
    ['a pop below the MARK', bytesOf('N(', 0x85, '.'), /pickle byte 2: a value is taken from an empty stack \(or from below a MARK\)/],
    ['BINPUT on an empty stack', bytesOf('q', 0, 'N.'), /the stack is empty/],
    ['BINGET of an unwritten index', bytesOf('h', 5, '.'), /memo index 5 is read before it is written/],
    ['LONG_BINGET of an unwritten index', bytesOf('Nq', 0, 'j', [1, 0, 0, 0], '.'), /memo index 1 is read before it is written/],
    ['a byte that is no opcode', bytesOf('N', 0xff, '.'), /pickle byte 1: byte 0xff is not a pickle opcode/],
    ['a protocol from the future', bytesOf(0x80, 6, 'N.'), /pickle protocol 6 is newer/],
    ['a string longer than the pickle', bytesOf('X', [0xff, 0xff, 0xff, 0xff], 'ab.'), /pickle byte 0: a BINUNICODE string needs 4294967295 bytes but only 3 remain \(truncated pickle\)/],
    ['a string that is not UTF-8', bytesOf('X', [2, 0, 0, 0], [0xc3, 0x28], '.'), /a BINUNICODE string is not valid UTF-8/],
    ['a GLOBAL line without newline', bytesOf('c', 'a'.repeat(300)), /the module of GLOBAL has no newline within 256 bytes/],
    ['a GLOBAL line with control bytes', bytesOf('cos\x01\nsystem\n.'), /the module of GLOBAL is not printable ASCII/],
    ['SETITEMS with an odd count', bytesOf('}(N.'.slice(0, 3), 'u.'), /SETITEMS has 1 values after its MARK/],
    ['SETITEM on a list', bytesOf(']NNs.'), /SETITEM\(S\) needs a dict below its items, found a list of 0/],
    ['APPEND on a dict', bytesOf('}Na.'), /APPEND\(S\) needs a list below its items, found a dict of 0/],
    ['an unhashable key', bytesOf('}]Ns.'), /a dict key is a list of 0, which Python cannot hash/],
    ['REDUCE with non-tuple arguments', bytesOf('NNR.'), /REDUCE needs an argument tuple, found None/],
    ['STACK_GLOBAL of non-strings', bytesOf('K', 1, 'K', 2, 0x93, '.'), /STACK_GLOBAL needs a module and a name string/],
    ['a FRAME longer than the rest', bytesOf(0x95, [100, 0, 0, 0, 0, 0, 0, 0], 'N.'), /FRAME claims more bytes than remain/],
    ['a truncated BININT', bytesOf('J', 1, 2), /BININT needs 4 bytes but only 2 remain/],
  ];
  it.each(corrupt)('%s', (_, bytes, message) => {
    const error = caught(() => runPickle(bytes, refuseAll));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['INST', 0x69],
    ['OBJ', 0x6f],
    ['NEWOBJ', 0x81],
    ['NEWOBJ_EX', 0x92],
    ['PERSID', 0x50],
    ['EXT1', 0x82],
    ['BINBYTES', 0x42],
    ['STRING', 0x53],
  ])('refuses opcode %s as UNSUPPORTED, naming it', (name, opcode) => {
    const error = fails('N', opcode, '.');
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(`pickle byte 1: opcode ${name} (0x${opcode.toString(16)}) is not part of what torch.save writes for a state dict; this reader does not run it`);
  });

  it("a hook's refusal keeps its code and gains the offset", () => {
    const error = fails('N0cos\nsystem\n.');
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe('pickle byte 2: global os.system refused');
  });
});
