// Smoke test: the example runs as a user would run it (against the built packages) and the two backends agree.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('runs on both backends and their images agree within 1/255', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await run(process.execPath, ['main.mjs', '--steps', '4', '--batch', '2'], { cwd });
  expect(stdout).toMatch(/DDIM 4 steps, batch 2/);
  expect(stdout).toMatch(/^onnx-(cuda|cpu) .* k per step [0-3]{4}$/m);
  expect(stdout).toMatch(/^tfjs-wasm .* k per step [0-3]{4}$/m);
  const difference = Number(/max pixel difference between backends: ([\d.]+) \/ 255/.exec(stdout)?.[1]);
  expect(difference).toBeLessThan(1);
});
