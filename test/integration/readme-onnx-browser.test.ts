/**
 * backend-onnx's README "browser" example (a web app's code: onnxruntime-web injected, DDIM with the
 * power schedule from @levelskip/samplers) is real code. It samples, so it runs here rather than in
 * backend-onnx's own README test (a backend package does not depend on the samplers): extracted,
 * its backend import pointed at backend-onnx's sources and onnxruntime-web at the installed
 * package (on WebAssembly in Node.js), and run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import { liveTensorCount } from '@levelskip/backend-onnx';

const readmePath = fileURLToPath(new URL('../../packages/backend-onnx/README.md', import.meta.url));
const sourceEntry = fileURLToPath(new URL('../../packages/backend-onnx/src/index.ts', import.meta.url));

// Outside the repository, so no tool ever sees a half-written file.
const directory = mkdtempSync(join(tmpdir(), 'levelskip-onnx-browser-readme-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

it("backend-onnx's README browser example runs on onnxruntime-web (wasm in Node.js), skipping levels at high noise", async () => {
  const readme = readFileSync(readmePath, 'utf8');
  const match = /<!-- readme-example:start browser -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example:end -->/.exec(readme);
  expect(match?.[1], 'backend-onnx/README.md has a "browser" readme-example block').toBeDefined();
  const code = match![1]!;
  for (const name of ["from '@levelskip/backend-onnx'", "from 'onnxruntime-web'", "from '@levelskip/samplers'"]) expect(code).toContain(name);
  const runnable = code
    .replace("from '@levelskip/backend-onnx'", `from ${JSON.stringify(sourceEntry)}`)
    .replaceAll("from 'onnxruntime-web'", `from ${JSON.stringify(import.meta.resolve('onnxruntime-web'))}`);
  const generated = join(directory, 'readme-browser.ts');
  writeFileSync(generated, runnable);
  const before = liveTensorCount();
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ generated);
    expect(log).toHaveBeenCalledTimes(1);
    const [name, ks, length] = log.mock.calls[0]!;
    expect(name).toBe('onnx-wasm');
    // DDIM-4 steps at t = 750, 500, 250, 0 of 1000; k = min(3, ⌊4 − 4(1 − t/1000)²⌋) = 3, 3, 1, 0.
    expect(ks).toEqual([3, 3, 1, 0]);
    expect(length).toBe(1024);
  } finally {
    log.mockRestore();
  }
  expect(liveTensorCount()).toBe(before);
});
