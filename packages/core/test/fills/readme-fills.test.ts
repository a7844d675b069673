/**
 * The README's fills table is the fill registry's: one row per built-in fill, in registry order,
 * with its written forms, description and flags. Adding a fill without documenting it fails here.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { builtinFills } from '../../src/fills/fill-registry.js';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

it('README "Fills" lists every built-in fill of the registry, as the registry describes it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = builtinFills.map(
    (d) => `| \`${d.kind}\` | ${d.syntax.map((s) => `\`${s}\``).join(', ')} | ${d.description} | ${yesNo(d.trainable)} | ${yesNo(d.stateful)} | ${yesNo(d.graphFusable)} |`,
  );
  const table = ['| fill | written | what the decoder gets | trainable | needs a cache | compiled graphs |', '|---|---|---|---|---|---|', ...rows].join('\n');
  expect(readme).toContain(`## Fills\n`);
  expect(readme).toContain(`\n${table}\n\n`);
});
