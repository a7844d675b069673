/**
 * Child process of the export kill loop (bundled by the test with esbuild): exports model `a` and
 * model `b` (see `export-models.ts`) into `dir`, alternately and forever, printing `ready` before
 * the first export, until it is killed.
 *
 * argv: <dir> <first model: a|b> <ks: comma-separated k's, or "all">
 */
import { exportOnnx } from '../../src/export/export-onnx.js';
import { exportModelWeights, exportSpec, type ExportModelName } from './export-models.js';

const [dir, first, ksText] = process.argv.slice(2) as [string, ExportModelName, string];
const weights = { a: exportModelWeights('a'), b: exportModelWeights('b') };
const ks = ksText === 'all' ? undefined : ksText.split(',').map(Number);
let which = first;
process.stdout.write('ready\n');
for (;;) {
  await exportOnnx(exportSpec, weights[which], dir, ks === undefined ? {} : { ks });
  which = which === 'a' ? 'b' : 'a';
}
