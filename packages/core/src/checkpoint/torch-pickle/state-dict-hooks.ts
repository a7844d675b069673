/**
 * What the restricted pickle machine may build from a `torch.save(state_dict)` pickle, and
 * nothing more. Checked against the pickles torch 1.13 writes (`pickletools.dis` of a real
 * `data.pkl`), a state dict uses exactly these globals:
 *
 *   collections.OrderedDict            the dict itself, each tensor's (empty) backward hooks, `_metadata`
 *   torch._utils._rebuild_tensor_v2    (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
 *   torch.FloatStorage / HalfStorage / BFloat16Storage    the storage class in each persistent id
 *
 * plus `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)` when a dict holds
 * `nn.Parameter`s. A persistent id is `('storage', storage_class, key, location, numel)` and names
 * the record `<archive>/data/<key>`. Any other global is refused by name: in Python it would be
 * imported and possibly called (`os.system`, `builtins.eval`, a model class); here it is only a
 * string, and reading stops.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import {
  describeGlobalName,
  describePickleValue,
  PickleDict,
  PickleGlobal,
  type PickleHooks,
  PickleTuple,
  type PickleValue,
} from './pickle-machine.js';
import { createTorchTensor, TorchStorage, torchStorageTypes, TorchTensor } from './torch-tensor.js';

/** The globals a state dict may name, as `module.name`. */
export const allowedStateDictGlobals: readonly string[] = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...[...torchStorageTypes.keys()].map((name) => `torch.${name}`),
];

const allowed = new Set(allowedStateDictGlobals);

/** Most characters of a storage key (torch writes decimal indices: "0", "1", ...). */
const maxStorageKeyLength = 64;

function corrupt(message: string): LevelskipError {
  return new LevelskipError('CHECKPOINT_CORRUPT', message);
}

function isGlobal(value: PickleValue, qualifiedName: string): value is PickleGlobal {
  return value instanceof PickleGlobal && value.qualifiedName === qualifiedName;
}

function nonNegativeInteger(value: PickleValue, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw corrupt(`${what} must be a non-negative integer, got ${describePickleValue(value)}`);
  }
  return value;
}

function integerTuple(value: PickleValue, what: string): number[] {
  if (!(value instanceof PickleTuple)) throw corrupt(`${what} must be a tuple of integers, got ${describePickleValue(value)}`);
  return value.items.map((item, i) => nonNegativeInteger(item, `${what}[${i}]`));
}

function emptyHooks(value: PickleValue, what: string): void {
  if (!(value instanceof PickleDict) || value.entries.size !== 0) {
    throw corrupt(`${what} must be an empty OrderedDict of backward hooks, got ${describePickleValue(value)}`);
  }
}

/**
 * The hooks that let the pickle machine read a state dict.
 *
 * @param readStorageRecord Returns the bytes of `<archive>/data/<key>`, or throws when the record
 *   is missing or damaged.
 */
export function createStateDictHooks(readStorageRecord: (key: string) => Uint8Array): PickleHooks {
  const storages = new Map<string, TorchStorage>();

  function findGlobal(module: string, name: string): PickleValue {
    const qualified = `${module}.${name}`;
    if (!allowed.has(qualified)) {
      throw new LevelskipError(
        'UNSUPPORTED',
        `the pickle names the Python global ${describeGlobalName(module, name)}, which is not part of a PyTorch state dict ` +
          '(Python would import it and could run it on load). levelskip never executes anything from a pickle: it reads only ' +
          'OrderedDicts of float32/float16/bfloat16 tensors, so this file is refused. If it holds a whole pickled model ' +
          '(torch.save(model)), save model.state_dict() instead, or convert the weights to safetensors',
      );
    }
    return new PickleGlobal(module, name);
  }

  function persistentLoad(id: PickleValue): PickleValue {
    if (!(id instanceof PickleTuple) || id.items.length !== 5 || id.items[0] !== 'storage') {
      throw corrupt(`a persistent id must be ('storage', storage_type, key, location, numel), got ${describePickleValue(id)}`);
    }
    const [, typeGlobal, key, location, numelValue] = id.items;
    if (!(typeGlobal instanceof PickleGlobal) || typeGlobal.module !== 'torch' || !torchStorageTypes.has(typeGlobal.name)) {
      throw corrupt(`a persistent id names the storage type ${describePickleValue(typeGlobal ?? null)}, not a torch storage class`);
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key) || key.length > maxStorageKeyLength || key === '.' || key === '..') {
      throw corrupt(`a storage key must be a short name of letters, digits, "_", "." or "-", got ${describePickleValue(key ?? null)}`);
    }
    if (typeof location !== 'string') throw corrupt(`storage ${JSON.stringify(key)}: its location must be a string like "cpu", got ${describePickleValue(location ?? null)}`);
    const type = torchStorageTypes.get(typeGlobal.name)!;
    const numel = nonNegativeInteger(numelValue ?? null, `storage ${JSON.stringify(key)}: its element count`);
    const known = storages.get(key);
    if (known !== undefined) {
      if (known.type !== type || known.numel !== numel) {
        throw corrupt(`storage ${JSON.stringify(key)} is referenced as ${numel} ${type.dtype} elements and as ${known.numel} ${known.type.dtype} elements`);
      }
      return known;
    }
    const bytes = readStorageRecord(key);
    if (bytes.length !== numel * type.itemSize) {
      throw corrupt(
        `storage ${JSON.stringify(key)} declares ${numel} ${type.dtype} elements (${numel * type.itemSize} bytes) but its record data/${key} holds ${bytes.length} bytes`,
      );
    }
    const storage = new TorchStorage(key, type, numel, bytes);
    storages.set(key, storage);
    return storage;
  }

  function reduce(callable: PickleValue, args: PickleTuple): PickleValue {
    const items = args.items;
    if (isGlobal(callable, 'collections.OrderedDict')) {
      if (items.length !== 0) throw corrupt(`OrderedDict is called with ${items.length} arguments; torch.save passes none (the items follow as SETITEMS)`);
      return new PickleDict(true);
    }
    if (isGlobal(callable, 'torch._utils._rebuild_tensor_v2')) {
      if (items.length !== 6 && items.length !== 7) throw corrupt(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${items.length}`);
      const [storage, offset, size, stride, requiresGrad, hooks, metadata] = items;
      if (!(storage instanceof TorchStorage)) throw corrupt(`_rebuild_tensor_v2's storage is ${describePickleValue(storage)}, not a storage`);
      if (typeof requiresGrad !== 'boolean') throw corrupt(`_rebuild_tensor_v2's requires_grad is ${describePickleValue(requiresGrad)}, not a bool`);
      emptyHooks(hooks!, "_rebuild_tensor_v2's backward_hooks");
      if (metadata !== undefined && metadata !== null && !(metadata instanceof PickleDict)) {
        throw corrupt(`_rebuild_tensor_v2's metadata is ${describePickleValue(metadata)}, not a dict`);
      }
      return createTorchTensor(
        storage,
        nonNegativeInteger(offset!, "_rebuild_tensor_v2's storage_offset"),
        integerTuple(size!, "_rebuild_tensor_v2's size"),
        integerTuple(stride!, "_rebuild_tensor_v2's stride"),
      );
    }
    if (isGlobal(callable, 'torch._utils._rebuild_parameter')) {
      if (items.length !== 3) throw corrupt(`_rebuild_parameter takes 3 arguments, got ${items.length}`);
      const [data, requiresGrad, hooks] = items;
      if (!(data instanceof TorchTensor)) throw corrupt(`_rebuild_parameter's data is ${describePickleValue(data)}, not a tensor`);
      if (typeof requiresGrad !== 'boolean') throw corrupt(`_rebuild_parameter's requires_grad is ${describePickleValue(requiresGrad)}, not a bool`);
      emptyHooks(hooks!, "_rebuild_parameter's backward_hooks");
      return data;
    }
    throw corrupt(`REDUCE calls ${describePickleValue(callable)}, which a state dict never calls`);
  }

  function build(target: PickleValue, state: PickleValue): void {
    // An OrderedDict's BUILD state is its __dict__: {'_metadata': OrderedDict(...)} in a state dict;
    // Python may also pass (dict_state, slot_state).
    const dictState = state instanceof PickleTuple && state.items.length === 2 && state.items[1] === null ? state.items[0]! : state;
    if (!(target instanceof PickleDict) || !(dictState instanceof PickleDict || dictState === null)) {
      throw corrupt(`BUILD sets ${describePickleValue(state)} on ${describePickleValue(target)}; a state dict only sets a dict's attributes`);
    }
    target.state = dictState;
  }

  return { findGlobal, persistentLoad, reduce, build };
}
