import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// test/readme-example.ts is the README's example, byte for byte.
it('README example is test/readme-example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
  expect(readme).toContain('```ts\n' + example + '```');
});

it('runs the README example', async () => {
  await import('./readme-example.js');
});
