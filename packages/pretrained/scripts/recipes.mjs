/**
 * How each shipped model is trained: the single source of the recipes that
 * `scripts/train-models.mjs` runs and that each model's model.json records.
 *
 * The models use core's MNIST presets (`mnistSmall`: 32×32×1, N = 4 levels, 3.0M parameters, and
 * its multi-decoder and ode2 variants), the `mnist` package's train split (9,000 digits; the last 100 of each digit are the test split),
 * the linear β schedule over 1000 steps, ε-prediction, Adam with a linear warm-up, gradient
 * clipping at norm 1 and EMA weights (the shipped weights are the EMA).
 */
import { parseFill, powerSchedule, presets } from '@levelskip/core';
import { trainingLimits } from '@levelskip/train-tfjs';

const common = {
  batchSize: 32,
  lr: 5e-4,
  warmup: 200,
  ema: 0.999,
  emaWarmup: true,
  gradClip: 1,
  seed: 0,
  steps: 6000,
};

/**
 * Recipe A's settings (see `mnist-c2-finetune`), shared by the distillation recipes B, C and D, seed
 * included: B sees exactly A's batches, k, t and ε and differs from A only by the teacher.
 */
const finetuneFromFull = {
  ...common,
  spec: presets.mnistSmall,
  fill: 'zero',
  initFrom: 'mnist-full',
  lr: 2e-4,
  warmup: 100,
  seed: 24,
  steps: 3000,
  keepEvery: 500,
  experimental: true,
};

/**
 * Distillation from the frozen mnist-full at k = 0. The mix 0.5 (weight of the plain ε loss) is not
 * tuned: no measurement favoured another value.
 */
const distilFromFull = { teacher: 'mnist-full', distillMix: 0.5 };

/**
 * `initFrom` names a shipped model whose weights the run starts from (fine-tuning) instead of
 * random ones (tensors of the recipe's spec that model lacks, e.g. side paths, start from
 * `randomWeights(spec, { seed })`); `keepEvery` keeps the training checkpoint of every such step
 * (the FD-LeNet curve of the quality issue is read from them) besides the newest two. `teacher`
 * names a shipped model distilled into the run (train()'s `teacher`: frozen, run at k = 0) and
 * `distillMix` is the weight of the plain ε loss in the distillation loss (0 = pure distillation).
 * `addedAsIdentity` starts the attention blocks the `initFrom` model lacks as the identity (their
 * residual output projection `to_out.0` zero), so that the run's step 0 is that model exactly.
 *
 * @type {Record<string, { description: string, spec: object, scheme: string, c?: number, fill: string, batchSize: number, lr: number, warmup: number, ema: number, gradClip: number, seed: number, steps: number, initFrom?: string, keepEvery?: number, teacher?: string, distillMix?: number, addedAsIdentity?: boolean, experimental?: boolean }>}
 */
export const recipes = {
  'mnist-zero-c2': {
    ...common,
    description: 'Schedule-aware training for the power schedule c = 2 with zero fill (the paper\'s headline setting).',
    spec: presets.mnistSmall,
    scheme: 'schedule-aware',
    c: 2,
    fill: 'zero',
    history:
      'Steps 1–1410 ran before train() had EMA warm-up (constant decay 0.999); from step 1411 on the decay is min(0.999, (1 + s) / (10 + s)), which averages the early EMA away within a few hundred steps. Trained with workers 2 up to step 927, then 1.',
  },
  'mnist-full': {
    ...common,
    description: 'The same architecture trained at full depth only (k = 0): the baseline, the paper\'s DDPM row.',
    spec: presets.mnistSmall,
    scheme: 'full',
    fill: 'zero',
    history:
      'Steps 1–367 ran before train() had EMA warm-up (constant decay 0.999); from step 368 on the decay is min(0.999, (1 + s) / (10 + s)).',
  },
  'mnist-interpolate': {
    ...common,
    description: 'Uniform-k training with side paths, for the interpolate fill (bicubic resize of the side-path features).',
    spec: { ...presets.mnistSmall, sidePaths: true },
    scheme: 'uniform',
    fill: 'interpolate',
  },
  'mnist-multistage': {
    ...common,
    description:
      'Multi-decoder U-Net (mnistMultistage: shared encoder, decoders of width 32/24/16 for t in [0, 0.442), [0.442, 0.6308), [0.6308, 1]), uniform-k training with zero fill, so it samples both at full depth (against mnist-full) and with any power schedule (against mnist-zero-c2).',
    spec: presets.mnistMultistage,
    scheme: 'uniform',
    fill: 'zero',
  },
  'mnist-ode2': {
    ...common,
    description:
      "Continuous U-Net (mnistOde2: second-order neural-ODE blocks, RK4, a quarter of mnistSmall's parameters), uniform-k training with zero fill, so it samples both at full depth and with any power schedule (the ode2 rows compare with and without skipping).",
    spec: presets.mnistOde2,
    scheme: 'uniform',
    fill: 'zero',
  },
  'mnist-c2-finetune': {
    ...finetuneFromFull,
    description:
      "Recipe A of the quality issue: mnist-full's weights fine-tuned schedule-aware for the power schedule c = 2 with zero fill (the paper's setting: a pre-trained network, then skip-aware training).",
    scheme: 'schedule-aware',
    c: 2,
  },
  'mnist-c2-distill': {
    ...finetuneFromFull,
    ...distilFromFull,
    description:
      "Recipe B of the quality issue: recipe A (mnist-full fine-tuned schedule-aware for c = 2, zero fill) plus distillation from the frozen mnist-full at k = 0: loss = 0.5 · ‖ε_student(x_t, t; k) − ε_mnist-full(x_t, t)‖² + 0.5 · ‖ε_student − ε‖². The mix 0.5 is untuned (no measurement favoured another value): half the teacher's target, which varies less than ε, and half ε, which keeps pulling towards the data where the teacher itself errs.",
    scheme: 'schedule-aware',
    c: 2,
    // Shipped (@levelskip/model-mnist-c2-distill): at 3,000 steps it scores better than mnist-zero-c2 at every c (docs/results.md, recipes table).
    experimental: false,
  },
  'mnist-c2-distill-interpolate': {
    ...finetuneFromFull,
    ...distilFromFull,
    description:
      "Recipe C of the quality issue: recipe B with the interpolate fill (mnistSmall with side paths). mnist-full has no side paths, so the run starts from mnist-full's weights plus random side paths (randomWeights(spec, { seed: 24 })), trained jointly with the rest; teacher mnist-full at k = 0, mix 0.5 (untuned, as in B).",
    spec: { ...presets.mnistSmall, sidePaths: true },
    scheme: 'schedule-aware',
    c: 2,
    fill: 'interpolate',
  },
  'mnist-c2-distill-mean': {
    ...finetuneFromFull,
    ...distilFromFull,
    description:
      "Recipe E of the quality issue: recipe B with the mean fill, a cheap global path at the cut: the missing deep features are replaced by the spatial mean of the cut level's skip features, broadcast (no new weights, so it starts from mnist-full's weights exactly as B does); teacher mnist-full at k = 0, mix 0.5 (untuned, as in B). It tests whether global context at the 32×32 level, which the zero fill lacks, is what limits B at c = 2.",
    scheme: 'schedule-aware',
    c: 2,
    fill: 'mean',
  },
  'mnist-c2-distill-attn32': {
    ...finetuneFromFull,
    ...distilFromFull,
    description:
      "Recipe F of the quality issue: recipe B on mnistSmall with self-attention at the 32×32 level as well (attentionLevels [0, 2]: one attention after the encoder's block, one after each of the decoder's two), a global path that every depth runs, c = 2 included. The attention tensors mnist-full lacks start as the identity (output projection zero, the rest randomWeights(spec, { seed: 24 })), so step 0 is mnist-full exactly; teacher mnist-full at k = 0, mix 0.5 (untuned, as in B). A diagnostic, not a candidate: the three attentions over 1,024 positions cost more than the 32×32 level's convolutions, so c = 2 saves 23.4 % of the FLOPs instead of 41.4 % (14.4 % measured at 500 steps). It tests whether global mixing at the level that c = 2 keeps is what limits B.",
    spec: { ...presets.mnistSmall, attentionLevels: [0, 2] },
    scheme: 'schedule-aware',
    c: 2,
    addedAsIdentity: true,
  },
  'mnist-uniform-distill': {
    ...finetuneFromFull,
    ...distilFromFull,
    description:
      'Recipe D of the quality issue: mnist-full fine-tuned with uniform k (every depth at every noise level) and zero fill, distilled from the frozen mnist-full at k = 0, mix 0.5 (untuned, as in B): one model for every power schedule.',
    scheme: 'uniform',
  },
};

/** The optimiser's settings of a recipe, as train() takes them and as the training record stores them. */
export function optimiserSettings(recipe) {
  const { batchSize, lr, warmup, ema, emaWarmup, gradClip } = recipe;
  return { batchSize, lr, warmup, ema, emaWarmup, gradClip };
}

/** Steps between the training checkpoints of every recipe. */
export const checkpointEvery = 250;

/**
 * The options of train() that a recipe fixes: everything but the data, the step count, the seed
 * of a continuation, the starting weights, the teacher's weights, the workers and the run's
 * directory and signal, which `scripts/train-models.mjs` adds. Kept apart so that a test can hand
 * every recipe to train-tfjs's `planTraining` (the same checks train() runs) without training.
 */
export function recipeTrainOptions(recipe) {
  return {
    spec: recipe.spec,
    ...optimiserSettings(recipe),
    scheme: recipe.scheme,
    ...(recipe.c === undefined ? {} : { schedule: powerSchedule({ c: recipe.c }) }),
    fill: parseFill(recipe.fill),
    engine: 'wasm',
    checkpointEvery,
    // keepEvery recipes keep every checkpoint during the run; train-models.mjs prunes the ones off the keepEvery grid afterwards.
    keepLast: recipe.keepEvery === undefined ? 2 : trainingLimits.keepLast,
  };
}
