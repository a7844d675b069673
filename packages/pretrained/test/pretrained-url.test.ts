/**
 * The shipped models fetched over HTTP, as a page loads them: a static server over this package's
 * models/ directory, and `loadPretrained(name, { baseUrl })` from both entries (Node's and the
 * browser's), which must return exactly what the disk loader returns.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { loadPretrained, pretrainedDirectory } from '../src/index.js';
import { loadPretrained as loadPretrainedInBrowser } from '../src/index-browser.js';

const modelsRoot = join(pretrainedDirectory('mnist-full'), '..'); // packages/, holding model-<name>/ per model
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/models\//, '');
    readFile(join(modelsRoot, `model-${path}`))
      .then((bytes) => response.end(bytes))
      .catch(() => {
        response.statusCode = 404;
        response.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}/models/`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('loadPretrained with a baseUrl', () => {
  it.each([
    ['the Node entry', loadPretrained],
    ['the browser entry', loadPretrainedInBrowser],
  ])('%s fetches mnist-full: same spec, weights and record as from disk', async (_entry, load) => {
    const fromDisk = await loadPretrained('mnist-full');
    const fetched = await load('mnist-full', { baseUrl });
    expect(fetched.spec).toEqual(fromDisk.spec);
    expect(fetched.manifest).toEqual(fromDisk.manifest);
    expect(fetched.info.training).toEqual(fromDisk.info.training);
    expect(fetched.info.directory).toBe(`${baseUrl}mnist-full/`);
    expect([...fetched.weights.keys()].sort()).toEqual([...fromDisk.weights.keys()].sort());
    // Byte comparison: vitest's deep equality walks 3M floats one by one.
    const bytes = (data: Float32Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const differing = [...fromDisk.weights].filter(([name, tensor]) => !bytes(fetched.weights.get(name)!.data).equals(bytes(tensor.data)));
    expect(differing.map(([name]) => name)).toEqual([]);
  });

  it('the browser entry without a baseUrl says what to pass', async () => {
    const error = await loadPretrainedInBrowser('mnist-full').catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(/baseUrl/);
  });

  it('an unknown name fails before any request; a model the server lacks is CHECKPOINT_MISSING', async () => {
    await expect(loadPretrainedInBrowser('mnist-typo', { baseUrl })).rejects.toThrow(/Unknown pretrained model "mnist-typo"/);
    const error = await loadPretrained('mnist-full', { baseUrl: baseUrl.replace('/models/', '/elsewhere/') }).catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('CHECKPOINT_MISSING');
  });
});
