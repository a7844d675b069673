import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import { decodePng } from './helpers/decode-png.js';

const png = fileURLToPath(new URL('./digits.png', import.meta.url));
afterAll(() => rmSync(png, { force: true }));

// test/readme-example.ts is the README's example, byte for byte.
it('README example is test/readme-example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
  expect(readme).toContain('```ts\n' + example + '```');
});

it('runs the README example: prints the settings and writes a 4-digit PNG grid', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import('./readme-example.js');
    const lines = log.mock.calls.map((call) => String(call[0]));
    expect(lines[0]).toMatch(/^recommended: [a-z-]+, \d+ steps, .*schedule .*, fill /);
    expect(lines[2]).toMatch(/^used: [a-z-]+, 20 steps, /);
    expect(lines[1]).toBe('sampled 20 steps');
    expect(lines[2]).toMatch(/^used: .*; ks [0-3]{20}$/);
  } finally {
    log.mockRestore();
  }
  expect(existsSync(png)).toBe(true);
  expect(decodePng(readFileSync(png))).toMatchObject({ width: 2 + 4 * (64 + 2), height: 2 + 64 + 2, channels: 1 });
});
