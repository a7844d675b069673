/**
 * The README's training examples are real code: extracted, pointed at the sources of this package
 * and of backend-tfjs, shrunk to 2 steps on 32 digits with their directories moved to a temporary
 * folder, and run.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import { parseUNetSpec, presets, randomWeights, saveCheckpoint } from '@levelskip/core';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const sourceEntry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const backendEntry = fileURLToPath(new URL('../../../backend-tfjs/src/index.ts', import.meta.url));

/** The example with its package imports pointed at the sources (each import must be there). */
function fromSources(code: string, packages: readonly string[]): string {
  let result = code;
  for (const name of packages) {
    const from = `from '${name}'`;
    expect(result.split(from), `the example imports ${name} once`).toHaveLength(2);
    result = result.replace(from, `from ${JSON.stringify(name === '@levelskip/train-tfjs' ? sourceEntry : backendEntry)}`);
  }
  return result;
}

const directory = mkdtempSync(join(tmpdir(), 'levelskip-readme-training-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

it('runs the README training example (2 steps) and saves a loadable model', async () => {
  const match = /<!-- readme-training-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-training-example:end -->/.exec(readme);
  expect(match?.[1]).toBeDefined();
  const original = match![1]!;
  const code = fromSources(original, ['@levelskip/train-tfjs', '@levelskip/backend-tfjs'])
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

it('runs the README distillation example (2 steps, a random full-depth teacher) and logs the loss and its two terms', async () => {
  const match = /<!-- readme-distillation-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-distillation-example:end -->/.exec(readme);
  expect(match?.[1]).toBeDefined();
  // Random weights stand in for mnist-full: the example only needs a checkpoint of the MNIST spec.
  const teacherDir = join(directory, 'teacher');
  const spec = parseUNetSpec(presets.mnistSmall);
  await saveCheckpoint(teacherDir, { spec, weights: randomWeights(spec, { seed: 3 }) });
  const code = fromSources(match![1]!, ['@levelskip/train-tfjs'])
    .replace(/steps: \d+,/, 'steps: 2,')
    .replace(/count: \d+/, 'count: 32')
    .replace(/batchSize: \d+,/, 'batchSize: 4,')
    .replace("'models/mnist-full'", JSON.stringify(teacherDir));
  expect(code.match(/steps: 2,|count: 32|batchSize: 4,|levelskip-readme-training-/g)).toHaveLength(4);
  const file = join(directory, 'distillation-example.ts');
  writeFileSync(file, code);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ file);
    expect(log).toHaveBeenCalledTimes(1);
    const [loss, distillation, eps] = log.mock.calls[0]! as number[];
    // mix 0.5: the loss is the mean of its terms (to float32 rounding).
    expect(Math.abs(loss! - (0.5 * distillation! + 0.5 * eps!))).toBeLessThan(1e-6 * loss!);
    expect(eps).toBeGreaterThan(0);
  } finally {
    log.mockRestore();
  }
});
