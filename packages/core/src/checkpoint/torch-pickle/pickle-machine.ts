/**
 * A restricted pickle virtual machine: it reads the opcodes `torch.save` emits (protocol 2, plus
 * the harmless protocol-4 forms of the same operations) into plain JavaScript values, and never
 * runs anything. Python's pickle calls whatever `GLOBAL` names; here a global is only a name,
 * handed to the caller's `findGlobal`, which refuses every name it does not know, and `REDUCE`,
 * `BUILD` and `BINPERSID` are likewise handed to the caller, which implements the few callables a
 * state dict needs as data transformations. Opcodes are documented in CPython's
 * `Lib/pickletools.py`; the machine follows `Lib/pickle.py`'s `_Unpickler` (stack, mark stack,
 * memo), stricter where a well-formed file never goes:
 *
 * - a pop never reaches below the innermost MARK, and STOP needs exactly one value and no open MARK;
 * - nothing may follow STOP; a BINGET of an index never PUT is refused;
 * - lengths are bounded by the bytes left, and every step consumes input, so the work and memory
 *   are linear in the pickle's length and any byte string ends in a value or a `LevelskipError`.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';

/** A Python tuple (immutable; hashable by identity here). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A Python list. */
export class PickleList {
  readonly items: PickleValue[] = [];
}

/** A key a Python dict can hold: immutable scalars by value, tuples and objects by identity. */
export type PickleKey = null | boolean | number | bigint | string | PickleTuple | PickleGlobal | PickleExtension;

/** A Python dict or `collections.OrderedDict`, in insertion order, with the state a BUILD gave it (a state dict's `_metadata`). */
export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
  /** What BUILD set as the object's attributes, if anything. */
  state: PickleValue | undefined;
  constructor(readonly ordered: boolean) {}
}

/** A global the caller accepted: only its name, never the Python object. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`, as Python writes it. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Base of the values a caller's hooks create (a storage, a tensor), so the machine can hold them. */
export abstract class PickleExtension {
  /** A few words naming the value, for error messages ("a float16 tensor"). */
  abstract describe(): string;
}

/** Every value the machine can produce. */
export type PickleValue = null | boolean | number | bigint | string | PickleTuple | PickleList | PickleDict | PickleGlobal | PickleExtension;

/** What the caller decides: which globals exist, what persistent ids load, what REDUCE and BUILD do. */
export interface PickleHooks {
  /** Returns the value for `GLOBAL module name`, or throws to refuse it. */
  findGlobal(module: string, name: string): PickleValue;
  /** Returns the object a `BINPERSID` id stands for, or throws. */
  persistentLoad(id: PickleValue): PickleValue;
  /** `callable(*args)` for `REDUCE`, or throws. */
  reduce(callable: PickleValue, args: PickleTuple): PickleValue;
  /** Applies `BUILD`'s state to `target` (Python's `__setstate__` or `__dict__.update`), or throws. */
  build(target: PickleValue, state: PickleValue): void;
}

/** Longest module or attribute name a GLOBAL may carry (Python's own identifiers are far shorter). */
const maxGlobalLineBytes = 256;
/** Newest pickle protocol (Python 3.8+: 5). */
const highestProtocol = 5;

/** Names of the opcodes a torch state dict never uses, so a refusal can say which one it met. */
const otherOpcodes: Readonly<Record<number, string>> = {
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8',
  0x8d: 'BINUNICODE8',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x8b: 'LONG4',
  0x6c: 'LIST',
  0x64: 'DICT',
  0x67: 'GET',
  0x70: 'PUT',
  0x32: 'DUP',
  0x50: 'PERSID',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function describeValue(value: PickleValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${value}`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (value instanceof PickleTuple) return `a tuple of ${value.items.length}`;
  if (value instanceof PickleList) return `a list of ${value.items.length}`;
  if (value instanceof PickleDict) return `${value.ordered ? 'an OrderedDict' : 'a dict'} of ${value.entries.size}`;
  if (value instanceof PickleGlobal) return `the global ${describeGlobalName(value.module, value.name)}`;
  return value.describe();
}

/** Names a pickled value for an error message without quoting a string's contents. */
export function describePickleValue(value: PickleValue | undefined): string {
  return describeValue(value);
}

/** `module.name` quoted when it looks like a Python dotted name, otherwise described by length. */
export function describeGlobalName(module: string, name: string): string {
  const qualified = `${module}.${name}`;
  return /^[A-Za-z_][A-Za-z0-9_.]{0,160}$/.test(qualified) ? qualified : `a global name of ${qualified.length} characters`;
}

function isKey(value: PickleValue): value is PickleKey {
  return !(value instanceof PickleList || value instanceof PickleDict);
}

/**
 * Runs a pickle on the restricted machine.
 *
 * @param bytes The pickle (e.g. a torch zip's `data.pkl`), which must end at its STOP opcode.
 * @param hooks What globals, persistent ids, REDUCE and BUILD mean.
 * @returns The pickled value.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` for a malformed pickle (truncated, a byte that is
 *   no opcode, a stack or memo misuse, bytes after STOP), `UNSUPPORTED` for an opcode torch.save
 *   state dicts never contain, and whatever the hooks throw, each message giving the opcode's
 *   offset.
 */
export function runPickle(bytes: Uint8Array, hooks: PickleHooks): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let at = 0;
  let opcodeStart = 0;

  const corrupt = (message: string): LevelskipError => new LevelskipError('CHECKPOINT_CORRUPT', `pickle byte ${opcodeStart}: ${message}`);
  const need = (count: number, what: string): number => {
    if (count > bytes.length - at) throw corrupt(`${what} needs ${count} bytes but only ${bytes.length - at} remain (truncated pickle)`);
    const start = at;
    at += count;
    return start;
  };
  const fence = (): number => (marks.length === 0 ? 0 : marks[marks.length - 1]!);
  const pop = (): PickleValue => {
    if (stack.length <= fence()) throw corrupt('a value is taken from an empty stack (or from below a MARK)');
    return stack.pop()!;
  };
  const top = (): PickleValue => {
    if (stack.length <= fence()) throw corrupt('the stack is empty (or a MARK is on top) where a value is needed');
    return stack[stack.length - 1]!;
  };
  const popToMark = (): PickleValue[] => {
    const mark = marks.pop();
    if (mark === undefined) throw corrupt('no MARK to pop to');
    return stack.splice(mark);
  };
  const text = (count: number, what: string): string => {
    const start = need(count, what);
    try {
      return utf8.decode(bytes.subarray(start, start + count));
    } catch {
      throw corrupt(`${what} is not valid UTF-8`);
    }
  };
  const line = (what: string): string => {
    const limit = Math.min(bytes.length, at + maxGlobalLineBytes + 1);
    let end = at;
    while (end < limit && bytes[end] !== 0x0a) end++;
    if (end === limit) throw corrupt(`${what} of GLOBAL has no newline within ${maxGlobalLineBytes} bytes`);
    const raw = bytes.subarray(at, end);
    if (raw.some((b) => b < 0x20 || b > 0x7e)) throw corrupt(`${what} of GLOBAL is not printable ASCII`);
    at = end + 1;
    return String.fromCharCode(...raw);
  };
  const setItem = (dict: PickleValue, key: PickleValue, value: PickleValue): void => {
    if (!(dict instanceof PickleDict)) throw corrupt(`SETITEM(S) needs a dict below its items, found ${describeValue(dict)}`);
    if (!isKey(key)) throw corrupt(`a dict key is ${describeValue(key)}, which Python cannot hash`);
    dict.entries.set(key, value);
  };
  const append = (list: PickleValue, value: PickleValue): void => {
    if (!(list instanceof PickleList)) throw corrupt(`APPEND(S) needs a list below its items, found ${describeValue(list)}`);
    list.items.push(value);
  };
  const withOffset = (error: unknown): never => {
    if (LevelskipError.is(error) && !error.message.startsWith('pickle byte ')) {
      throw new LevelskipError(error.code, `pickle byte ${opcodeStart}: ${error.message}`, { cause: error, issues: error.issues });
    }
    throw error;
  };

  while (at < bytes.length) {
    opcodeStart = at;
    const opcode = bytes[at++]!;
    switch (opcode) {
      case 0x80: {
        // PROTO
        const version = bytes[need(1, 'PROTO')]!;
        if (version > highestProtocol) throw corrupt(`pickle protocol ${version} is newer than any Python writes (at most ${highestProtocol})`);
        break;
      }
      case 0x95: {
        // FRAME: protocol 4's framing only groups opcodes; its length just has to be there.
        const start = need(8, 'FRAME');
        const low = view.getUint32(start, true);
        const high = view.getUint32(start + 4, true);
        if (high !== 0 || low > bytes.length - at) throw corrupt('FRAME claims more bytes than remain (truncated pickle)');
        break;
      }
      case 0x2e: {
        // STOP
        if (marks.length !== 0) throw corrupt(`STOP with ${marks.length} MARK(s) still open`);
        if (stack.length !== 1) throw corrupt(`STOP with ${stack.length} values on the stack (exactly 1 expected)`);
        if (at !== bytes.length) throw corrupt(`${bytes.length - at} bytes follow STOP`);
        return stack[0]!;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x31: // POP_MARK
        popToMark();
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1, 'BININT1')]!);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2, 'BININT2'), true));
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4, 'BININT'), true));
        break;
      case 0x8a: {
        // LONG1: n bytes of little-endian two's complement.
        const length = bytes[need(1, 'LONG1')]!;
        const start = need(length, 'LONG1');
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]!);
        if (length > 0 && (bytes[start + length - 1]! & 0x80) !== 0) value -= 1n << BigInt(8 * length);
        stack.push(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
        break;
      }
      case 0x47: // BINFLOAT: big-endian float64.
        stack.push(view.getFloat64(need(8, 'BINFLOAT'), false));
        break;
      case 0x58: {
        // BINUNICODE
        const length = view.getUint32(need(4, 'BINUNICODE'), true);
        stack.push(text(length, 'a BINUNICODE string'));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const length = bytes[need(1, 'SHORT_BINUNICODE')]!;
        stack.push(text(length, 'a SHORT_BINUNICODE string'));
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x85: {
        // TUPLE1
        const a = pop();
        stack.push(new PickleTuple([a]));
        break;
      }
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popToMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push(new PickleList());
        break;
      case 0x61: {
        // APPEND
        const value = pop();
        append(top(), value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popToMark();
        const list = top();
        for (const item of items) append(list, item);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict(false));
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popToMark();
        if (items.length % 2 !== 0) throw corrupt(`SETITEMS has ${items.length} values after its MARK, not key-value pairs`);
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i]!, items[i + 1]!);
        break;
      }
      case 0x71: // BINPUT
        memo.set(bytes[need(1, 'BINPUT')]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4, 'LONG_BINPUT'), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = opcode === 0x68 ? bytes[need(1, 'BINGET')]! : view.getUint32(need(4, 'LONG_BINGET'), true);
        if (!memo.has(index)) throw corrupt(`memo index ${index} is read before it is written`);
        stack.push(memo.get(index)!);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line('the module');
        const name = line('the name');
        try {
          stack.push(hooks.findGlobal(module, name));
        } catch (error) {
          withOffset(error);
        }
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL needs a module and a name string');
        try {
          stack.push(hooks.findGlobal(module, name));
        } catch (error) {
          withOffset(error);
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const id = pop();
        try {
          stack.push(hooks.persistentLoad(id));
        } catch (error) {
          withOffset(error);
        }
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(args instanceof PickleTuple)) throw corrupt(`REDUCE needs an argument tuple, found ${describeValue(args)}`);
        try {
          stack.push(hooks.reduce(callable, args));
        } catch (error) {
          withOffset(error);
        }
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        try {
          hooks.build(top(), state);
        } catch (error) {
          withOffset(error);
        }
        break;
      }
      default: {
        const known = otherOpcodes[opcode];
        if (known !== undefined) {
          throw new LevelskipError(
            'UNSUPPORTED',
            `pickle byte ${opcodeStart}: opcode ${known} (0x${opcode.toString(16)}) is not part of what torch.save writes for a state dict; this reader does not run it`,
          );
        }
        throw corrupt(`byte 0x${opcode.toString(16).padStart(2, '0')} is not a pickle opcode (damaged file?)`);
      }
    }
  }
  opcodeStart = bytes.length;
  throw corrupt('the pickle ends without STOP (truncated file?)');
}
