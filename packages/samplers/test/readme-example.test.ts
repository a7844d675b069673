import { readFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';

// test/readme-example.ts is the README's example byte for byte, except that it imports this
// package from its sources ('../src/index.js') where the README imports '@levelskip/samplers';
// so the example is typechecked, linted and run like any test.
it('README example is test/readme-example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
  expect(example).toContain("from '../src/index.js';\n");
  expect(readme).toContain('```ts\n' + example.replace("from '../src/index.js';\n", "from '@levelskip/samplers';\n") + '```');
});

it('runs the README example', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import('./readme-example.js');
    expect(log).toHaveBeenCalledTimes(10);
    expect(log.mock.calls[0]?.[0]).toMatch(/^step 1\/10 t=900 k=0 \d+ ms$/);
  } finally {
    log.mockRestore();
  }
});
