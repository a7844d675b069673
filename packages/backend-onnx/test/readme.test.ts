/**
 * The README's example is real code: this test extracts it, points its package import at this
 * package's sources, and runs it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { liveTensorCount } from '../src/index.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const sourceEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function readmeExample(): string {
  const readme = readFileSync(readmePath, 'utf8');
  const match = /<!-- readme-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example:end -->/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no ts block between the readme-example markers');
  return match[1];
}

// Outside the repository, so no tool ever sees a half-written file.
const directory = mkdtempSync(join(tmpdir(), 'levelskip-onnx-readme-'));
const generated = join(directory, 'readme-example.ts');
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('README example', () => {
  it('imports the published package name', () => {
    expect(readmeExample()).toContain("from '@levelskip/backend-onnx'");
  });

  it('runs, prints the backend and an NCHW shape, and releases every tensor', async () => {
    const code = readmeExample().replace("from '@levelskip/backend-onnx'", `from ${JSON.stringify(sourceEntry)}`);
    writeFileSync(generated, code);
    const before = liveTensorCount();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(/* @vite-ignore */ generated);
      expect(log).toHaveBeenCalledTimes(1);
      const [name, shape, length] = log.mock.calls[0]!;
      expect(name).toMatch(/^onnx-(cuda|webgpu|cpu)$/);
      expect(shape).toEqual([2, 1, 32, 32]);
      expect(length).toBe(2048);
      expect(liveTensorCount()).toBe(before);
    } finally {
      log.mockRestore();
    }
  });
});
