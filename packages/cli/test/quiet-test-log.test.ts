/**
 * A passing CLI test run prints no tfjs banner (issue 22, item 4): the setup file (backend-tfjs's
 * test/setup/quiet-tfjs.ts, named in vitest.config.ts) turns tfjs's logging off, so an in-process
 * run on the cpu engine, which prints "Hi, looks like you are running TensorFlow.js in Node.js" on
 * first use, stays quiet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackend } from '../src/backends/backend-choice.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the test log', () => {
  it('gets no TensorFlow.js banner from an in-process run on the tfjs cpu engine', async () => {
    const printed: string[] = [];
    for (const method of ['log', 'warn', 'info', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
      });
    }
    const backend = await createBackend({ backend: 'tfjs', engine: 'cpu' });
    try {
      backend.ops.dispose(backend.ops.fromFloat32(new Float32Array(4), [1, 1, 2, 2]));
    } finally {
      backend.dispose();
    }
    expect(printed.filter((line) => /TensorFlow\.js|tfjs-node/.test(line))).toEqual([]);
  });
});
