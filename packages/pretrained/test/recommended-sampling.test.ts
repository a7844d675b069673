/**
 * Every shipped model recommends how to sample it (model.json's `sampling`, issue 22 item 2): the
 * settings the project measured best (DDIM with η = 1 and clipping, far ahead of η = 0 in
 * docs/results.md), a schedule core can rebuild, and a note citing the measurement. The loaders
 * hand them out: `listPretrained()` and `loadPretrained()` (from disk and by URL) alike.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertFillSupported, parseFill, skipScheduleFromJSON } from '@levelskip/core';
import { listPretrained, loadPretrained, pretrainedDirectory } from '../src/index.js';
import type { PretrainedInfo } from '../src/index.js';
import { loadPretrained as loadPretrainedInBrowser } from '../src/index-browser.js';

const available = listPretrained().filter((m): m is PretrainedInfo => m.available);

describe('recommended sampling settings of the shipped models', () => {
  it('every shipped model has them, listed by listPretrained()', () => {
    expect(available.length).toBeGreaterThan(0);
    for (const model of available) expect(model.sampling, model.name).toBeDefined();
  });

  it.each(available.map((m) => [m.name]))('%s: DDIM-50, η = 1, clipping, a valid schedule and fill, and a note citing FD-LeNet', async (name) => {
    const loaded = await loadPretrained(name);
    const sampling = loaded.manifest.sampling!;
    expect(loaded.info.sampling).toEqual(sampling);
    expect(available.find((m) => m.name === name)!.sampling).toEqual(sampling);
    expect(sampling).toMatchObject({ sampler: 'ddim', steps: 50, eta: 1, clip: true });
    // The schedule rebuilds in core; the fill (the one the model was trained with, if any) runs on this spec.
    expect(() => skipScheduleFromJSON(sampling.schedule)).not.toThrow();
    const fill = sampling.fill ?? loaded.info.fill;
    expect(fill).toBe(loaded.info.fill);
    expect(() => assertFillSupported(loaded.spec, parseFill(fill))).not.toThrow();
    // Where the numbers come from, and at least one FD-LeNet value from docs/results.md.
    expect(sampling.note).toMatch(/FD-LeNet.*n = 500.*docs\/results\.md/);
    expect(sampling.note).toMatch(/η = 1/);
  });

  it('the skip-trained model suggests the schedule it was trained for', async () => {
    const { manifest } = await loadPretrained('mnist-zero-c2');
    expect(manifest.sampling?.schedule).toEqual(manifest.training?.['schedule']);
  });
});

describe('by URL', () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    const modelsRoot = join(pretrainedDirectory('mnist-full'), '..'); // packages/, holding model-<name>/ per model
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

  it.each([
    ['the Node entry', loadPretrained],
    ['the browser entry', loadPretrainedInBrowser],
  ])('%s returns the same recommendation as the disk loader', async (_entry, load) => {
    const fetched = await load('mnist-zero-c2', { baseUrl });
    expect(fetched.info.sampling).toEqual((await loadPretrained('mnist-zero-c2')).info.sampling);
    expect(fetched.info.sampling?.sampler).toBe('ddim');
  });
});
