import { readFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';

// test/readme-example.ts is the README's example byte for byte, except that it imports this
// package from its sources ('../src/index.js') where the README imports '@levelskip/metrics';
// so the example is typechecked, linted and run like any test.
it('README example is test/readme-example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
  expect(example).toContain("from '../src/index.js';\n");
  expect(readme).toContain('```ts\n' + example.replace("from '../src/index.js';\n", "from '@levelskip/metrics';\n") + '```');
});

it('runs the README example', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import('./readme-example.js');
    expect(log).toHaveBeenCalledTimes(1);
    const match = /^FD-LeNet@1000 = (\d+\.\d\d) \(real-vs-real floor (\d+\.\d\d), \d+\.\d\d–\d+\.\d\d\)$/.exec(String(log.mock.calls[0]?.[0]));
    expect(match).not.toBeNull();
    // Mild noise on real digits: above the floor, far below noise images (hundreds).
    expect(Number(match![1])).toBeGreaterThan(Number(match![2]));
    expect(Number(match![1])).toBeLessThan(200);
  } finally {
    log.mockRestore();
  }
});
