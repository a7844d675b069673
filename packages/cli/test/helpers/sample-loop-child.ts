/**
 * Child process of the PNG kill loop (bundled from sources by the test): runs
 * `levelskip sample --out <png>` in-process over and over, alternating seeds 0 and 1, so the PNG
 * is overwritten again and again until the process is killed. With `--once <seed>` it writes one
 * PNG and exits (the reference images).
 *
 * argv: <spec.json> <out.png> [--once <seed>]
 */
import { main } from '../../src/program/create-program.js';

const [spec, out, once, onceSeed] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const silent = { write: () => true };
const io = { stdout: silent, stderr: { ...silent, isTTY: false }, env: {} };
const args = (seed: number): string[] =>
  ['sample', '--spec', spec, '--random-weights', '--steps', '1', '--batch', '144', '--columns', '12', '--scale', '12', '--seed', String(seed), '--out', out, '--no-progress'];

if (once === '--once') {
  process.exitCode = await main(args(Number(onceSeed)), io);
} else {
  process.stdout.write('ready\n');
  for (let i = 1; ; i++) {
    const code = await main(args(i % 2), io);
    if (code !== 0) process.exit(code);
  }
}
