// Smoke test: the example runs as a user would run it (against the built packages) and prints its table.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('runs', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await run(process.execPath, ['main.mjs', '--steps', '4', '--batch', '2'], { cwd });
  expect(stdout).toMatch(/DDIM 4 steps, batch 2/);
  expect(stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3);
  expect(stdout).toMatch(/k per step [0-3]{4}/);
});
