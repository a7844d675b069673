import { readFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';

// test/readme-example.ts is the README's example byte for byte, except that it imports this
// package from its sources ('../src/index.js') where the README imports '@levelskip/datasets';
// so the example is typechecked, linted and run like any test.
it('README example is test/readme-example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
  expect(example).toContain("from '../src/index.js';\n");
  expect(readme).toContain('```ts\n' + example.replace("from '../src/index.js';\n", "from '@levelskip/datasets';\n") + '```');
});

it('runs the README example', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import('./readme-example.js');
    expect(log.mock.calls).toEqual([['1000 training digits, 1000 test digits']]);
  } finally {
    log.mockRestore();
  }
});
