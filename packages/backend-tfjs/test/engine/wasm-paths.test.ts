/**
 * The wasm engine loads its binaries from an explicit `wasmPaths`. The binaries are copied under
 * names tfjs would never look for, so the engine can only start if the map was honoured. In a
 * file of its own: tfjs-backend-wasm starts once per process, with the paths set first.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, wasmBinaryDirectory, wasmBinaryNames, type WasmBinaryName } from '../../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-wasm-paths-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('wasmPaths', () => {
  it('starts the wasm engine from binaries at the given locations', async () => {
    const paths = {} as Record<WasmBinaryName, string>;
    for (const name of wasmBinaryNames) {
      paths[name] = join(directory, `renamed-${name}`);
      copyFileSync(join(wasmBinaryDirectory(), name), paths[name]);
    }
    const backend = await createTfjsBackend({ engine: 'wasm', wasmPaths: paths, wasmThreads: 1 });
    expect(backend.engine).toBe('wasm');
    expect(backend.threads).toBe(1);
    expect(tf.getBackend()).toBe('wasm');
    const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(await sum.data())).toEqual([4, 6]);
    backend.dispose();
  });
});
