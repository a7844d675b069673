/**
 * One call on the shipped mnist-full with ONNX Runtime (CPU) gives exactly what the explicit
 * six-call path gives with the same settings and seed; the model loads by name, directory and URL;
 * PNGs decode to the greyscale bytes; `using` releases the denoiser and the backend it created.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { powerSchedule, zeroFill } from '@levelskip/core';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { loadPretrained, pretrainedDirectory } from '@levelskip/pretrained';
import { ddim, sample } from '@levelskip/samplers';
import { describe, expect, it } from 'vitest';
import { createPipeline, toByte, type PipelineProgress } from '../src/index.js';
import { decodePng } from './helpers/decode-png.js';

const run = { count: 2, seed: 7, steps: 8, eta: 1, clip: true, schedule: powerSchedule({ c: 2 }), fill: 'zero' } as const;

describe('mnist-full on onnx', () => {
  it('one call equals loadPretrained + createOnnxBackend + createDenoiser + ddim + sample, bit for bit', async () => {
    const events: PipelineProgress[] = [];
    await using pipe = await createPipeline({ model: 'mnist-full', backend: 'onnx', onProgress: (p) => events.push(p) });
    expect(pipe.model).toMatchObject({ source: 'pretrained', name: 'mnist-full' });
    expect(pipe.denoiser.backend).toMatch(/^onnx/);
    expect(events.map((e) => `${e.phase} ${e.done}/${e.total}`)).toEqual(['load 1/3', 'load 2/3', 'load 3/3']);
    const result = await pipe.generate({ ...run, onProgress: (p) => events.push(p) });
    expect(result.settings).toMatchObject({ sampler: 'ddim', steps: 8, eta: 1, clip: true, fill: 'zero', count: 2, seed: 7 });
    expect(events.some((e) => e.phase === 'prepare')).toBe(true);

    // The explicit path, as the pretrained README writes it.
    const { spec, weights } = await loadPretrained('mnist-full');
    using backend = await createOnnxBackend();
    using denoiser = await backend.createDenoiser(spec, weights);
    const explicit = await sample({ denoiser, sampler: ddim({ steps: 8, eta: 1, clipSample: true }), skip: powerSchedule({ c: 2 }), fill: zeroFill, batch: 2, seed: 7 });
    expect(result.shape).toEqual([2, 1, 32, 32]);
    expect(result.ks).toEqual(explicit.ks);
    expect(result.ks).toContain(3);
    expect(result.images).toEqual(explicit.images);

    // Helpers: PNG bytes decode to toGreyscale's pixels, which are the samples mapped to bytes.
    const grey = result.toGreyscale(1);
    expect([...grey]).toEqual([...explicit.images.subarray(1024)].map(toByte));
    expect(decodePng(await result.toPNG(1))).toEqual({ width: 32, height: 32, channels: 1, data: new Uint8Array(grey) });
    const grid = decodePng(await result.toGridPNG());
    expect(grid).toMatchObject({ width: 2 + 2 * 34, height: 36, channels: 1 });
  });

  it('loads by directory, file: URL and http URL (with download progress) to the same model', async () => {
    const directory = pretrainedDirectory('mnist-full');
    const onnx = await createOnnxBackend();
    const server: Server = createServer((request, response) => {
      readFile(join(directory, (request.url ?? '/').replace(/^\/mnist-full\//, ''))).then(
        (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const downloads: PipelineProgress[] = [];
      const sources = [directory, pathToFileURL(directory), `http://127.0.0.1:${port}/mnist-full/`];
      const images: Float32Array[] = [];
      for (const model of sources) {
        using pipe = await createPipeline({ model, backend: onnx, onProgress: (p) => p.phase === 'download' && downloads.push(p) });
        expect(pipe.model.source).toBe(typeof model === 'string' && model.startsWith('http') ? 'url' : 'directory');
        images.push((await pipe.generate({ steps: 2, seed: 3 })).images);
      }
      expect(images[1]).toEqual(images[0]);
      expect(images[2]).toEqual(images[0]);
      const last = downloads.at(-1)!;
      expect(last).toMatchObject({ phase: 'download', what: 'model.safetensors' });
      expect(last.done).toBe(last.total);
    } finally {
      server.close();
      onnx.dispose();
    }
  });

  it('using disposes the denoiser and the backend the pipeline created', async () => {
    let backend;
    {
      using pipe = await createPipeline({ model: 'mnist-full' });
      backend = pipe.backend;
      expect(backend.name).toMatch(/^onnx/);
    }
    await expect(backend.createDenoiser((await loadPretrained('mnist-full')).spec, new Map())).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
