/**
 * The README is tested: its library example is extracted, pointed at this package's sources and
 * run; its command tour is run line by line with the built `levelskip` in an empty directory.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, runCli } from './helpers/run-cli.js';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const sourceEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function between(start: string, end: string, language: string): string {
  const match = new RegExp(`<!-- ${start} -->\\s*\`\`\`${language}\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${end} -->`).exec(readme);
  if (match?.[1] === undefined) throw new Error(`README.md has no ${language} block between the ${start} / ${end} markers`);
  return match[1];
}

// Outside the repository, so no tool ever sees a half-written file.
const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-readme-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('README library example', () => {
  it('imports the published package name', () => {
    expect(between('readme-example:start', 'readme-example:end', 'ts')).toContain("from '@levelskip/cli'");
  });

  it('runs and prints the grid size and the ks worked out in the README', async () => {
    const code = between('readme-example:start', 'readme-example:end', 'ts').replace("from '@levelskip/cli'", `from ${JSON.stringify(sourceEntry)}`);
    const generated = join(directory, 'readme-example.ts');
    writeFileSync(generated, code);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await import(/* @vite-ignore */ generated);
      expect(log.mock.calls).toEqual([[204, 134, '3310']]);
    } finally {
      log.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe('README command tour', () => {
  const lines = between('readme-commands:start', 'readme-commands:end', 'sh')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

  it('is a list of levelskip commands covering every command', () => {
    for (const line of lines) expect(line).toMatch(/^levelskip [a-z]+ /);
    expect(new Set(lines.map((line) => line.split(' ')[1]))).toEqual(new Set(['info', 'sample', 'train', 'export']));
  });

  it('runs every command successfully, in order', async () => {
    assertBuilt();
    const cwd = join(directory, 'tour');
    rmSync(cwd, { recursive: true, force: true });
    mkdirSync(cwd);
    for (const line of lines) {
      const run = await runCli(line.split(/\s+/).slice(1), { cwd, timeoutMs: 300_000 });
      expect(run.code, `${line}\n${run.stderr}`).toBe(0);
    }
    const trained = pngjs.PNG.sync.read(readFileSync(join(cwd, 'out', 'trained.png')));
    // Label "c=2" at scale ⌊64/16⌋ = 4: 68 px; 2 + 68 + 2 + 2·(64 + 2) = 204 wide, 2 + 66 = 68 tall.
    expect([trained.width, trained.height]).toEqual([204, 68]);
    expect(existsSync(join(cwd, 'out', 'random.png'))).toBe(true);
    expect(existsSync(join(cwd, 'out', 'onnx', 'manifest.json'))).toBe(true);
    expect(existsSync(join(cwd, 'out', 'onnx', 'stage0-k3-zero.onnx'))).toBe(true);
  });
});
