/**
 * When the wasm binary cannot be loaded, the error names the file and the operating system's
 * reason (tfjs-backend-wasm itself only says "Make sure the server can serve the `.wasm` file"),
 * and a second attempt says why tfjs-backend-wasm cannot retry. In a file of its own: a failed
 * start leaves tfjs-backend-wasm unusable for the rest of the process.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LevelskipError } from '@levelskip/core';
import { createTfjsBackend } from '../../src/index.js';

async function levelskipError(action: () => Promise<unknown>): Promise<LevelskipError> {
  try {
    await action();
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a LevelskipError');
}

describe('a wasm engine that cannot load its binary', () => {
  // Emscripten prints the abort to the console as well; keep it out of the test log.
  const quiet = [vi.spyOn(console, 'error').mockImplementation(() => undefined), vi.spyOn(console, 'warn').mockImplementation(() => undefined)];
  afterEach(() => quiet.forEach((spy) => spy.mockRestore()));

  it('fails with the missing file and its cause, then explains why it cannot be retried', async () => {
    const first = await levelskipError(() => createTfjsBackend({ engine: 'wasm', wasmPaths: '/nonexistent/levelskip-wasm/' }));
    expect(first.code).toBe('BACKEND_UNAVAILABLE');
    expect(first.message).toContain('wasm: @tensorflow/tfjs-backend-wasm failed to start: initialising it failed: Make sure the server can serve the `.wasm` file');
    expect(first.message).toContain(
      "tfjs-backend-wasm-simd.wasm at /nonexistent/levelskip-wasm/tfjs-backend-wasm-simd.wasm: ENOENT: no such file or directory, open '/nonexistent/levelskip-wasm/tfjs-backend-wasm-simd.wasm'",
    );
    const second = await levelskipError(() => createTfjsBackend({ engine: 'wasm' }));
    expect(second.message).toContain('an earlier start of the wasm engine failed in this process, and tfjs-backend-wasm accepts no new wasmPaths after that');
  });
});
