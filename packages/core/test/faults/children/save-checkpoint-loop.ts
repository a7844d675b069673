/**
 * Child of the checkpoint kill -9 loop: overwrites the checkpoint in argv[2] forever. Save number
 * i stores step i in the training metadata and fills conv_in.bias with i, so a manifest paired
 * with another save's weights is caught. Prints `ready` before its first save and `saved <i>`
 * after each.
 */
import { saveCheckpoint } from '../../../src/node/checkpoint-files.js';
import { deterministicWeights, tinySpec } from '../../checkpoint/deterministic-weights.js';

const [dir, startText] = process.argv.slice(2);
if (dir === undefined || startText === undefined) throw new Error('usage: save-checkpoint-loop <dir> <last step>');
const spec = tinySpec();
const weights = deterministicWeights(spec);
let step = Number(startText);
process.stdout.write('ready\n');
for (;;) {
  step += 1;
  weights.get('conv_in.bias')!.data.fill(step);
  await saveCheckpoint(dir, { spec, weights, training: { step } });
  process.stdout.write(`saved ${step}\n`);
}
