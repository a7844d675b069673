/**
 * Builds torch.save-shaped pickles and archives opcode by opcode, mirroring what
 * `pickletools.dis` shows for a real torch 1.13 `data.pkl`:
 *
 *   PROTO 2; GLOBAL 'collections OrderedDict'; EMPTY_TUPLE; REDUCE; MARK
 *     BINUNICODE name; GLOBAL 'torch._utils _rebuild_tensor_v2'; MARK
 *       MARK 'storage' GLOBAL 'torch FloatStorage' key 'cpu' numel TUPLE; BINPERSID
 *       offset; size tuple; stride tuple; NEWFALSE; OrderedDict(); TUPLE
 *     REDUCE ...
 *   SETITEMS; STOP
 *
 * Used for variants the fixtures do not cover (bad bounds, big-endian archives, ...).
 */
import { binunicode, buildZip, bytesOf, u32, type ZipBuildEntry, type ZipBuildOptions } from './zip-builder.js';

export interface PickledTensor {
  readonly name: string;
  readonly storageKey: string;
  /** `FloatStorage`, `HalfStorage`, ... (default FloatStorage). */
  readonly storageType?: string;
  readonly storageNumel: number;
  readonly offset?: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

/** An int as torch's pickler writes it (BININT1, BININT2 or BININT). */
export function pickleInt(value: number): Uint8Array {
  if (value >= 0 && value < 256) return bytesOf('K', value);
  if (value >= 0 && value < 65536) return bytesOf('M', value & 0xff, value >> 8);
  const out = new Uint8Array(5);
  out[0] = 0x4a;
  new DataView(out.buffer).setInt32(1, value, true);
  return out;
}

function pickleTuple(values: readonly number[]): Uint8Array {
  if (values.length === 0) return bytesOf(')');
  return bytesOf('(', ...values.map(pickleInt), 't');
}

/** The data.pkl of an OrderedDict of tensors. */
export function stateDictPickle(tensors: readonly PickledTensor[]): Uint8Array {
  const parts: Uint8Array[] = [bytesOf(0x80, 2, 'ccollections\nOrderedDict\n)R(')];
  for (const t of tensors) {
    parts.push(
      binunicode(t.name),
      bytesOf('ctorch._utils\n_rebuild_tensor_v2\n('),
      bytesOf('(', binunicode('storage'), `ctorch\n${t.storageType ?? 'FloatStorage'}\n`, binunicode(t.storageKey), binunicode('cpu'), pickleInt(t.storageNumel), 't', 'Q'),
      pickleInt(t.offset ?? 0),
      pickleTuple(t.size),
      pickleTuple(t.stride),
      bytesOf(0x89, 'ccollections\nOrderedDict\n)R', 't', 'R'),
    );
  }
  parts.push(bytesOf('u.'));
  return bytesOf(...parts);
}

export interface TorchArchiveOptions extends ZipBuildOptions {
  /** Top folder (default "archive"). */
  readonly top?: string;
  /** Contents of the byteorder record (default: none, as torch 1.13 writes). */
  readonly byteorder?: string;
}

/** A torch.save-shaped archive: data.pkl, the storages, version (and byteorder if given). */
export function torchArchive(pickle: Uint8Array, storages: Readonly<Record<string, Uint8Array>>, options: TorchArchiveOptions = {}): Uint8Array {
  const top = options.top ?? 'archive';
  const entries: ZipBuildEntry[] = [{ name: `${top}/data.pkl`, data: pickle }];
  if (options.byteorder !== undefined) entries.push({ name: `${top}/byteorder`, data: new TextEncoder().encode(options.byteorder) });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `${top}/data/${key}`, data });
  entries.push({ name: `${top}/version`, data: new TextEncoder().encode('3\n') });
  return buildZip(entries, options);
}

export { u32 };
