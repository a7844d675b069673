/**
 * When the default runtime cannot be imported (not installed, or its native binding missing), the
 * backend says which package to install and how, with the import's error as `cause`; a runtime
 * passed explicitly is used without ever importing the default. The default packages are mocked
 * here to fail to load the way a missing package does.
 */
import type * as ortNode from 'onnxruntime-node';
import { describe, expect, it, vi } from 'vitest';
import { createOnnxBackend as createBrowserBackend } from '../src/browser.js';
import { createOnnxBackend } from '../src/index.js';

// Hoisted: every import of these specifiers in this file's module graph — including the source's
// lazy `import('onnxruntime-node')` — fails (vitest wraps the factory's error; it is the wrapper's
// cause). The real onnxruntime-node is reached through `vi.importActual`.
vi.mock('onnxruntime-node', () => {
  throw new Error("Cannot find package 'onnxruntime-node' imported from @levelskip/backend-onnx");
});
vi.mock('onnxruntime-web', () => {
  throw new Error("Cannot find package 'onnxruntime-web' imported from @levelskip/backend-onnx");
});

/** The messages along an error's `cause` chain. */
function causes(error: unknown): string[] {
  const out: string[] = [];
  for (let e = (error as { cause?: unknown }).cause; e instanceof Error; e = e.cause) out.push(e.message);
  return out;
}

describe('a default runtime that cannot be imported', () => {
  it('Node.js entry: BACKEND_UNAVAILABLE naming onnxruntime-node, npm i and ONNXRUNTIME_NODE_INSTALL=skip, with the cause attached', async () => {
    const error = (await createOnnxBackend().catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(/^onnxruntime-node could not be loaded \(.+\)\. Install it next to @levelskip\/backend-onnx/);
    expect(error.message).toContain('npm i onnxruntime-node');
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node');
    expect(error.message).toContain('createOnnxBackend({ ort })');
    expect(causes(error)).toContainEqual(expect.stringContaining("Cannot find package 'onnxruntime-node'"));
  });

  it('browser entry: BACKEND_UNAVAILABLE naming onnxruntime-web and npm i, with the cause attached', async () => {
    const error = (await createBrowserBackend().catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(/^onnxruntime-web could not be loaded \(.+\)\. Install it next to @levelskip\/backend-onnx/);
    expect(error.message).toContain('npm i onnxruntime-web');
    expect(causes(error)).toContainEqual(expect.stringContaining("Cannot find package 'onnxruntime-web'"));
  });

  it('an injected runtime needs no default: both entries run on it', async () => {
    const real = await vi.importActual<typeof ortNode>('onnxruntime-node');
    for (const create of [createOnnxBackend, createBrowserBackend]) {
      const backend = await create({ ort: real });
      expect(backend.runtime).toBe('onnxruntime-node');
      expect(backend.name).toBe('onnx-cpu');
      backend.dispose();
    }
  });
});
