/**
 * The training script's command line, as `pnpm train:models -- …` hands it over: pnpm 10 passes the
 * `--` separator through, and bad flags end in one line and exit status 2, never a stack trace.
 * Only the paths that stop before training are run here.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/train-models.mjs', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('train-models.mjs command line', () => {
  it('accepts the `--` separator pnpm 10 passes through', async () => {
    const { code, stdout } = await run(['--', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: train-models\.mjs --model <mnist-zero-c2\|/);
  });

  it.each([
    [['--', '--model', 'mnist-typo'], /^unknown model "mnist-typo"; choose one of mnist-zero-c2, /],
    [['--bogus'], /^Unknown option '--bogus' \(run with --help for the options\)$/],
    [['--model', 'mnist-full', '--steps', '2.5'], /^--steps must be a positive integer, got "2\.5"$/],
    [['--model', 'mnist-full', '--minutes', '0'], /^--minutes must be a positive number, got "0"$/],
    [['--model', 'mnist-full', '--workers', 'two'], /^--workers must be a positive integer, got "two"$/],
  ])('%j exits 2 with one line', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
  });
});
