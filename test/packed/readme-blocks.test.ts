/**
 * Every code block of every README runs against the packed packages, in the app global-setup.ts
 * made: TypeScript and JavaScript blocks as ES modules, shell blocks in bash with the app's bins
 * on PATH, each in an empty working directory; a block passes when it exits with 0. Install
 * commands are checked (each package named is installed in the app, at the version named). A block
 * marked `<!-- not run: reason -->` is listed as skipped with its reason.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { collectReadmeBlocks, installCommand, runBlock, shellCommands } from '../../scripts/packed/readme-blocks.mjs';
import './packed-app.js';

interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: 'ts' | 'js' | 'sh';
  readonly code: string;
  readonly skip: string | null;
}
interface BlockRun {
  readonly ok: boolean;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly ms: number;
}
const blocks = collectReadmeBlocks() as Block[];
const run = runBlock as (app: string, block: Block, options?: { code?: string; setup?: (work: string) => void; timeoutMs?: number }) => Promise<BlockRun>;
const installs = installCommand as (line: string) => { name: string; version: string | null }[] | null;
const splitShell = shellCommands as (code: string) => { installs: string[]; commands: string[] };

/**
 * Blocks run smaller than written (a training run of 20,000 steps shrunk to 2), found by their
 * README and a line they contain; every replacement must match exactly once.
 */
const shrunk: readonly {
  readonly file: string;
  readonly contains: string;
  readonly replace: readonly (readonly [string, string])[];
  readonly setup?: (app: string, work: string) => void;
}[] = [
  {
    file: 'packages/train-tfjs/README.md',
    contains: "checkpointDir: 'runs/mnist-c2'",
    replace: [
      ['steps: 20000,', 'steps: 2,'],
      ['count: 2048', 'count: 32'],
    ],
  },
  {
    file: 'packages/train-tfjs/README.md',
    contains: "loadCheckpoint('models/mnist-full')",
    replace: [
      ['steps: 3000,', 'steps: 2,'],
      ['count: 2048', 'count: 32'],
      ['batchSize: 32,', 'batchSize: 4,'],
    ],
    // The teacher it names: the shipped mnist-full, from the installed @levelskip/model-mnist-full.
    setup: (app, work) => cpSync(join(app, 'node_modules/@levelskip/model-mnist-full'), join(work, 'models/mnist-full'), { recursive: true }),
  },
];

function shrink(block: Block): { code: string; setup?: (app: string, work: string) => void } {
  const entry = shrunk.find((s) => s.file === block.file && block.code.includes(s.contains));
  if (entry === undefined) return { code: block.code };
  let code = block.code;
  for (const [from, to] of entry.replace) {
    expect(code.split(from), `${block.file}:${block.line} should contain "${from}" once (the test shrinks it)`).toHaveLength(2);
    code = code.replace(from, to);
  }
  return entry.setup === undefined ? { code } : { code, setup: entry.setup };
}

function checkInstalls(app: string, block: Block): void {
  for (const line of splitShell(block.code).installs) {
    for (const { name, version } of installs(line) ?? []) {
      const manifest = join(app, 'node_modules', name, 'package.json');
      expect(existsSync(manifest), `${block.file}:${block.line}: \`${line}\` names ${name}, which the packed app does not install`).toBe(true);
      const installed = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
      if (version !== null && /^\d/.test(version)) expect(installed, `${block.file}:${block.line}: \`${line}\``).toBe(version);
    }
  }
}

describe('README code blocks, run against the packed packages', () => {
  const app = inject('packedApp').directory;

  it('finds the blocks of every README, in an app without vitest (core/testing must load without it)', () => {
    expect(new Set(blocks.map((b) => b.file))).toContain('README.md');
    expect(blocks.filter((b) => b.skip === null).length).toBeGreaterThan(10);
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
  });

  // LEVELSKIP_PACKED_ONLY=<regular expression>: run only the blocks whose `file:line` matches it.
  const only = process.env.LEVELSKIP_PACKED_ONLY === undefined ? undefined : new RegExp(process.env.LEVELSKIP_PACKED_ONLY);
  for (const block of blocks) {
    const name = `${block.file}:${block.line} (${block.lang})`;
    if (block.skip !== null) {
      it.skip(`${name} — not run: ${block.skip}`, () => undefined);
      continue;
    }
    if (only !== undefined && !only.test(`${block.file}:${block.line}`)) {
      it.skip(`${name} — not selected by LEVELSKIP_PACKED_ONLY`, () => undefined);
      continue;
    }
    it(name, async () => {
      checkInstalls(app, block);
      if (block.lang === 'sh' && splitShell(block.code).commands.length === 0) return;
      const { code, setup } = shrink(block);
      const result = await run(app, block, { code, ...(setup === undefined ? {} : { setup: (work: string) => setup(app, work) }) });
      const tail = result.output.split('\n').slice(-40).join('\n');
      expect(result.ok, `${name} ${result.timedOut ? 'timed out' : `exited with ${String(result.code)}`} after ${(result.ms / 1000).toFixed(1)} s:\n${tail}`).toBe(true);
    });
  }
});
