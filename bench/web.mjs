// @ts-check
/**
 * `pnpm bench web`: the browser engines, timed in headless Chromium on the demo page
 * (examples/web). For each engine the page offers: whether it starts, its thread count, and the
 * median time of one predict() at each depth k for mnistSmall (the shipped mnist-full) at batch
 * 1 and 16; the wasm engines also once more with `?threads=1` (single-threaded), in the same run.
 * A table goes to stdout, the numbers to bench/results/web-<machine>.json.
 *
 *   pnpm build && pnpm bench web [--repeats 5] [--engines onnx-wasm,tfjs-wasm] [--batches 1,16]
 *
 * WebGL and WebGPU run on SwiftShader (a CPU emulation) in Chromium without a GPU: those rows
 * show that the engines work, not GPU speed (and run at --gpu-batches, default 1).
 *
 * The functions passed to page.evaluate run in the page: they reach the page's test hook through
 * `globalThis` (the page's `window`), typed as lib/types.d.ts `DemoPageGlobal`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPage } from '../examples/web/scripts/build.mjs';
import { servePage } from '../examples/web/scripts/serve.mjs';
import { launchChromium } from '../examples/web/scripts/chromium.mjs';
import { loadAverage, machineInfo, machineSlug } from './lib/machine.mjs';
import { formatJson } from './lib/results-file.mjs';
import { writeFileAtomic } from '@levelskip/core';
import { repositoryRoot } from './lib/workspace.mjs';

/** @typedef {import('./lib/types.js').DemoPageGlobal} DemoPageGlobal */
/** @typedef {import('./lib/types.js').DemoPageHook} DemoPageHook */
/** @typedef {import('puppeteer-core').Browser} Browser */
/** @typedef {import('puppeteer-core').Page} Page */

/**
 * One row of the results: an engine in one thread variant that does not start, or its per-k
 * times at one batch size (or the error that cell ended with).
 *
 * @typedef {object} WebRow
 * @property {string} engine
 * @property {string} variant
 * @property {boolean} starts
 * @property {string} [reason] why it does not start
 * @property {number | null} [threads]
 * @property {number} [batch]
 * @property {readonly number[]} [msPerPredict] median ms of one predict() at k = 0, 1, …
 * @property {string} [error]
 */

const allEngines = ['onnx-wasm', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'onnx-webgpu'];
const wasmEngines = ['onnx-wasm', 'tfjs-wasm'];

/**
 * Opens the page (with `query`) and waits until its engines are probed.
 *
 * @param {Browser} browser
 * @param {string} url
 * @returns {Promise<Page>}
 */
async function openPage(browser, url) {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => /** @type {DemoPageGlobal} */ (globalThis).levelskipDemo?.ready === true, { timeout: 300_000 });
  return page;
}

/**
 * Times every engine of `settings.engines` the page offers, in one thread variant of the page:
 * per batch size, the median predict() time at each k. A cell that fails (a crashed renderer, a
 * lost device) is recorded, and the page is reopened for the next.
 *
 * @param {Browser} browser
 * @param {string} url the page, with the variant's query
 * @param {{ label: string, wasmOnly: boolean }} variant
 * @param {{ engines: string[], batches: number[], gpuBatches: number[], model: string, repeats: number }} settings
 * @param {WebRow[]} rows appended to
 */
async function timeVariant(browser, url, variant, settings, rows) {
  let page = await openPage(browser, url);
  // The page is ready (openPage waited for it): its hook is there.
  const probes = await page.evaluate(() => /** @type {DemoPageHook} */ (/** @type {DemoPageGlobal} */ (globalThis).levelskipDemo).probes);
  for (const engine of settings.engines) {
    if (variant.wasmOnly && !wasmEngines.includes(engine)) continue;
    const probe = probes.find((p) => p.id === engine);
    if (!probe?.ok) {
      rows.push({ engine, variant: variant.label, starts: false, reason: probe?.reason });
      console.log(`${engine} (${variant.label}): does not start: ${probe?.reason}`);
      continue;
    }
    for (const batch of engine.includes('web') ? settings.gpuBatches : settings.batches) {
      try {
        const timing = await page.evaluate(
          (e, m, b, r) => /** @type {DemoPageHook} */ (/** @type {DemoPageGlobal} */ (globalThis).levelskipDemo).timeDepths(e, m, b, r),
          engine,
          settings.model,
          batch,
          settings.repeats,
        );
        rows.push({ engine, variant: variant.label, starts: true, threads: timing.threads ?? null, batch, msPerPredict: timing.msPerPredict });
        console.log(`${engine} (${variant.label}, ${timing.threads ?? '?'} threads) batch ${batch}: ${timing.msPerPredict.map((ms, k) => `k=${k} ${ms.toFixed(1)} ms`).join(', ')}`);
      } catch (error) {
        rows.push({ engine, variant: variant.label, starts: true, batch, error: error instanceof Error ? error.message : String(error) });
        console.log(`${engine} (${variant.label}) batch ${batch}: failed: ${error instanceof Error ? error.message : String(error)}`);
        await page.close().catch(() => undefined);
        page = await openPage(browser, url);
      }
    }
  }
  await page.close();
}

/**
 * Prints the Markdown table of the rows that have times.
 *
 * @param {WebRow[]} rows
 */
function printTable(rows) {
  console.log(`\n| engine | threads | batch | k = 0 | k = 1 | k = 2 | k = 3 | k = 3 / k = 0 |\n|---|---|---|---|---|---|---|---|`);
  for (const row of rows.filter((r) => r.starts && r.msPerPredict !== undefined)) {
    const ms = /** @type {readonly number[]} */ (row.msPerPredict);
    console.log(`| ${row.engine}${row.variant === 'single-threaded' ? ' (?threads=1)' : ''} | ${row.threads ?? '—'} | ${row.batch} | ${ms.map((v) => v.toFixed(1)).join(' | ')} | ${(ms[3] / ms[0]).toFixed(2)} |`);
  }
}

/**
 * Runs the web suite with the given command-line arguments.
 *
 * @param {string[]} argv
 */
export async function runWeb(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      repeats: { type: 'string', default: '5' },
      engines: { type: 'string', default: allEngines.join(',') },
      batches: { type: 'string', default: '1,16' },
      // WebGL/WebGPU on SwiftShader (no GPU): batch 16 takes minutes per cell, and once crashed the
      // page's renderer (tfjs-webgpu, 2026-12-06); on a machine with a GPU pass --gpu-batches 1,16.
      'gpu-batches': { type: 'string', default: '1' },
      model: { type: 'string', default: 'mnist-full' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: pnpm bench web [--repeats 5] [--engines onnx-wasm,tfjs-wasm,...] [--batches 1,16] [--gpu-batches 1] [--model mnist-full]');
    return;
  }
  const engines = values.engines.split(',');
  for (const e of engines) if (!allEngines.includes(e)) throw new Error(`--engines: unknown engine ${e}; choose from ${allEngines.join(', ')}`);
  const batches = values.batches.split(',').map(Number);
  const gpuBatches = values['gpu-batches'].split(',').map(Number);
  const repeats = Number(values.repeats);
  const machine = machineInfo();
  const started = new Date().toISOString();
  const loadBefore = loadAverage();

  await buildPage({ log: () => undefined });
  const server = await servePage({ port: 0 });
  const browser = await launchChromium();
  /** @type {WebRow[]} */
  const rows = [];
  const settings = { engines, batches, gpuBatches, model: values.model, repeats };
  try {
    const variants = [{ query: '', label: 'default threads' }, { query: '?threads=1', label: 'single-threaded' }];
    for (const variant of variants) {
      await timeVariant(browser, `${server.url}${variant.query}`, { label: variant.label, wasmOnly: variant.query !== '' }, settings, rows);
    }
  } finally {
    await browser.close();
    await server.close();
  }

  const doc = {
    schema: 'levelskip-bench-web/1',
    machine,
    browser: 'headless Chromium (system package), --enable-unsafe-webgpu, SwiftShader for WebGL/WebGPU',
    model: values.model,
    repeats,
    started,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
    rows,
  };
  const dir = join(repositoryRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `web-${machineSlug(machine)}.json`);
  await writeFileAtomic(path, formatJson(doc));
  printTable(rows);
  console.log(`\nwrote ${path} (load average ${loadBefore.join(', ')} before, ${doc.loadAverageAfter.join(', ')} after)`);
}
