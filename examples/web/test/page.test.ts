/**
 * The demo page in a real browser: built as a user builds it, served with COOP/COEP on 127.0.0.1,
 * and driven in headless Chromium. Each engine the page offers samples the same seed as Node
 * does with the same backend, and the images must agree within 1/255. The screenshot and the
 * engine report land in out/web-demo/ (repo root) for a person to look at.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxBackend } from '@levelskip/backend-onnx';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { loadPretrained } from '@levelskip/pretrained';
import type { Backend } from '@levelskip/core';
import { runDemo, type DemoResult, type DemoSettings } from '../src/run-demo.js';
// @ts-expect-error -- plain .mjs scripts without type declarations
import { buildPage } from '../scripts/build.mjs';
// @ts-expect-error -- plain .mjs scripts without type declarations
import { servePage } from '../scripts/serve.mjs';
// @ts-expect-error -- plain .mjs scripts without type declarations
import { launchChromium } from '../scripts/chromium.mjs';

type EngineId = 'onnx-wasm' | 'tfjs-wasm' | 'tfjs-webgl' | 'tfjs-webgpu' | 'onnx-webgpu';
interface Probe {
  id: EngineId;
  ok: boolean;
  reason?: string;
  threads?: number;
}
/** What the page returns, made JSON-safe. */
interface PageRun {
  full: number[];
  skip: number[];
  fullKs: number[];
  skipKs: number[];
  timeSavedMeasured: number;
  timeSavedPredicted: number;
}

const outDir = fileURLToPath(new URL('../../../out/web-demo/', import.meta.url));
const model = 'mnist-zero-c2';
/** The CPU engines every Chromium has: 4 digits, DDIM-10, the paper's c = 2 against full depth. */
const cpuSettings: DemoSettings = { c: 2, fill: 'zero', steps: 10, eta: 1, seed: 7, count: 4 };
/** GPU engines run on SwiftShader here (a CPU emulation): one digit, DDIM-3, same comparison. */
const gpuSettings: DemoSettings = { ...cpuSettings, steps: 3, count: 1 };

let browser: Browser;
let page: Page;
let close: () => Promise<void>;
let pageUrl: string;
let probes: Probe[] = [];
const requests: string[] = [];
const report: Record<string, unknown> = {};

beforeAll(async () => {
  await buildPage({ log: () => undefined });
  const server = await servePage({ port: 0, onRequest: (path: string, status: number) => requests.push(`${status} ${path}`) });
  close = server.close;
  pageUrl = server.url;
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (window as unknown as { levelskipDemo?: { ready: boolean } }).levelskipDemo?.ready === true, { timeout: 240_000 });
  probes = await page.evaluate(() => (window as unknown as { levelskipDemo: { probes: Probe[] } }).levelskipDemo.probes);
  report.browser = await browser.version();
  report.crossOriginIsolated = await page.evaluate(() => self.crossOriginIsolated);
  report.engines = probes;
});

afterAll(async () => {
  await mkdir(outDir, { recursive: true });
  if (page !== undefined) await page.screenshot({ path: `${outDir}screenshot.png`, fullPage: true });
  await writeFile(`${outDir}engines.json`, `${JSON.stringify(report, null, 2)}\n`);
  await browser?.close();
  await close?.();
});

/** Runs one configuration in the page, through the same entry the page's form uses. */
function runInPage(engine: EngineId, settings: DemoSettings): Promise<PageRun> {
  return page.evaluate(
    async (engine, settings, model) => {
      type Run = { samples: Float32Array; ks: number[] };
      const demo = (window as unknown as { levelskipDemo: { run(s: object): Promise<{ full: Run; skip: Run; timeSavedMeasured: number; timeSavedPredicted: number }> } }).levelskipDemo;
      const result = await demo.run({ ...settings, model, engine });
      return {
        full: Array.from(result.full.samples),
        skip: Array.from(result.skip.samples),
        fullKs: [...result.full.ks],
        skipKs: [...result.skip.ks],
        timeSavedMeasured: result.timeSavedMeasured,
        timeSavedPredicted: result.timeSavedPredicted,
      };
    },
    engine,
    settings,
    model,
  );
}

/** The same run in Node, on the same backend (onnxruntime-node for ONNX, the wasm engine for tfjs). */
async function runInNode(engine: EngineId, settings: DemoSettings): Promise<DemoResult> {
  const backend: Backend<unknown> & { dispose(): void } = engine.startsWith('onnx')
    ? ((await createOnnxBackend({ ort: ortNode })) as never)
    : ((await createTfjsBackend({ engine: 'wasm' })) as never);
  try {
    return await runDemo(backend, await loadPretrained(model), { ...settings, compareFullDepth: true });
  } finally {
    backend.dispose();
  }
}

/** Largest difference of two sample sets as displayed: clamped to [−1, 1], in units of the [0, 1] image range. */
function maxImageDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  const shown = (v: number): number => (Math.min(1, Math.max(-1, v)) + 1) / 2;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(shown(a[i]!) - shown(b[i]!)));
  return max;
}

async function checkAgainstNode(engine: EngineId, settings: DemoSettings): Promise<void> {
  const inPage = await runInPage(engine, settings);
  const inNode = await runInNode(engine, settings);
  const full = maxImageDifference(inPage.full, inNode.full!.samples);
  const skip = maxImageDifference(inPage.skip, inNode.skip.samples);
  report[engine] = { settings, maxDifferenceFullDepth: full * 255, maxDifferenceC2: skip * 255, unit: '1/255 of the image range', ...inPage, full: undefined, skip: undefined };
  expect(inPage.skipKs).toEqual([...inNode.skip.ks]);
  expect(inPage.skipKs).toContain(3); // c = 2 really skipped levels
  expect(inPage.fullKs.every((k) => k === 0)).toBe(true);
  expect(full).toBeLessThanOrEqual(1 / 255);
  expect(skip).toBeLessThanOrEqual(1 / 255);
  // The page shows the result: status line and the results table's time-saved cells.
  const status = await page.$eval('#status', (e) => e.textContent ?? '');
  expect(status).toMatch(/time saved -?\d+\.\d % measured, \d+\.\d % predicted from FLOPs/);
  const row = await page.$eval('#results tbody tr', (e) => [...e.children].map((c) => c.textContent));
  expect(row[6]).toMatch(/^-?\d+\.\d %$/);
  expect(row[7]).toBe(`${(inPage.timeSavedPredicted * 100).toFixed(1)} %`);
}

/**
 * The GPU engines run on SwiftShader here, a CPU emulation at minutes per suite: by default they
 * check the predictions of two of the five fixture specs (the plain resnet U-Net and the
 * diffusers-style one), plus every check that needs no spec list (tensor ops, lifecycle, errors,
 * leaks); the wasm engines run everything. `LEVELSKIP_BROWSER_FULL=1` runs every spec on every engine.
 */
const fullBrowserSuite = process.env.LEVELSKIP_BROWSER_FULL === '1';
const swiftShaderSpecs = ['resnet', 'ddpmStyle'] as const;

describe('core\'s conformance suite on every engine the browser offers (conformance.html)', () => {
  it.each(['onnx-wasm', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'onnx-webgpu'] as const)('%s', async (engine, context) => {
    const probe = probes.find((p) => p.id === engine);
    if (probe?.ok !== true) context.skip(`${engine} does not start in this Chromium: ${probe?.reason ?? 'not probed'}`);
    const conformancePage = await browser.newPage();
    try {
      await conformancePage.goto(`${pageUrl}conformance.html`);
      await conformancePage.waitForFunction(() => (window as unknown as { levelskipConformance?: { ready: boolean } }).levelskipConformance?.ready === true);
      const specs = engine.endsWith('wasm') || fullBrowserSuite ? undefined : swiftShaderSpecs;
      const summary = await conformancePage.evaluate(
        (e, s) =>
          (window as unknown as { levelskipConformance: { run(e: string, s?: readonly string[]): Promise<{ passed: number; failed: string[]; skipped: string[] }> } }).levelskipConformance.run(
            e,
            s ?? undefined,
          ),
        engine,
        specs ?? null,
      );
      report[`${engine} conformance`] = summary;
      // Known, not ours to fix here: on onnxruntime-web's WebGPU provider (SwiftShader), a session's
      // result changes after another session of the same denoiser has run (k = 0 after k = 3; found
      // by the prepare check, which predicts before and after; docs/gpu.md). Pinned, so that a fix
      // upstream (or a regression elsewhere) shows here.
      const known = engine === 'onnx-webgpu' ? [/^prepare: reports every variant, and predictions after it are the same: prediction at k=0 after prepare/] : [];
      expect(summary.failed.filter((name) => !known.some((pattern) => pattern.test(name)))).toEqual([]);
      expect(summary.passed).toBeGreaterThan(specs === undefined ? 100 : 50);
      // tfjs counts live tensors, so its leak checks run too; onnxruntime-web has no counter.
      if (engine.startsWith('tfjs')) expect(summary.skipped).toEqual([]);
    } finally {
      await conformancePage.close();
    }
  });
});

describe('the demo page in headless Chromium', () => {
  it('starts, cross-origin isolated, and offers the engines that start (saying why the others do not)', async () => {
    expect(report.crossOriginIsolated).toBe(true);
    const byId = new Map(probes.map((p) => [p.id, p]));
    expect(byId.get('onnx-wasm')?.ok).toBe(true);
    expect(byId.get('tfjs-wasm')?.ok).toBe(true);
    for (const probe of probes) if (!probe.ok) expect(probe.reason).toMatch(/\w{8,}/);
    const offered = await page.$$eval('#engine option', (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered.sort()).toEqual(probes.filter((p) => p.ok).map((p) => p.id).sort());
    // The page fetched the model files it samples with and the runtimes' wasm, and nothing 404'd.
    expect(requests.filter((r) => r.startsWith('404'))).toEqual([]);
  });

  it.each(['onnx-wasm', 'tfjs-wasm'] as const)('%s: 4 digits at c = 0 and c = 2 equal Node’s within 1/255; the page shows the time saved', async (engine) => {
    await checkAgainstNode(engine, cpuSettings);
  });

  it.each(['tfjs-webgl', 'tfjs-webgpu', 'onnx-webgpu'] as const)('%s (SwiftShader here): 1 digit, DDIM-3, equals Node’s within 1/255', async (engine, context) => {
    const probe = probes.find((p) => p.id === engine);
    if (probe?.ok !== true) context.skip(`${engine} does not start in this Chromium: ${probe?.reason ?? 'not probed'}`);
    await checkAgainstNode(engine, gpuSettings);
  });
});
