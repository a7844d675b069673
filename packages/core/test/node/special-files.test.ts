/**
 * Issue 21 items 7, 9 and 11: special, huge and hostile files fail at once with a LevelskipError
 * naming the path and what it is (never hang, never read gigabytes, never a raw Node error), and
 * messages never quote a file's contents.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import type { LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import { loadCheckpoint } from '../../src/node/checkpoint-files.js';
import { fileSystemError } from '../../src/node/file-system-error.js';
import { readRegularFile } from '../../src/node/read-regular-file.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
const files = serializeCheckpoint({ spec, weights: deterministicWeights(spec) });
let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-special-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A checkpoint directory with the given manifest and weights entries (bytes, or a callback that makes the entry). */
async function checkpointWith(manifest: string | ((path: string) => Promise<unknown>), weights: Uint8Array | ((path: string) => Promise<unknown>)): Promise<string> {
  const dir = join(root, `c${counter++}`);
  await mkdir(dir);
  const make = async (name: string, entry: string | Uint8Array | ((path: string) => Promise<unknown>)): Promise<void> => {
    if (typeof entry === 'function') await entry(join(dir, name));
    else await writeFile(join(dir, name), entry);
  };
  await make('model.json', manifest);
  await make('model.safetensors', weights);
  return dir;
}

async function failure(promise: Promise<unknown>, code: LevelskipErrorCode): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'a LevelskipError').toMatchObject({ name: 'LevelskipError', code });
  return (error as Error).message;
}

const mkfifo = (path: string): Promise<void> => Promise.resolve(void execFileSync('mkfifo', [path]));
const linkTo = (target: string) => (path: string) => symlink(target, path);

describe('special files (item 7): only regular files are read', () => {
  it('model.json linked to /dev/zero and model.safetensors linked to /dev/urandom fail at once, naming the device', async () => {
    let message = await failure(loadCheckpoint(await checkpointWith(linkTo('/dev/zero'), files.weights)), 'IO_ERROR');
    expect(message).toMatch(/model\.json: it is a character device \(a symbolic link to \/dev\/zero\), not a regular file/);
    message = await failure(loadCheckpoint(await checkpointWith(files.manifest, linkTo('/dev/urandom'))), 'IO_ERROR');
    expect(message).toMatch(/model\.safetensors: it is a character device \(a symbolic link to \/dev\/urandom\)/);
  }, 5_000);

  it('a FIFO as model.json or model.safetensors fails at once instead of blocking', async () => {
    expect(await failure(loadCheckpoint(await checkpointWith(mkfifo, files.weights)), 'IO_ERROR')).toMatch(/model\.json: it is a FIFO/);
    expect(await failure(loadCheckpoint(await checkpointWith(files.manifest, mkfifo)), 'IO_ERROR')).toMatch(/model\.safetensors: it is a FIFO/);
    const fifo = join(root, 'fifo');
    await mkfifo(fifo);
    expect(await failure(readRegularFile(fifo), 'IO_ERROR')).toContain(fifo);
  }, 5_000);

  it('a directory named model.json or model.safetensors: a clean error, not a raw EISDIR', async () => {
    const mkdirAt = (path: string) => mkdir(path);
    expect(await failure(loadCheckpoint(await checkpointWith(mkdirAt, files.weights)), 'IO_ERROR')).toMatch(/model\.json: it is a directory/);
    expect(await failure(loadCheckpoint(await checkpointWith(files.manifest, mkdirAt)), 'IO_ERROR')).toMatch(/model\.safetensors: it is a directory/);
  });

  it('model.json is bounded: a 2 MiB one is refused before it is parsed', async () => {
    const big = `${files.manifest.slice(0, -2)}, "padding": "${' '.repeat(2 * 1024 * 1024)}"}`;
    expect(await failure(loadCheckpoint(await checkpointWith(big, files.weights)), 'CHECKPOINT_CORRUPT')).toMatch(/model\.json: it has 2\.0 MiB, more than the 1\.0 MiB allowed/);
  });

  it('huge sparse weights (1.5 and 3 GiB) fail on their header, without reading the data or a raw ERR_FS_FILE_TOO_LARGE', async () => {
    const sparse = (size: number, prefix: Uint8Array) => async (path: string) => {
      const handle = await open(path, 'w');
      await handle.write(prefix, 0, prefix.length, 0);
      await handle.truncate(size);
      await handle.close();
    };
    const rss = process.memoryUsage().rss;
    // A real header followed by gigabytes: the header's tensors do not tile the data.
    const header = files.weights.subarray(0, 8 + Number(new DataView(files.weights.buffer).getBigUint64(0, true)));
    for (const size of [1.5 * 1024 ** 3, 3 * 1024 ** 3]) {
      expect(await failure(loadCheckpoint(await checkpointWith(files.manifest, sparse(size, header))), 'CHECKPOINT_CORRUPT')).toMatch(/model\.safetensors/);
    }
    // All zeros: an empty header.
    expect(await failure(loadCheckpoint(await checkpointWith(files.manifest, sparse(3 * 1024 ** 3, new Uint8Array(8)))), 'CHECKPOINT_CORRUPT')).toMatch(/model\.safetensors/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 1024 * 1024);
  }, 10_000);
});

describe('file-system errors (item 9): a LevelskipError with a code and the path', () => {
  it('a symlink loop (ELOOP)', async () => {
    const dir = await checkpointWith((path) => symlink(path, path), files.weights);
    expect(await failure(loadCheckpoint(dir), 'IO_ERROR')).toMatch(/model\.json \(ELOOP\)/);
  });

  it('a name too long (ENAMETOOLONG) and a file used as a directory (ENOTDIR)', async () => {
    const long = join(root, 'x'.repeat(300));
    expect(await failure(loadCheckpoint(long), 'IO_ERROR')).toMatch(/\(ENAMETOOLONG\): .*255 bytes/);
    await writeFile(join(root, 'plain'), '');
    expect(await failure(loadCheckpoint(join(root, 'plain', 'sub')), 'IO_ERROR')).toMatch(/plain\/sub \(ENOTDIR\)/);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable model.json (EACCES)', async () => {
    const dir = await checkpointWith(files.manifest, files.weights);
    execFileSync('chmod', ['000', join(dir, 'model.json')]);
    expect(await failure(loadCheckpoint(dir), 'IO_ERROR')).toMatch(/model\.json \(EACCES\)/);
  });

  it('every errno maps to a code: ENOENT to the caller\'s missing code, EROFS to a read-only message, never to ENOENT', () => {
    const errno = (code: string) => Object.assign(new Error(`${code}: raw, '/x'`), { code });
    const rofs = fileSystemError(errno('EROFS'), '/mnt/ro/out.png', { action: 'write' });
    expect(rofs).toMatchObject({ code: 'IO_ERROR' });
    expect(rofs.message).toBe('Could not write /mnt/ro/out.png (EROFS): the file system is read-only (EROFS); choose a writable location');
    expect(fileSystemError(errno('ENOENT'), '/a', { missingCode: 'CHECKPOINT_MISSING' }).code).toBe('CHECKPOINT_MISSING');
    for (const code of ['EISDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES', 'EPERM', 'ENOTDIR', 'EMFILE', 'ENFILE', 'ENOSPC', 'EIO', 'EXDEV', 'ERR_FS_FILE_TOO_LARGE', 'EWEIRD']) {
      const error = fileSystemError(errno(code), '/some/path');
      expect(error).toMatchObject({ name: 'LevelskipError', code: 'IO_ERROR' });
      expect(error.message).toContain('/some/path');
      expect(error.message).toContain(`(${code})`);
    }
    expect(fileSystemError(new RangeError('Array buffer allocation failed'), '/p').message).toBe('Could not access /p: Array buffer allocation failed');
  });
});

describe('disclosure (item 11): messages name paths, never contents', () => {
  it('a model.json linked to /etc/passwd does not echo it', async () => {
    const message = await failure(loadCheckpoint(await checkpointWith(linkTo('/etc/passwd'), files.weights)), 'CHECKPOINT_CORRUPT');
    expect(message).toContain('model.json');
    expect(message).not.toMatch(/root:|:0:0|\/bin\/|nologin/);
  });

  it('a weightsFile that is a path is refused without quoting it', async () => {
    const manifest = files.manifest.replace('"weightsFile": "model.safetensors"', '"weightsFile": "../../etc/secret-name.safetensors"');
    const message = await failure(loadCheckpoint(await checkpointWith(manifest, files.weights)), 'CHECKPOINT_CORRUPT');
    expect(message).toMatch(/weightsFile/);
    expect(message).not.toContain('secret-name');
  });
});
