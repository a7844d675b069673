/**
 * Every recipe of scripts/recipes.mjs hands train() options it accepts: train-tfjs's planTraining
 * runs the checks train() runs, without training. (A recipe with `keepEvery` once asked for
 * keepLast 1,000,000, over the trainer's limit, and failed only when a run started.)
 */
import { describe, expect, it } from 'vitest';
import { planTraining, trainingLimits } from '@levelskip/train-tfjs';
import { levelskipErrorOf } from '@levelskip/core/testing';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkpointEvery, recipeTrainOptions, recipes } from '../scripts/recipes.mjs';

type Recipe = { spec: { inChannels: number; imageSize: number }; steps: number; seed: number; keepEvery?: number; fill: string };
const entries = Object.entries(recipes as Record<string, Recipe>);

/** Four images of the recipe's image shape: planTraining only checks the data's shape. */
function tinyData({ inChannels: channels, imageSize: size }: Recipe['spec']) {
  return { images: new Float32Array(4 * channels * size * size), count: 4, shape: [4, channels, size, size] };
}

describe('recipes', () => {
  it('lists every shipped model and the experiments', () => {
    expect(entries.length).toBeGreaterThanOrEqual(6);
  });

  it.each(entries)('%s: planTraining accepts the options the recipe fixes', (_name, recipe) => {
    const plan = planTraining({ ...recipeTrainOptions(recipe), data: tinyData(recipe.spec), steps: recipe.steps, seed: recipe.seed });
    expect(plan.checkpointEvery).toBe(checkpointEvery);
    expect(plan.keepLast).toBe(recipe.keepEvery === undefined ? 2 : trainingLimits.keepLast);
    expect(plan.fill.kind).toBe(recipe.fill.split(':')[0]);
  });

  it('the check fires: an option over the trainer limit is refused', () => {
    const [, recipe] = entries[0]!;
    const error = levelskipErrorOf(() =>
      planTraining({ ...recipeTrainOptions(recipe), keepLast: trainingLimits.keepLast + 1, data: tinyData(recipe.spec), steps: 1 }),
    );
    expect(error.message).toMatch(/keepLast/);
  });
});
