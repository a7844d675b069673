/**
 * A catalogued model whose package is not installed: module resolution finds no
 * `@levelskip/model-<name>` (here: Node's resolver is told so for every model package, from every
 * base), so the listing says how to install each, and loading names the install command.
 */
import { LevelskipError } from '@levelskip/core';
import { describe, expect, it, vi } from 'vitest';

const asked = vi.hoisted(() => ({ specifiers: [] as string[] }));

vi.mock('node:module', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:module')>();
  const createRequire = (base: string | URL) => {
    const real = original.createRequire(base);
    const resolve = (specifier: string, options?: { paths?: string[] }) => {
      if (specifier.startsWith('@levelskip/model-')) {
        asked.specifiers.push(specifier);
        throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
      }
      return real.resolve(specifier, options);
    };
    return Object.assign((id: string) => real(id), real, { resolve });
  };
  return { ...original, createRequire, default: { ...original, createRequire } };
});

const { catalogue, listPretrained, loadPretrained, pretrainedDirectory } = await import('../src/index.js');

describe('a model whose package is not installed', () => {
  it('is listed as unavailable, with the command that installs it', () => {
    const listing = listPretrained();
    expect(listing).toHaveLength(catalogue.length);
    for (const m of listing) {
      expect(m.available).toBe(false);
      expect(m.available === false && m.install).toBe(`npm install @levelskip/model-${m.name}`);
    }
    // Both bases were tried for each package: this module's location and the working directory.
    expect(asked.specifiers.filter((s) => s === '@levelskip/model-mnist-full/package.json').length).toBeGreaterThanOrEqual(2);
  });

  it.each(catalogue.map((e) => [e.name]))('%s: loading it names the install command (CHECKPOINT_MISSING)', async (name) => {
    const error = await loadPretrained(name).catch((e: unknown) => e);
    expect(LevelskipError.is(error) && error.code).toBe('CHECKPOINT_MISSING');
    expect((error as Error).message).toContain(`npm install @levelskip/model-${name}`);
    expect(() => pretrainedDirectory(name)).toThrow(/is not installed/);
  });
});
