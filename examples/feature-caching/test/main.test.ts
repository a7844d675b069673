// Smoke test: the example runs as a user would run it (against the built packages) and prints its table.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('runs', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await run(process.execPath, ['main.mjs', '--samples', '4', '--steps', '6', '--intervals', '2,3'], { cwd });
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^mnist-full on onnx-cpu, ddim\(steps=6, eta=1/);
  expect(lines).toHaveLength(4);
  // DDIM-6 with k = 3 asked at every step: cache:2 runs steps 0, 2, 4 at full depth; cache:3 steps 0 and 3.
  expect(lines[1]).toMatch(/^full depth .* full-depth steps 6\/6 .* FD-LeNet [\d.]+ \(floor [\d.]+\)$/);
  expect(lines[2]).toMatch(/^k = 3, cache:2 .* full-depth steps 3\/6 .*saved: predicted 33\.7%/);
  expect(lines[3]).toMatch(/^k = 3, cache:3 .* full-depth steps 2\/6 .*saved: predicted 44\.9%/);
});
