import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { fetchCheckpoint, type FetchProgress } from '../../src/checkpoint/fetch-checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint-files.js';
import { isLevelskipError, type LevelskipErrorCode } from '../../src/errors/levelskip-error.js';
import { deterministicWeights, tinySpec } from './deterministic-weights.js';

const spec = tinySpec();
const weights = deterministicWeights(spec);
let root: string;
let server: Server;
let baseUrl: string;
const requests: string[] = [];

async function rejection(promise: Promise<unknown>, code: LevelskipErrorCode): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (isLevelskipError(error) && error.code === code) return error;
    throw error;
  }
  throw new Error(`expected ${code}`);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-fetch-'));
  await saveCheckpoint(join(root, 'good'), { spec, weights, dtype: 'F16', training: { steps: 3 } });
  // A static server over `root`, as a page's host would serve a models/ directory.
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (path === '/not-json/model.json') return void response.end('<html>not found page</html>');
    readFile(join(root, path))
      .then((bytes) => {
        response.setHeader('content-length', bytes.length);
        response.end(bytes);
      })
      .catch(() => {
        response.statusCode = 404;
        response.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('serializeCheckpoint / parseCheckpoint (no file system)', () => {
  it('writes the bytes saveCheckpoint writes, and parses what loadCheckpoint loads', async () => {
    const files = serializeCheckpoint({ spec, weights, dtype: 'F16', training: { steps: 3 } });
    const onDisk = await readFile(join(root, 'good', 'model.safetensors'));
    expect(Buffer.from(files.weights).equals(onDisk)).toBe(true);
    const fromBytes = parseCheckpoint(files.manifest, files.weights.buffer.slice(files.weights.byteOffset, files.weights.byteOffset + files.weights.byteLength) as ArrayBuffer);
    const fromDisk = await loadCheckpoint(join(root, 'good'));
    expect(fromBytes.spec).toEqual(fromDisk.spec);
    expect(fromBytes.manifest.training).toEqual({ steps: 3 });
    for (const [name, tensor] of fromDisk.weights) expect(fromBytes.weights.get(name)!.data).toEqual(tensor.data);
  });

  it('names the given sources in its errors', () => {
    const files = serializeCheckpoint({ spec, weights });
    const error = (() => {
      try {
        parseCheckpoint(files.manifest, files.weights.subarray(0, 20), { weights: 'https://example.org/m/model.safetensors' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(isLevelskipError(error) && error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toContain('https://example.org/m/model.safetensors');
  });
});

describe('fetchCheckpoint', () => {
  it('loads the same checkpoint as loadCheckpoint, reporting progress per file', async () => {
    const progress: FetchProgress[] = [];
    const fetched = await fetchCheckpoint(`${baseUrl}/good`, { onProgress: (p) => progress.push(p) });
    const fromDisk = await loadCheckpoint(join(root, 'good'));
    expect(fetched.spec).toEqual(fromDisk.spec);
    for (const [name, tensor] of fromDisk.weights) expect(fetched.weights.get(name)!.data).toEqual(tensor.data);
    const size = (await readFile(join(root, 'good', 'model.safetensors'))).length;
    const last = progress.filter((p) => p.file === 'model.safetensors').at(-1)!;
    expect(last).toMatchObject({ loaded: size, total: size, url: `${baseUrl}/good/model.safetensors` });
    const loadedInOrder = progress.filter((p) => p.file === 'model.safetensors').map((p) => p.loaded);
    expect([...loadedInOrder].sort((a, b) => a - b)).toEqual(loadedInOrder);
  });

  it('404 is CHECKPOINT_MISSING naming the URL', async () => {
    const error = await rejection(fetchCheckpoint(`${baseUrl}/absent/`), 'CHECKPOINT_MISSING');
    expect(error.message).toContain(`${baseUrl}/absent/model.json`);
  });

  it('a manifest that is not one fails before the weights are requested', async () => {
    requests.length = 0;
    const error = await rejection(fetchCheckpoint(`${baseUrl}/not-json/`), 'CHECKPOINT_CORRUPT');
    expect(error.message).toContain('/not-json/model.json');
    expect(requests).toEqual(['/not-json/model.json']);
  });

  it('an aborted download rejects with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    await rejection(fetchCheckpoint(`${baseUrl}/good`, { signal: controller.signal }), 'ABORTED');
  });

  it('an unreachable server is IO_ERROR and a malformed URL INVALID_OPTION', async () => {
    await rejection(fetchCheckpoint('http://127.0.0.1:1/m/'), 'IO_ERROR');
    await rejection(fetchCheckpoint('not a url'), 'INVALID_OPTION');
  });
});
