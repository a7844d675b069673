#!/usr/bin/env node
// @ts-check
/**
 * `pnpm bench <suite> [flags]`: levelskip's benchmarks. Timing lives here, never in tests.
 *
 *   pnpm bench speed [--quick] [--only mnistSmall] [--backends onnx,tfjs,torch] ...   (bench/speed.mjs)
 *   pnpm bench report [--results bench/results] [--out docs/results.md]              (bench/report.mjs)
 *   pnpm bench quality [--quick] [--only table1,table3] [--models ...]                (bench/quality.mjs)
 *   pnpm bench web [--repeats 5] [--engines ...] [--batches 1,16]                      (bench/web.mjs)
 *   pnpm bench overhead [--models ...] [--batches 1,16,50] [--baseline <checkout>]     (bench/overhead.mjs)
 *
 * Each suite is a module exporting `run<Suite>(argv)`; `<suite> --help` prints its flags.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Each suite's module (beside this file) and the function it exports, `run<Suite>(argv)`.
 *
 * @type {Record<string, { module: string, entry: string } | undefined>}
 */
const suites = {
  speed: { module: './speed.mjs', entry: 'runSpeed' },
  report: { module: './report.mjs', entry: 'runReport' },
  quality: { module: './quality.mjs', entry: 'runQuality' },
  web: { module: './web.mjs', entry: 'runWeb' },
  overhead: { module: './overhead.mjs', entry: 'runOverhead' },
};

const usage = `usage: pnpm bench <suite> [flags]
suites: ${Object.keys(suites).join(', ')} (pnpm bench <suite> --help for its flags)`;

/**
 * Runs the suite named first in `argv` with the rest of it.
 *
 * @param {string[]} argv
 * @returns {Promise<number>} the exit code
 */
async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage);
    return name === undefined ? 1 : 0;
  }
  const suite = suites[name];
  if (suite === undefined) {
    console.error(`unknown suite "${name}"\n${usage}`);
    return 1;
  }
  const url = new URL(suite.module, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    console.error(`the ${name} suite is not written yet (${fileURLToPath(url)} is missing)`);
    return 1;
  }
  const module = await import(pathToFileURL(fileURLToPath(url)).href);
  await module[suite.entry](rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`[bench] ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.BENCH_DEBUG) console.error(error);
    process.exitCode = 1;
  },
);
