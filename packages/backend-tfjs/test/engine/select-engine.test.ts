/**
 * Engine selection in Node.js: explicit engines, `auto`, option checks, and the
 * BACKEND_UNAVAILABLE error that lists every candidate's real cause. tfjs-node(-gpu) are optional
 * peers that are not installed in this repository; the tests that depend on that say so and skip
 * when they are installed.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { createTfjsBackend, engineOrder, selectEngine, wasmBinaryDirectory } from '../../src/index.js';
import { engineCandidates, type EngineCandidate, type TfjsEngine } from '../../src/engine/select-engine.js';
import type { EngineCandidates } from '../../src/engine/engines.js';

function installed(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageName);
    return true;
  } catch {
    return false;
  }
}
const nodeInstalled = installed('@tensorflow/tfjs-node');
const nodeGpuInstalled = installed('@tensorflow/tfjs-node-gpu');

async function levelskipError(action: () => Promise<unknown>): Promise<LevelskipError> {
  try {
    await action();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError');
}

/** Candidates whose `load` records the engine and fails with `errors[engine]`. */
function recording(errors: Partial<Record<TfjsEngine, Error>>, tried: string[]): EngineCandidates {
  const out = { ...engineCandidates } as Record<TfjsEngine, EngineCandidate>;
  for (const [engine, error] of Object.entries(errors) as [TfjsEngine, Error][]) {
    out[engine] = {
      ...engineCandidates[engine],
      load: () => {
        tried.push(engine);
        return Promise.reject(error);
      },
    };
  }
  return out;
}

describe('selectEngine in Node.js', () => {
  it('auto tries node-gpu, node, wasm, cpu, in that order', () => {
    expect(engineOrder).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
  });

  it.skipIf(nodeInstalled)("'node' without @tensorflow/tfjs-node → BACKEND_UNAVAILABLE naming the package and the reason", async () => {
    const error = await levelskipError(() => createTfjsBackend({ engine: 'node' }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('node: @tensorflow/tfjs-node is not installed');
    expect(error.message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
    expect(error.message).not.toContain('wasm:');
  });

  it.skipIf(nodeGpuInstalled)("'node-gpu' without @tensorflow/tfjs-node-gpu → BACKEND_UNAVAILABLE", async () => {
    const error = await levelskipError(() => createTfjsBackend({ engine: 'node-gpu' }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('@tensorflow/tfjs-node-gpu is not installed');
  });

  it.skipIf(nodeInstalled || nodeGpuInstalled)("'auto' picks wasm when tfjs-node(-gpu) are not installed, single-threaded", async () => {
    const backend = await createTfjsBackend();
    expect(backend.engine).toBe('wasm');
    expect(backend.name).toBe('tfjs-wasm');
    expect(backend.threads).toBe(1);
    expect(backend.capabilities.devices).toEqual(['wasm']);
    expect(backend.capabilities.training).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
    backend.dispose();
  });

  it("'cpu' and 'wasm' start, become tfjs's active backend and report their threads", async () => {
    expect(await selectEngine('cpu')).toEqual({ engine: 'cpu', tfBackend: 'cpu', threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectEngine('wasm')).toEqual({ engine: 'wasm', tfBackend: 'wasm', threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('wasmThreads other than the running count → BACKEND_UNAVAILABLE saying wasm starts once; the same count is accepted', async () => {
    await selectEngine('wasm');
    const error = await levelskipError(() => createTfjsBackend({ engine: 'wasm', wasmThreads: 2 }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('wasm: wasmThreads is 2, but the wasm engine already runs in this process with 1 thread(s)');
    const backend = await createTfjsBackend({ engine: 'wasm', wasmThreads: 1 });
    expect(backend.threads).toBe(1);
  });

  it.each(['webgpu', 'webgl'] as const)("'%s' in Node.js → BACKEND_UNAVAILABLE saying it needs a browser, without loading anything", async (engine) => {
    const tried: string[] = [];
    const candidates = { ...engineCandidates, [engine]: { ...engineCandidates[engine], load: () => (tried.push(engine), Promise.resolve()) } };
    const error = await levelskipError(() => selectEngine(engine, {}, candidates));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain(`the tfjs engine "${engine}" could not start:\n  ${engine}: runs only in a browser`);
    expect(error.message).toContain('in Node.js use node-gpu, node, wasm or cpu');
    expect(error.message).toContain('Choose another engine (auto, node-gpu, node, wasm, cpu)');
    expect(tried).toEqual([]);
  });

  it('an unknown engine name → INVALID_OPTION listing the engines', async () => {
    const error = await levelskipError(() => createTfjsBackend({ engine: 'tpu' as TfjsEngine }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe('createTfjsBackend: engine must be auto, webgpu, webgl, node-gpu, node, wasm, cpu; got "tpu"');
    expect(error.issues[0]?.path).toEqual(['engine']);
  });

  it.each([
    [{ wasmThreads: 0 }, 'wasmThreads', 'createTfjsBackend: wasmThreads must be an integer ≥ 1 (1 = the single-threaded wasm binary), got 0'],
    [{ wasmThreads: 2.5 }, 'wasmThreads', 'got 2.5'],
    [{ wasmThreads: '2' }, 'wasmThreads', 'got "2"'],
    [{ wasmPaths: '/static/wasm' }, 'wasmPaths', 'createTfjsBackend: wasmPaths must be a directory ending in "/" (tfjs appends the file name to it), got "/static/wasm"'],
    [{ wasmPaths: { 'tfjs-backend-wasm-simd.wasm': '/a.wasm' } }, 'wasmPaths', 'missing tfjs-backend-wasm.wasm, tfjs-backend-wasm-threaded-simd.wasm'],
    [{ wasmPaths: { 'tfjs-backend-wasm-simd.wasm': '/a.wasm', 'simd.wasm': '/b.wasm' } }, 'wasmPaths', 'has an unknown file "simd.wasm"'],
    [{ wasmPaths: 3 }, 'wasmPaths', 'must be a directory string ending in "/" or an object'],
    [{ engnie: 'cpu' }, 'engnie', 'createTfjsBackend: engnie is not an option of createTfjsBackend (allowed: engine, wasmPaths, wasmThreads)'],
  ])('a bad option %j → INVALID_OPTION naming %s, before any engine starts', async (options, field, message) => {
    const error = await levelskipError(() => createTfjsBackend(options as never));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.issues[0]?.path).toEqual([field]);
    expect(error.message).toContain(message);
  });

  it("'auto' lists every candidate's real cause when none starts, and tries them in order", async () => {
    const tried: string[] = [];
    const missing = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    // A package that is installed but misses one of *its* dependencies is a start failure, not "not installed".
    const brokenDependency = Object.assign(new Error("Cannot find module 'libtensorflow-binding' imported from @tensorflow/tfjs-node"), { code: 'ERR_MODULE_NOT_FOUND' });
    const candidates = {
      ...recording({ 'node-gpu': missing, node: brokenDependency, wasm: new Error('WebAssembly is not available') }, tried),
      cpu: { ...engineCandidates.cpu, tfBackend: 'no-such-backend' },
    };
    const error = await levelskipError(() => selectEngine('auto', {}, candidates));
    expect(tried).toEqual(['node-gpu', 'node', 'wasm']);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('no tfjs engine could start in Node.js');
    expect(error.message).toContain('node-gpu: @tensorflow/tfjs-node-gpu is not installed');
    expect(error.message).toContain("node: @tensorflow/tfjs-node failed to start: Cannot find module 'libtensorflow-binding' imported from @tensorflow/tfjs-node");
    expect(error.message).toContain('wasm: @tensorflow/tfjs-backend-wasm failed to start: WebAssembly is not available');
    expect(error.message).toContain('cpu: @tensorflow/tfjs-backend-cpu failed to start: importing it registered no tfjs backend named "no-such-backend"');
    expect(error.message).not.toMatch(/webgpu|webgl/);
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors).toHaveLength(4);
  });

  it("'auto' takes the first candidate that starts", async () => {
    const candidates = {
      ...engineCandidates,
      'node-gpu': { ...engineCandidates['node-gpu'], load: () => Promise.reject(new Error('no CUDA')) },
      node: { ...engineCandidates.node, load: () => Promise.resolve(), tfBackend: 'cpu' },
    };
    expect(await selectEngine('auto', {}, candidates)).toEqual({ engine: 'node', tfBackend: 'cpu', threads: undefined });
  });

  it("reports what a tfjs backend's initialisation threw (tfjs itself only logs it), with the candidate's diagnosis", async () => {
    const rejecting = 'levelskip-test-rejects';
    const throwing = 'levelskip-test-throws';
    tf.registerBackend(rejecting, () => Promise.reject(new Error('GPU device was lost\nstack line')));
    const throwingFactory = (): never => {
      throw new Error('WebGL is not supported on this device');
    };
    tf.registerBackend(throwing, throwingFactory);
    try {
      const candidates = {
        ...engineCandidates,
        'node-gpu': { ...engineCandidates['node-gpu'], load: () => Promise.resolve(), tfBackend: rejecting, diagnose: () => Promise.resolve('the probe saw X') },
        node: { ...engineCandidates.node, load: () => Promise.resolve(), tfBackend: throwing },
      };
      const first = await levelskipError(() => selectEngine('node-gpu', {}, candidates));
      expect(first.message).toContain('node-gpu: @tensorflow/tfjs-node-gpu failed to start: initialising it failed: GPU device was lost; the probe saw X');
      expect(first.message).not.toContain('stack line');
      // The error's cause chain ends at what the factory threw, whole.
      expect(((first.cause as Error).cause as Error).message).toBe('GPU device was lost\nstack line');
      const second = await levelskipError(() => selectEngine('node', {}, candidates));
      expect(second.message).toContain('node: @tensorflow/tfjs-node failed to start: initialising it failed: WebGL is not supported on this device');
      // The factory was wrapped only for the call: tfjs's registry holds the original again.
      expect(tf.findBackendFactory(throwing)).toBe(throwingFactory);
    } finally {
      tf.removeBackend(rejecting);
      tf.removeBackend(throwing);
    }
  });

  it('finds the wasm binaries in the installed package', async () => {
    const { existsSync } = await import('node:fs');
    const directory = wasmBinaryDirectory();
    expect(directory.endsWith('/')).toBe(true);
    expect(existsSync(`${directory}tfjs-backend-wasm-simd.wasm`)).toBe(true);
  });
});
