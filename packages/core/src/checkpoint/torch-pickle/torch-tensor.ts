/**
 * PyTorch storages and the tensor views on them, as `torch.save` records them: a storage is one
 * zip record of raw elements (`<archive>/data/<key>`); a tensor is `_rebuild_tensor_v2(storage,
 * storage_offset, size, stride, ...)`, a strided view (element i₀,…,iₙ₋₁ is storage element
 * offset + Σ iₖ·strideₖ). A view is bounds-checked when it is created and copied out in row-major
 * order (gathered when it is not contiguous, e.g. a saved transpose), widened to float32.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { float16DecodeTable } from '../float16.js';
import { PickleExtension } from './pickle-machine.js';

/** A storage class torch.save names (`torch.FloatStorage`, ...), its dtype and element size. */
export interface TorchStorageType {
  /** The class name in module `torch`, e.g. `FloatStorage`. */
  readonly className: string;
  /** The tensor dtype, as torch names it (`float32`, `int64`, ...). */
  readonly dtype: string;
  /** Bytes per element. */
  readonly itemSize: number;
  /** Whether levelskip reads it (only the float dtypes weights use). */
  readonly readable: boolean;
}

const storageTypeList: readonly TorchStorageType[] = [
  { className: 'FloatStorage', dtype: 'float32', itemSize: 4, readable: true },
  { className: 'HalfStorage', dtype: 'float16', itemSize: 2, readable: true },
  { className: 'BFloat16Storage', dtype: 'bfloat16', itemSize: 2, readable: true },
  // Named so that a state dict holding one gets a refusal that names the tensor and its dtype.
  { className: 'DoubleStorage', dtype: 'float64', itemSize: 8, readable: false },
  { className: 'LongStorage', dtype: 'int64', itemSize: 8, readable: false },
  { className: 'IntStorage', dtype: 'int32', itemSize: 4, readable: false },
  { className: 'ShortStorage', dtype: 'int16', itemSize: 2, readable: false },
  { className: 'CharStorage', dtype: 'int8', itemSize: 1, readable: false },
  { className: 'ByteStorage', dtype: 'uint8', itemSize: 1, readable: false },
  { className: 'BoolStorage', dtype: 'bool', itemSize: 1, readable: false },
  { className: 'ComplexFloatStorage', dtype: 'complex64', itemSize: 8, readable: false },
  { className: 'ComplexDoubleStorage', dtype: 'complex128', itemSize: 16, readable: false },
];

/** The storage classes of module `torch` this reader recognises, by class name. */
export const torchStorageTypes: ReadonlyMap<string, TorchStorageType> = new Map(storageTypeList.map((type) => [type.className, type]));

/** Most dimensions a tensor may have (torch itself allows 64). */
export const maxTorchTensorDimensions = 64;

/** One storage record: its elements' raw bytes in the file's byte order. */
export class TorchStorage extends PickleExtension {
  constructor(
    /** The record key, `<archive>/data/<key>`. */
    readonly key: string,
    readonly type: TorchStorageType,
    /** Element count; `bytes.length` is `numel × type.itemSize`. */
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {
    super();
  }

  describe(): string {
    return `a ${this.type.dtype} storage of ${this.numel} elements`;
  }
}

/** A validated strided view of a storage: every element it addresses lies inside the storage. */
export class TorchTensor extends PickleExtension {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    /** Product of the shape (1 for a 0-d tensor). */
    readonly numel: number,
  ) {
    super();
  }

  describe(): string {
    return `a ${this.storage.type.dtype} tensor of shape [${this.shape.join(', ')}]`;
  }
}

function corrupt(message: string): LevelskipError {
  return new LevelskipError('CHECKPOINT_CORRUPT', message);
}

/**
 * Creates a tensor view after checking it against its storage, as `_rebuild_tensor_v2` would
 * (`tensor.set_(storage, offset, size, stride)`), but refusing what torch would only catch later:
 * the highest addressed element, offset + Σ (sizeₖ − 1)·strideₖ, must lie inside the storage.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when the dimensions, strides or offset are not
 *   non-negative integers, their counts differ, or the view reaches past the storage.
 */
export function createTorchTensor(storage: TorchStorage, offset: number, shape: readonly number[], strides: readonly number[]): TorchTensor {
  const where = `a ${storage.type.dtype} tensor on storage ${JSON.stringify(storage.key)}`;
  if (shape.length > maxTorchTensorDimensions) throw corrupt(`${where} has ${shape.length} dimensions, more than ${maxTorchTensorDimensions}`);
  if (shape.length !== strides.length) throw corrupt(`${where} has ${shape.length} sizes but ${strides.length} strides`);
  const all = [offset, ...shape, ...strides];
  if (!all.every((value) => Number.isSafeInteger(value) && value >= 0)) {
    throw corrupt(`${where} has an offset, size or stride that is not a non-negative integer (size [${shape.join(', ')}], stride [${strides.join(', ')}], offset ${offset})`);
  }
  let numel = 1;
  for (const size of shape) {
    if (size !== 0 && numel > Number.MAX_SAFE_INTEGER / size) throw corrupt(`${where} of size [${shape.join(', ')}] has too many elements`);
    numel *= size;
  }
  if (numel === 0) {
    if (offset > storage.numel) throw corrupt(`${where} starts at element ${offset}, past the storage's ${storage.numel} elements`);
    return new TorchTensor(storage, offset, shape, strides, 0);
  }
  // Highest addressed element, accumulated so that no intermediate value exceeds the storage size.
  let last = offset;
  for (let k = 0; k < shape.length; k++) {
    const steps = shape[k]! - 1;
    const stride = strides[k]!;
    if (steps === 0 || stride === 0) continue;
    if (steps > (storage.numel - last) / stride) {
      throw corrupt(`${where}: size [${shape.join(', ')}], stride [${strides.join(', ')}] and offset ${offset} reach past the storage's ${storage.numel} elements`);
    }
    last += steps * stride;
  }
  if (last >= storage.numel) {
    throw corrupt(`${where}: size [${shape.join(', ')}], stride [${strides.join(', ')}] and offset ${offset} reach past the storage's ${storage.numel} elements`);
  }
  return new TorchTensor(storage, offset, shape, strides, numel);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when the strides are the row-major ones (dimensions of size 1 may have any stride). */
function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] !== 1 && strides[k] !== expected) return false;
    expected *= shape[k]!;
  }
  return true;
}

/** Reads storage element `index` as a number. */
type ElementReader = (index: number) => number;

function elementReader(storage: TorchStorage, littleEndian: boolean): ElementReader {
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.byteLength);
  switch (storage.type.dtype) {
    case 'float32':
      return (index) => view.getFloat32(4 * index, littleEndian);
    case 'float16': {
      const table = float16DecodeTable();
      return (index) => table[view.getUint16(2 * index, littleEndian)]!;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const scratch = new Float32Array(1);
      const bits = new Uint32Array(scratch.buffer);
      return (index) => {
        bits[0] = view.getUint16(2 * index, littleEndian) << 16;
        return scratch[0]!;
      };
    }
    default:
      throw new LevelskipError('UNSUPPORTED', `${storage.type.dtype} storages are not read`);
  }
}

/**
 * Copies a tensor's elements out in row-major order as float32 (float16 and bfloat16 widen
 * exactly). A contiguous float32 view in little-endian order is one byte copy; any other view is
 * gathered element by element along its strides.
 *
 * @param littleEndian The archive's byte order (`<archive>/byteorder`; little when absent).
 * @throws LevelskipError `UNSUPPORTED` for a storage dtype other than float32/float16/bfloat16.
 */
export function materializeTorchTensor(tensor: TorchTensor, littleEndian: boolean): Float32Array {
  const { storage, offset, shape, strides, numel } = tensor;
  const out = new Float32Array(numel);
  if (numel === 0) return out;
  const contiguous = isContiguous(shape, strides);
  if (contiguous && storage.type.dtype === 'float32' && littleEndian && littleEndianHost) {
    new Uint8Array(out.buffer).set(storage.bytes.subarray(4 * offset, 4 * (offset + numel)));
    return out;
  }
  const read = elementReader(storage, littleEndian);
  if (contiguous) {
    for (let i = 0; i < numel; i++) out[i] = read(offset + i);
    return out;
  }
  // Odometer over all but the last dimension; the last one is the inner loop.
  const last = shape.length - 1;
  const innerSize = shape[last]!;
  const innerStride = strides[last]!;
  const index = new Array<number>(last).fill(0);
  let base = offset;
  let o = 0;
  for (;;) {
    for (let j = 0, p = base; j < innerSize; j++, p += innerStride) out[o++] = read(p);
    let k = last - 1;
    for (; k >= 0; k--) {
      index[k] = index[k]! + 1;
      base += strides[k]!;
      if (index[k]! < shape[k]!) break;
      base -= strides[k]! * shape[k]!;
      index[k] = 0;
    }
    if (k < 0) return out;
  }
}
