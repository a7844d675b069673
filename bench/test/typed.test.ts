/**
 * bench/ is JavaScript type-checked with `// @ts-check` (bench/tsconfig.json, run by the root's
 * `pnpm typecheck`). checkJs is off there, so a file is checked only when it opts in: every bench
 * module must. And the workspace packages load through the entry Node's `import` condition picks,
 * which for core is its Node entry (the speed suite writes the PyTorch peer's checkpoints with it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPackage } from '../lib/workspace.mjs';

const bench = fileURLToPath(new URL('..', import.meta.url));

/** The first line that is not a shebang. */
function firstLine(path: string): string {
  const lines = readFileSync(path, 'utf8').split('\n');
  return (lines[0]!.startsWith('#!') ? lines[1] : lines[0]) ?? '';
}

describe('bench/ type checking', () => {
  it('every bench module opts in with // @ts-check on its first line', () => {
    const modules = [...readdirSync(bench).map((f) => join(bench, f)), ...readdirSync(join(bench, 'lib')).map((f) => join(bench, 'lib', f))].filter((f) => f.endsWith('.mjs'));
    // The suites and their library (run, speed, speed-tables, quality, report, ... lib/args, lib/timing, ...).
    expect(modules.length).toBeGreaterThanOrEqual(15);
    expect(modules.filter((f) => firstLine(f) !== '// @ts-check').map((f) => f.slice(bench.length))).toEqual([]);
  });

  it("includes every bench module in bench/tsconfig.json's program", () => {
    const text = readFileSync(join(bench, 'tsconfig.json'), 'utf8');
    // tsconfig.json allows comments: the include list is on one line.
    const include = JSON.parse(/"include":\s*(\[[^\]]*\])/.exec(text)![1]!) as string[];
    expect(include).toEqual(expect.arrayContaining(['*.mjs', 'lib/*.mjs']));
    expect(text).toMatch(/"strict":\s*true/);
  });
});

describe('loadPackage', () => {
  it("loads core's Node entry, which has checkpoint directories on disk", async () => {
    const core = await loadPackage('core');
    expect(typeof core.saveCheckpoint).toBe('function');
    expect(typeof core.writeFileAtomic).toBe('function');
    // ...and the shared entry's API with it.
    expect(typeof core.parseFill).toBe('function');
  });
});
