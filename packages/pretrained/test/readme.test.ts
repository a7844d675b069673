/**
 * The README's example is real code: this test extracts it, points its import of this package at
 * the sources, and runs it on the shipped model (other packages resolve to their builds).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const sourceEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function readmeExample(): string {
  const readme = readFileSync(readmePath, 'utf8');
  const match = /<!-- readme-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example:end -->/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no ts block between the readme-example markers');
  return match[1];
}

// Under this package's node_modules, so the example's other @levelskip imports resolve as a user's
// would, and no tool ever sees a half-written file.
const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
mkdirSync(cache, { recursive: true });
const directory = mkdtempSync(join(cache, 'readme-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('README example', () => {
  it('runs: lists the models and samples two digits with the schedule mnist-zero-c2 was trained for', async () => {
    const code = readmeExample().replace("from '@levelskip/pretrained'", `from ${JSON.stringify(sourceEntry)}`);
    expect(code).not.toContain("'@levelskip/pretrained'");
    const generated = join(directory, 'readme-example.ts');
    writeFileSync(generated, code);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(/* @vite-ignore */ generated);
      expect(log).toHaveBeenCalledTimes(2);
      expect(log.mock.calls[0]![0]).toEqual(expect.arrayContaining([expect.stringMatching(/^mnist-zero-c2: \d+ steps$/)]));
      const [shape, ks] = log.mock.calls[1]!;
      expect(shape).toEqual([2, 1, 32, 32]);
      // DDIM-10 from t = 999 down, c = 2: deep levels skipped early (k = 3), none at the end (k = 0).
      expect(ks).toMatch(/^3[0-3]{8}0$/);
    } finally {
      log.mockRestore();
    }
  });
});
