import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs dev script without type declarations
import { browserPackages, bundleForBrowser, sizeBudgetGzipBytes } from '../../scripts/browser-bundle.mjs';

interface BundleReport {
  ok: boolean;
  bytes: number;
  gzipBytes: number;
  nodeImports: string[];
  errors: string[];
}
const bundle = bundleForBrowser as (specifiers: string[], options?: { externals?: string[] }) => Promise<BundleReport>;

describe('browser bundles (esbuild, platform browser, runtimes external)', () => {
  it.each(browserPackages as string[])('%s bundles without any Node built-in', async (name) => {
    const report = await bundle([name]);
    expect(report.errors).toEqual([]);
    expect(report.nodeImports).toEqual([]);
    expect(report.bytes).toBeGreaterThan(0);
  });

  it('core + samplers + backend-onnx fit the size budget (minified, gzipped, runtimes excluded)', async () => {
    const report = await bundle(['@levelskip/core', '@levelskip/samplers', '@levelskip/backend-onnx']);
    expect(report.ok).toBe(true);
    expect(report.gzipBytes).toBeLessThanOrEqual(sizeBudgetGzipBytes as number);
  });

  it('the check fires: a module that imports a Node built-in is reported with its importer', async () => {
    const report = await bundle([fileURLToPath(new URL('./fixtures/uses-fs.mjs', import.meta.url))]);
    expect(report.ok).toBe(false);
    expect(report.nodeImports).toEqual([expect.stringMatching(/uses-fs\.mjs → node:fs$/)]);
  });
});
