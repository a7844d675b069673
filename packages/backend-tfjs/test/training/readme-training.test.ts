/**
 * The README's training example is real code: extracted, pointed at this package's sources, shrunk
 * to 2 steps on 32 digits with its directories moved to a temporary folder, and run.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const sourceEntry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'levelskip-readme-training-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

it('runs the README training example (2 steps) and saves a loadable model', async () => {
  const match = /<!-- readme-training-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-training-example:end -->/.exec(readme);
  expect(match?.[1]).toBeDefined();
  const original = match![1]!;
  const code = original
    .replace("from '@levelskip/backend-tfjs'", `from ${JSON.stringify(sourceEntry)}`)
    .replace(/steps: \d+,/, 'steps: 2,')
    .replace(/count: \d+/, 'count: 32')
    .replace("'runs/mnist-c2'", JSON.stringify(join(directory, 'runs')))
    .replace("'models/mnist-c2'", JSON.stringify(join(directory, 'model')));
  // Every substitution hit: the example still has the shape this test expects.
  expect(code.match(/steps: 2,|count: 32|levelskip-readme-training-/g)).toHaveLength(4);
  const file = join(directory, 'example.ts');
  writeFileSync(file, code);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ file);
    expect(log).toHaveBeenCalledTimes(1);
    const [losses, imagesPerSecond, levels] = log.mock.calls[0]!;
    expect(losses).toBe(2);
    expect(imagesPerSecond).toBeGreaterThan(0);
    expect(levels).toBe(4);
  } finally {
    log.mockRestore();
  }
  expect(readdirSync(join(directory, 'runs'))).toEqual(['step-0000002']);
  expect(readdirSync(join(directory, 'model')).sort()).toEqual(['model.json', 'model.safetensors']);
});
