/**
 * Engine selection of the browser build, run in Node: the order `auto` tries, the engines a
 * browser cannot run, WebGPU's and the threaded wasm binary's preconditions, and the probe that
 * tells why a `.wasm` URL failed. The engines themselves start only in a real browser (the demo
 * page's tests); what a page provides (`navigator.gpu`, `crossOriginIsolated`) is stubbed here.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import type { EngineCandidate, EngineCandidates, TfjsEngine } from '../../src/engine/engines.js';
import { engineCandidates, engineOrder, probeWasmUrl, selectEngine } from '../../src/engine/select-browser-engine.js';
import { wasmBinaryDirectory } from '../../src/engine/select-engine.js';

async function levelskipError(action: () => Promise<unknown>): Promise<LevelskipError> {
  try {
    await action();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError');
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('selectEngine in a browser', () => {
  it('auto tries webgpu, webgl, wasm, cpu, in that order, and lists every real cause when none starts', async () => {
    expect(engineOrder).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    const tried: string[] = [];
    const failing = (engine: TfjsEngine, error: Error): EngineCandidate => ({
      ...engineCandidates[engine],
      load: () => {
        tried.push(engine);
        return Promise.reject(error);
      },
    });
    const candidates: EngineCandidates = {
      ...engineCandidates,
      webgpu: failing('webgpu', new Error('GPUDevice lost: reason unknown')),
      webgl: failing('webgl', new Error('Failed to create WebGL2 context')),
      wasm: failing('wasm', new Error('wasm fetch 404')),
      cpu: failing('cpu', new Error('out of memory')),
    };
    const error = await levelskipError(() => selectEngine('auto', {}, candidates));
    expect(tried).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message.split('\n')).toEqual([
      'no tfjs engine could start in a browser:',
      '  webgpu: @tensorflow/tfjs-backend-webgpu failed to start: GPUDevice lost: reason unknown',
      '  webgl: @tensorflow/tfjs-backend-webgl failed to start: Failed to create WebGL2 context',
      '  wasm: @tensorflow/tfjs-backend-wasm failed to start: wasm fetch 404',
      '  cpu: @tensorflow/tfjs-backend-cpu failed to start: out of memory',
      'Install one of the packages above, or fix the error shown.',
    ]);
  });

  it('auto takes the first that starts: cpu when the GPU engines and wasm fail', async () => {
    const reject = (engine: TfjsEngine): EngineCandidate => ({ ...engineCandidates[engine], load: () => Promise.reject(new Error('no')) });
    const candidates = { ...engineCandidates, webgpu: reject('webgpu'), webgl: reject('webgl'), wasm: reject('wasm') };
    expect(await selectEngine('auto', {}, candidates)).toEqual({ engine: 'cpu', tfBackend: 'cpu', threads: 1 });
  });

  it.each([
    ['node-gpu', '@tensorflow/tfjs-node-gpu'],
    ['node', '@tensorflow/tfjs-node'],
  ] as const)("'%s' → BACKEND_UNAVAILABLE saying it runs only in Node.js", async (engine, packageName) => {
    const error = await levelskipError(() => selectEngine(engine));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain(`  ${engine}: runs only in Node.js: ${packageName} is a native addon`);
    expect(error.message).toContain('Choose another engine (auto, webgpu, webgl, wasm, cpu)');
  });

  it('webgpu without navigator.gpu → says the browser exposes no WebGPU', async () => {
    vi.stubGlobal('navigator', {});
    const error = await levelskipError(() => selectEngine('webgpu'));
    expect(error.message).toContain('webgpu: this browser exposes no WebGPU: navigator.gpu is undefined');
  });

  it('webgpu without an adapter → says so', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.resolve(null) } });
    const error = await levelskipError(() => selectEngine('webgpu'));
    expect(error.message).toContain('webgpu: navigator.gpu.requestAdapter() found no GPU adapter');
  });

  it("webgpu whose device request fails → the device's error, through the real package", async () => {
    const adapter = {
      features: new Set<string>(),
      limits: {},
      requestDevice: () => Promise.reject(new Error('A valid external Instance reference no longer exists.')),
    };
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.resolve(adapter) } });
    const error = await levelskipError(() => selectEngine('webgpu'));
    expect(error.message).toContain(
      'webgpu: @tensorflow/tfjs-backend-webgpu failed to start: initialising it failed: A valid external Instance reference no longer exists.',
    );
  });

  it('webgl where the tfjs umbrella registered none (not a page) → says where it registers', async () => {
    expect(tf.findBackendFactory('webgl')).toBeNull();
    const error = await levelskipError(() => selectEngine('webgl'));
    expect(error.message).toContain('webgl: @tensorflow/tfjs registered no webgl backend: it does so only in a page or a web worker');
  });

  it('wasmThreads > 1 in a page that is not cross-origin isolated → names the headers, before wasm starts', async () => {
    vi.stubGlobal('crossOriginIsolated', false);
    const error = await levelskipError(() => selectEngine('wasm', { wasmThreads: 2 }));
    expect(error.message).toContain('wasm: wasmThreads: 2 cannot run here: the page is not cross-origin isolated');
    expect(error.message).toContain('Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp');
    expect(error.message).toContain('pass wasmThreads: 1, or leave it out, to run single-threaded');
  });

  it.each([
    [2, false],
    [4, true],
    [16, true],
  ])('without wasmThreads, %i logical cores take the threaded binary: %s', async (cores, threaded) => {
    // tfjs would run the threaded binary with max(1, cores / 2) threads: with 1, the single-threaded one is taken.
    vi.stubGlobal('navigator', { hardwareConcurrency: cores });
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    try {
      await engineCandidates.wasm.load({});
      expect(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(threaded);
    } finally {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
  });

  it("wasmThreads > 1 where tfjs-backend-wasm sees no thread support → says so (Node's tfjs reports none)", async () => {
    vi.stubGlobal('crossOriginIsolated', true);
    const error = await levelskipError(() => selectEngine('wasm', { wasmThreads: 4 }));
    expect(error.message).toContain('wasm: wasmThreads: 4 cannot run here: tfjs-backend-wasm finds no WebAssembly thread support in this browser');
  });
});

describe('probeWasmUrl', () => {
  const wasm = readFileSync(`${wasmBinaryDirectory()}tfjs-backend-wasm-simd.wasm`);
  let server: Server;
  let origin = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/good.wasm') {
        response.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
      } else if (request.url === '/spa/tfjs-backend-wasm-simd.wasm') {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
      } else {
        response.writeHead(404, 'Not Found').end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('finds nothing wrong with a WebAssembly binary', async () => {
    expect(await probeWasmUrl(`${origin}/good.wasm`)).toBeUndefined();
  });

  it('reports an HTTP error', async () => {
    expect(await probeWasmUrl(`${origin}/missing/tfjs-backend-wasm.wasm`)).toBe('the server answered 404 Not Found');
  });

  it('reports a page served in place of the binary', async () => {
    expect(await probeWasmUrl(`${origin}/spa/tfjs-backend-wasm-simd.wasm`)).toBe(
      'the server answered with text/html that is not WebAssembly (a page served for unknown paths?)',
    );
  });

  it("diagnoses a failed start without wasmPaths at the page-relative URL tfjs used", async () => {
    vi.stubGlobal('location', { href: `${origin}/app/index.html` });
    const diagnosis = await engineCandidates.wasm.diagnose?.({});
    expect(diagnosis).toBe(
      `tfjs looked for tfjs-backend-wasm-simd.wasm relative to the page, at ${origin}/app/tfjs-backend-wasm-simd.wasm (tfjs's default without wasmPaths): ` +
        'the server answered 404 Not Found; pass wasmPaths: a directory URL ending in "/" that serves the .wasm files of @tensorflow/tfjs-backend-wasm@4.22.0 (its dist/ folder)',
    );
  });

  it('diagnoses a failed start with wasmPaths at the binary tfjs picked', async () => {
    expect(await engineCandidates.wasm.diagnose?.({ wasmPaths: `${origin}/spa/` })).toBe(
      `tfjs-backend-wasm-simd.wasm at ${origin}/spa/tfjs-backend-wasm-simd.wasm: the server answered with text/html that is not WebAssembly (a page served for unknown paths?)`,
    );
  });

  it('reports a fetch that fails', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await probeWasmUrl(`http://127.0.0.1:${port}/x.wasm`)).toMatch(/^fetching it failed \(fetch failed\): check the URL/);
  });
});
