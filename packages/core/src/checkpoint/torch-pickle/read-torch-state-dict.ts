/**
 * Reads PyTorch `.bin` / `.pt` weights (`torch.save(model.state_dict())`, e.g. diffusers'
 * `diffusion_pytorch_model.bin`) without Python and without executing anything.
 *
 * Since torch 1.6 such a file is a zip archive of records under one top folder (its name varies:
 * `archive/`, or the file's stem):
 *
 *   <top>/data.pkl      the pickled dict; each tensor is a strided view of a storage
 *   <top>/data/<key>    one storage's raw elements (little-endian unless <top>/byteorder says "big")
 *   <top>/version       and other bookkeeping records, ignored
 *
 * The zip is read by `readZipDirectory` (stored entries only, every offset bounded, CRC-32 checked),
 * the pickle by the restricted machine in `pickle-machine.ts` with the state-dict whitelist of
 * `state-dict-hooks.ts`, and each tensor is copied out in row-major float32.
 */
import type { HostTensor } from '../../backend/tensor-ops.js';
import { LevelskipError } from '../../errors/levelskip-error.js';
import { checkTensorFinite } from '../safetensors.js';
import { quoteName } from '../strict-json.js';
import { describePickleValue, PickleDict, runPickle } from './pickle-machine.js';
import { createStateDictHooks } from './state-dict-hooks.js';
import { materializeTorchTensor, TorchTensor } from './torch-tensor.js';
import { describeZipName, readZipDirectory, zipEntryBytes, type ZipEntry } from './zip-reader.js';

export interface ReadTorchStateDictOptions {
  /** Names the file in every error message, e.g. `unet/diffusion_pytorch_model.bin` (default "PyTorch checkpoint"). */
  readonly source?: string;
  /**
   * Throw `CHECKPOINT_CORRUPT` on a NaN or an infinity, naming the tensor and the first bad index
   * (default true: model weights are never meant to be non-finite).
   */
  readonly rejectNonFinite?: boolean;
  /**
   * Check each record read (the pickle and every storage) against the CRC-32 in the zip directory
   * (default true; ~0.6 GB/s on one core: turn it off only for a file whose integrity is known).
   */
  readonly verifyChecksums?: boolean;
}

/** The first bytes of a zip archive's first local file header. */
const zipSignature = [0x50, 0x4b, 0x03, 0x04] as const;
/**
 * The start of a pre-1.6 torch.save file: PROTO 2, then LONG1 of torch's magic number
 * 0x1950a86a20f9469cfc6c (`torch/serialization.py`, MAGIC_NUMBER).
 */
const legacyTorchMagic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19] as const;

const legacyAdvice =
  'levelskip reads the zip format torch.save has written since PyTorch 1.6; load and re-save it once with a current torch ' +
  '(torch.save(torch.load(path, weights_only=True), path)), or convert it to safetensors';

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/**
 * True when `bytes` starts like a zip archive (`PK\x03\x04`), as every `torch.save` file since
 * PyTorch 1.6 does. A cheap sniff to choose a reader: nothing is validated.
 */
export function isTorchZipFile(bytes: Uint8Array): boolean {
  return startsWith(bytes, zipSignature);
}

/** Explains a file that is not a zip archive: legacy torch formats and misnamed safetensors get their own advice. */
function notZipError(bytes: Uint8Array): LevelskipError {
  if (startsWith(bytes, legacyTorchMagic)) {
    return new LevelskipError('UNSUPPORTED', `this is a legacy (pre-1.6) torch.save file; ${legacyAdvice}`);
  }
  // torch < 0.4 wrote a tar archive ("ustar" at offset 257).
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    return new LevelskipError('UNSUPPORTED', `this is a tar-format torch.save file (PyTorch before 0.4); ${legacyAdvice}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) {
    return new LevelskipError('UNSUPPORTED', `this is a bare pickle, not a torch.save zip archive; ${legacyAdvice}`);
  }
  if (bytes.length >= 9 && bytes[8] === 0x7b && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0) {
    return new LevelskipError('CHECKPOINT_CORRUPT', 'this looks like a safetensors file, not a PyTorch zip archive; name it *.safetensors and read it as safetensors');
  }
  return new LevelskipError(
    'CHECKPOINT_CORRUPT',
    `not a PyTorch checkpoint: torch.save files (PyTorch 1.6 and later) are zip archives that start with "PK\\x03\\x04", this one starts with 0x${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('')}`,
  );
}

/** The top folder every record lives in, and the records that matter. */
function archiveLayout(entries: readonly ZipEntry[]): { top: string; pickle: ZipEntry } {
  const first = entries[0];
  if (first === undefined) throw new LevelskipError('CHECKPOINT_CORRUPT', 'the zip archive is empty; a torch.save file holds <top>/data.pkl and its storages');
  const slash = first.name.indexOf('/');
  if (slash <= 0) throw new LevelskipError('CHECKPOINT_CORRUPT', `zip record ${describeZipName(first.name)} is not inside a top folder, as every torch.save record is`);
  const top = first.name.slice(0, slash + 1);
  for (const entry of entries) {
    if (!entry.name.startsWith(top)) {
      throw new LevelskipError('CHECKPOINT_CORRUPT', `zip records ${describeZipName(first.name)} and ${describeZipName(entry.name)} lie in different top folders; a torch.save archive has one`);
    }
  }
  const pickle = entries.find((entry) => entry.name === `${top}data.pkl`);
  if (pickle === undefined) {
    throw new LevelskipError('CHECKPOINT_CORRUPT', `the zip archive has no ${describeZipName(`${top}data.pkl`)} record: it is not a torch.save file`);
  }
  return { top, pickle };
}

function readByteOrder(bytes: Uint8Array, entry: ZipEntry | undefined, verify: boolean): boolean {
  if (entry === undefined) return true;
  const text = new TextDecoder().decode(zipEntryBytes(bytes, entry, verify)).trim();
  if (text === 'little') return true;
  if (text === 'big') return false;
  throw new LevelskipError('CHECKPOINT_CORRUPT', `the byteorder record must say "little" or "big", got a text of ${text.length} characters`);
}

function readStateDict(bytes: Uint8Array, options: ReadTorchStateDictOptions): Map<string, HostTensor> {
  const verify = options.verifyChecksums ?? true;
  if (!isTorchZipFile(bytes)) throw notZipError(bytes);
  const directory = readZipDirectory(bytes);
  const { top, pickle } = archiveLayout(directory.entries);
  const littleEndian = readByteOrder(bytes, directory.byName.get(`${top}byteorder`), verify);

  const hooks = createStateDictHooks((key) => {
    const entry = directory.byName.get(`${top}data/${key}`);
    if (entry === undefined) throw new LevelskipError('CHECKPOINT_CORRUPT', `storage ${JSON.stringify(key)} has no record ${describeZipName(`${top}data/${key}`)} in the archive`);
    return zipEntryBytes(bytes, entry, verify);
  });
  const root = runPickle(zipEntryBytes(bytes, pickle, verify), hooks);
  if (!(root instanceof PickleDict)) {
    throw new LevelskipError('UNSUPPORTED', `the pickle holds ${describePickleValue(root)}, not a state dict (a dict of name → tensor)`);
  }

  // Views may share storage (tied weights, a saved transpose) or repeat elements (stride 0), so the
  // output can exceed the file; it is capped at 2 float32s (8 bytes) per file byte.
  const maxElements = 2 * bytes.length + 1024;
  let elements = 0;
  const rejectNonFinite = options.rejectNonFinite ?? true;
  const tensors = new Map<string, HostTensor>();
  for (const [key, value] of root.entries) {
    if (typeof key !== 'string') throw new LevelskipError('UNSUPPORTED', `the state dict has the key ${describePickleValue(key)}; tensor names are strings`);
    if (!(value instanceof TorchTensor)) {
      // A training checkpoint nests the weights in an inner dict ({"epoch": 3, "state_dict": {...}}).
      const inner = [...root.entries].find(([, v]) => v instanceof PickleDict && [...v.entries.values()].some((t) => t instanceof TorchTensor));
      const nested =
        inner !== undefined && typeof inner[0] === 'string'
          ? `; this looks like a training checkpoint with the weights nested under ${quoteName(inner[0])}: save that inner dict alone with torch.save`
          : '';
      throw new LevelskipError('UNSUPPORTED', `state dict entry ${quoteName(key)} holds ${describePickleValue(value)}, not a tensor${nested}`);
    }
    const type = value.storage.type;
    if (!type.readable) {
      throw new LevelskipError(
        'UNSUPPORTED',
        `tensor ${quoteName(key)} is ${type.dtype} (torch.${type.className}); levelskip reads float32, float16 and bfloat16 weights: convert it with .float() before saving, or leave it out`,
      );
    }
    elements += value.numel;
    if (elements > maxElements) {
      throw new LevelskipError(
        'CHECKPOINT_CORRUPT',
        `the tensors up to ${quoteName(key)} hold ${elements} elements, more than 2 per byte of this ${bytes.length}-byte file: views that repeat storage elements this often are not weights`,
      );
    }
    const data = materializeTorchTensor(value, littleEndian);
    if (rejectNonFinite) checkTensorFinite(key, data);
    tensors.set(key, { shape: [...value.shape], data });
  }
  return tensors;
}

/**
 * Reads a `torch.save(state_dict)` file (PyTorch 1.6+ zip format; e.g. diffusers'
 * `diffusion_pytorch_model.bin`) held in memory, without Python and without executing anything:
 * the pickle is interpreted by a restricted machine that accepts only the globals a state dict
 * needs and refuses every other one by name.
 *
 * @param bytes The whole file.
 * @returns Every tensor, widened to float32 and copied out in row-major order (views such as a
 *   saved transpose are gathered), keyed by name in the file's order.
 * @throws LevelskipError, its message prefixed with `options.source`:
 *   `CHECKPOINT_CORRUPT` for a damaged file (bad zip structure, CRC mismatch, malformed pickle,
 *   a view outside its storage, a NaN or infinity unless `rejectNonFinite` is false);
 *   `UNSUPPORTED` for a legacy (pre-1.6) or bare-pickle file, compressed or encrypted zip entries,
 *   a global outside the state-dict whitelist (e.g. `os.system`, a pickled model class),
 *   a non-tensor entry or a tensor of another dtype (int64, float64, ...);
 *   `INVALID_OPTION` for a bad option.
 */
export function readTorchStateDict(bytes: Uint8Array, options: ReadTorchStateDictOptions = {}): Map<string, HostTensor> {
  const source = options.source ?? 'PyTorch checkpoint';
  if (typeof source !== 'string') throw new LevelskipError('INVALID_OPTION', `source must be a string naming the file, got ${typeof source}`);
  for (const flag of ['rejectNonFinite', 'verifyChecksums'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new LevelskipError('INVALID_OPTION', `${flag} must be true or false, got ${typeof options[flag]}`);
    }
  }
  if (!(bytes instanceof Uint8Array)) throw new LevelskipError('INVALID_OPTION', `bytes must be a Uint8Array holding the whole file, got ${typeof bytes}`);
  try {
    return readStateDict(bytes, options);
  } catch (error) {
    if (LevelskipError.is(error)) throw new LevelskipError(error.code, `${source}: ${error.message}`, { cause: error, issues: error.issues });
    throw error;
  }
}
