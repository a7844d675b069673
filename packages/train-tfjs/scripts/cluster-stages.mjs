#!/usr/bin/env node
/**
 * Proposes decoder-stage boundaries for a multi-decoder U-Net (Zhang et al., CVPR 2024) from a
 * trained checkpoint: per-timestep gradient features of the ε-loss (`timestepGradientFeatures`,
 * on MNIST train digits) clustered into contiguous stages by core's `clusterTimesteps` (exact
 * DP, unit-norm features, i.e. grouping timesteps whose gradients point the same way).
 *
 * Timesteps: M evenly spread over [0, T): n_m = round((m + ½)·T / M). The features are taken on
 * the full network (k = 0). A model trained schedule-aware only trains the full network where
 * k(t) = 0, so its features at high t describe untrained deep paths; prefer a checkpoint trained
 * with the uniform scheme (every k at every t), or choose --parameters the schedule always uses
 * (e.g. down_blocks.0.).
 *
 * Build first:
 *   pnpm --filter @levelskip/core build && pnpm --filter @levelskip/backend-tfjs build && pnpm --filter @levelskip/train-tfjs build
 *   node packages/train-tfjs/scripts/cluster-stages.mjs [--checkpoint DIR] [--timesteps 20]
 *        [--samples 256] [--stages 3] [--batch 32] [--seed 0] [--engine auto]
 *        [--parameters down_blocks.3.,mid_block.] [--min-width 0] [--widths 48,32,16]
 * Prints a table and, last, one JSON line with the boundaries and ready-to-use decoderStages.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { clusterTimesteps, loadCheckpoint, stagesFromBoundaries } from '@levelskip/core';
import { loadMnist } from '@levelskip/datasets';
import { timestepFeatureParameters, timestepGradientFeatures } from '../dist/index.js';

const defaultCheckpoint = fileURLToPath(new URL('../../model-mnist-zero-c2', import.meta.url));

function parseArgs(argv) {
  const args = {
    checkpoint: defaultCheckpoint,
    timesteps: 20,
    samples: 256,
    stages: 3,
    batch: 32,
    seed: 0,
    engine: 'auto',
    parameters: undefined,
    minWidth: 0,
    widths: [48, 32, 16],
  };
  const number = (value, name) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`${name} needs a number, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = argv[i + 1];
    if (a === '--checkpoint') args.checkpoint = resolve(value);
    else if (a === '--timesteps') args.timesteps = number(value, a);
    else if (a === '--samples') args.samples = number(value, a);
    else if (a === '--stages') args.stages = number(value, a);
    else if (a === '--batch') args.batch = number(value, a);
    else if (a === '--seed') args.seed = number(value, a);
    else if (a === '--engine') args.engine = value;
    else if (a === '--parameters') args.parameters = value.split(',').filter((p) => p !== '');
    else if (a === '--min-width') args.minWidth = number(value, a);
    else if (a === '--widths') args.widths = value.split(',').map((w) => number(w, a));
    else {
      throw new Error(
        `unknown argument ${a}; use --checkpoint DIR, --timesteps M, --samples N, --stages S, --batch B, --seed N, --engine E, --parameters p1,p2, --min-width W, --widths w1,w2,…`,
      );
    }
    i++;
  }
  return args;
}

function norm(vector) {
  let sum = 0;
  for (const v of vector) sum += v * v;
  return Math.sqrt(sum);
}

const args = parseArgs(process.argv.slice(2));
const { spec, weights, manifest } = await loadCheckpoint(args.checkpoint);
const T = spec.trainTimesteps;
const timesteps = Array.from({ length: args.timesteps }, (_, m) => Math.round(((m + 0.5) * T) / args.timesteps));
// A checkpoint written by train() stores its noise schedule config; others are assumed linear.
const stored = manifest.training?.noiseSchedule;
const noiseSchedule = typeof stored === 'object' && stored !== null && typeof stored.kind === 'string' ? stored : undefined;
const data = await loadMnist({ split: 'train', count: args.samples });
const names = timestepFeatureParameters(spec, args.parameters);
const parameterTotal = names.reduce((sum, n) => sum + weights.get(n).data.length, 0);

console.log(`checkpoint ${args.checkpoint}`);
console.log(`  ${spec.channelMults.length} levels, ${spec.decoderStages?.length ?? 1} decoder(s); training steps: ${manifest.training?.steps ?? 'unknown'}`);
console.log(`  noise schedule: ${noiseSchedule === undefined ? 'linear β 1e-4…0.02 (default)' : JSON.stringify(noiseSchedule)}`);
console.log(`features: gradients of the ε-loss w.r.t. ${names.length} tensors (${parameterTotal} values: ${args.parameters?.join(', ') ?? 'deepest encoder level + middle block'})`);
console.log(`  ${timesteps.length} timesteps × ${args.samples} MNIST train digits, seed ${args.seed}, k = 0`);

const started = performance.now();
const features = await timestepGradientFeatures({
  spec,
  weights,
  data,
  timesteps,
  samplesPerTimestep: args.samples,
  parameters: args.parameters,
  seed: args.seed,
  batchSize: args.batch,
  noiseSchedule,
  engine: args.engine,
});
const seconds = (performance.now() - started) / 1000;
console.log(`  computed in ${seconds.toFixed(1)} s`);

const result = clusterTimesteps({ timesteps, trainTimesteps: T, features, stages: args.stages, minStageWidth: args.minWidth });
const stageOf = new Array(timesteps.length);
result.segments.forEach((segment, s) => {
  for (let m = segment.first; m <= segment.last; m++) stageOf[m] = s;
});
// Cosine similarity to the next timestep: where it drops, the gradient direction turns.
const cosineToNext = features.map((f, m) => {
  const g = features[m + 1];
  if (g === undefined) return undefined;
  let dot = 0;
  for (let i = 0; i < f.length; i++) dot += f[i] * g[i];
  return dot / (norm(f) * norm(g));
});
console.log('\n   step      t   ‖g‖        cos(g, next)  stage');
timesteps.forEach((n, m) => {
  const cos = cosineToNext[m] === undefined ? '' : cosineToNext[m].toFixed(4);
  console.log(`  ${String(n).padStart(5)}  ${(n / T).toFixed(3)}  ${norm(features[m]).toExponential(3).padEnd(10)} ${cos.padStart(12)}  ${stageOf[m]}`);
});
console.log(`\nboundaries (normalised t): ${result.boundaries.map((b) => b.toFixed(4)).join(', ') || '(none)'}`);
console.log(`within-stage cost J = ${result.cost.toFixed(5)} (per stage: ${result.perStageCost.map((c) => c.toFixed(5)).join(', ')})`);

const decoderStages = args.widths.length === result.stages.length ? stagesFromBoundaries(result.boundaries, args.widths) : undefined;
console.log(
  JSON.stringify({
    checkpoint: args.checkpoint,
    trainingSteps: manifest.training?.steps ?? null,
    timesteps,
    samplesPerTimestep: args.samples,
    seed: args.seed,
    parameters: args.parameters ?? 'default',
    featureLength: parameterTotal,
    stages: args.stages,
    boundaries: result.boundaries,
    segments: result.segments,
    cost: result.cost,
    perStageCost: result.perStageCost,
    decoderStages: decoderStages ?? null,
    seconds: Math.round(seconds * 10) / 10,
  }),
);
