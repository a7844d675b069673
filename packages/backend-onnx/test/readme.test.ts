/**
 * The README's examples are real code: this test extracts each block between the
 * `readme-example:start <name>` and `readme-example:end` markers, points its imports at this
 * package's sources (and runtime imports at the installed packages), and runs it. The `browser`
 * example samples with @levelskip/samplers, which a backend package does not depend on: it runs in
 * test/integration (readme-onnx-browser.test.ts) instead, and here only its presence is checked.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { liveTensorCount } from '../src/index.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const sourceEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function readmeExamples(): Map<string, string> {
  const readme = readFileSync(readmePath, 'utf8');
  const examples = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- readme-example:start (\S+) -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example:end -->/g)) {
    examples.set(match[1]!, match[2]!);
  }
  return examples;
}

// Outside the repository, so no tool ever sees a half-written file; bare runtime imports are
// therefore rewritten to the packages this test resolves.
const directory = mkdtempSync(join(tmpdir(), 'levelskip-onnx-readme-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function run(name: string, code: string): Promise<unknown[]> {
  let runnable = code.replace("from '@levelskip/backend-onnx'", `from ${JSON.stringify(sourceEntry)}`);
  for (const runtime of ['onnxruntime-web', 'onnxruntime-node']) {
    runnable = runnable.replaceAll(`from '${runtime}'`, `from ${JSON.stringify(import.meta.resolve(runtime))}`);
  }
  const generated = join(directory, `readme-${name}.ts`);
  writeFileSync(generated, runnable);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ generated);
    expect(log).toHaveBeenCalledTimes(1);
    return log.mock.calls[0]!;
  } finally {
    log.mockRestore();
  }
}

describe('README examples', () => {
  const examples = readmeExamples();

  it('has the node and browser examples, each importing the published package name', () => {
    expect([...examples.keys()]).toEqual(['node', 'browser']);
    for (const code of examples.values()) expect(code).toContain("from '@levelskip/backend-onnx'");
    expect(examples.get('browser')).toContain("import * as ort from 'onnxruntime-web'");
  });

  it('node: runs, prints the backend and an NCHW shape, and releases every tensor', async () => {
    const before = liveTensorCount();
    const [name, shape, length] = await run('node', examples.get('node')!);
    expect(name).toMatch(/^onnx-(cuda|webgpu|cpu)$/);
    expect(shape).toEqual([2, 1, 32, 32]);
    expect(length).toBe(2048);
    expect(liveTensorCount()).toBe(before);
  });
});
