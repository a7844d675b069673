/**
 * A training run in a child process, for the kill -9 and two-process tests (train-kill.test.ts
 * bundles this file with esbuild, as source-worker.ts does for the worker thread, and runs it with
 * node). Arguments: <checkpointDir> <steps> [hold]. It always resumes (`resume: true`); with
 * `hold`, it waits after step 1 (holding the directory's lock) until a line arrives on stdin.
 *
 * Trains core's tiny `resnet` fixture on 4 fixed images, batch 2, a checkpoint every step, on the
 * wasm engine. Lines on stdout: `START <step resumed from>` before the first step, `STEP <n>` after
 * each, `NOTICE <kind>`, and `DONE <steps>` or `ERROR <code> <message>` (exit code 1).
 */
import { LevelskipError, parseUNetSpec } from '@levelskip/core';
import { tinySpecs } from '@levelskip/core/testing';
import { train } from '../../src/train/train.js';
import { randomImages } from '../helpers/random-images.js';

const [dir, stepsText, mode] = process.argv.slice(2);
const spec = parseUNetSpec(tinySpecs.resnet);
const say = (line: string): void => void process.stdout.write(`${line}\n`);

let started = false;
try {
  const result = await train({
    spec,
    data: randomImages(spec, 4),
    steps: Number(stepsText),
    batchSize: 2,
    lr: 2e-3,
    ema: 0.9,
    seed: 7,
    engine: 'wasm',
    checkpointDir: dir!,
    checkpointEvery: 1,
    keepLast: 3,
    resume: true,
    onNotice: (notice) => say(`NOTICE ${notice.kind}`),
    onProgress: async (p) => {
      if (!started) say(`START ${p.step - 1}`);
      started = true;
      say(`STEP ${p.step}`);
      if (mode === 'hold' && p.step === 1) await new Promise((resolve) => process.stdin.once('data', resolve));
    },
  });
  say(`DONE ${result.stats.steps}`);
  process.stdin.destroy();
} catch (error) {
  say(`ERROR ${LevelskipError.is(error) ? error.code : 'RAW'} ${(error as Error).message.replaceAll('\n', ' ')}`);
  process.exitCode = 1;
}
