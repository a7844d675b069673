/**
 * Engine selection: explicit engines, `auto`, and the BACKEND_UNAVAILABLE error that lists why
 * every candidate failed. tfjs-node(-gpu) are optional peers that are not installed in this
 * repository; the tests that depend on that say so and skip when they are installed.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { createTfjsBackend, selectEngine, wasmBinaryDirectory } from '../../src/index.js';
import { engineCandidates, type EngineCandidate, type TfjsEngine } from '../../src/engine/select-engine.js';

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

async function unavailable(action: () => Promise<unknown>): Promise<LevelskipError> {
  try {
    await action();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError');
}

describe('selectEngine', () => {
  it.skipIf(nodeInstalled)("'node' without @tensorflow/tfjs-node → BACKEND_UNAVAILABLE naming the package and the reason", async () => {
    const error = await unavailable(() => createTfjsBackend({ engine: 'node' }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('node: @tensorflow/tfjs-node is not installed');
    expect(error.message).toContain('npm install @tensorflow/tfjs-node@4.22.0');
    expect(error.message).not.toContain('wasm:');
  });

  it.skipIf(nodeGpuInstalled)("'node-gpu' without @tensorflow/tfjs-node-gpu → BACKEND_UNAVAILABLE", async () => {
    const error = await unavailable(() => createTfjsBackend({ engine: 'node-gpu' }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('@tensorflow/tfjs-node-gpu is not installed');
  });

  it.skipIf(nodeInstalled || nodeGpuInstalled)("'auto' picks wasm when tfjs-node(-gpu) are not installed", async () => {
    const backend = await createTfjsBackend();
    expect(backend.engine).toBe('wasm');
    expect(backend.name).toBe('tfjs-wasm');
    expect(backend.capabilities.devices).toEqual(['wasm']);
    expect(tf.getBackend()).toBe('wasm');
    backend.dispose();
  });

  it("'cpu' and 'wasm' start and become tfjs's active backend", async () => {
    expect(await selectEngine('cpu')).toEqual({ engine: 'cpu', tfBackend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectEngine('wasm')).toEqual({ engine: 'wasm', tfBackend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown engine name → INVALID_OPTION', async () => {
    const error = await unavailable(() => createTfjsBackend({ engine: 'webgpu' as TfjsEngine }));
    expect(error.code).toBe('INVALID_OPTION');
  });

  it("'auto' lists every candidate's failure when none starts, and tries them in order", async () => {
    const tried: string[] = [];
    const failing = (engine: TfjsEngine, error: Error): EngineCandidate => ({
      ...engineCandidates[engine],
      load: () => {
        tried.push(engine);
        return Promise.reject(error);
      },
    });
    const missing = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const candidates = {
      'node-gpu': failing('node-gpu', missing),
      node: failing('node', new Error('libtensorflow.so.2: cannot open shared object file')),
      wasm: failing('wasm', new Error('WebAssembly is not available')),
      cpu: { ...engineCandidates.cpu, tfBackend: 'no-such-backend' },
    };
    const error = await unavailable(() => selectEngine('auto', candidates));
    expect(tried).toEqual(['node-gpu', 'node', 'wasm']);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('no tfjs engine could start');
    expect(error.message).toContain('node-gpu: @tensorflow/tfjs-node-gpu is not installed');
    expect(error.message).toContain('node: @tensorflow/tfjs-node failed to start: libtensorflow.so.2: cannot open shared object file');
    expect(error.message).toContain('wasm: @tensorflow/tfjs-backend-wasm failed to start: WebAssembly is not available');
    expect(error.message).toContain('cpu: @tensorflow/tfjs-backend-cpu failed to start: importing it registered no tfjs backend named "no-such-backend"');
    expect(error.cause).toBeInstanceOf(AggregateError);
  });

  it("'auto' takes the first candidate that starts", async () => {
    const candidates = {
      ...engineCandidates,
      'node-gpu': { ...engineCandidates['node-gpu'], load: () => Promise.reject(new Error('no CUDA')) },
      node: { ...engineCandidates.node, load: () => Promise.resolve(), tfBackend: 'cpu' },
    };
    expect(await selectEngine('auto', candidates)).toEqual({ engine: 'node', tfBackend: 'cpu' });
  });

  it('finds the wasm binaries in the installed package', async () => {
    const { existsSync } = await import('node:fs');
    const directory = wasmBinaryDirectory();
    expect(directory.endsWith('/')).toBe(true);
    expect(existsSync(`${directory}tfjs-backend-wasm-simd.wasm`)).toBe(true);
  });
});
