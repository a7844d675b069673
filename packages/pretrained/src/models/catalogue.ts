/**
 * The models this package knows, trained by levelskip's own code (`scripts/train-models.mjs`,
 * recipes in `scripts/recipes.mjs`). Each model's weights ship in a package of their own,
 * `@levelskip/model-<name>` (model.json + fp16 model.safetensors), so that a user who wants one
 * model downloads one (1.3–8.7 MB) rather than all of them (26.7 MB). A model is *available* in
 * Node once its package is installed; the catalogue names every model, so that asking for one that
 * is not installed gets the install command instead of "not found".
 */
import type { BuiltinFillKind } from '@levelskip/core';

export interface CatalogueEntry {
  readonly name: string;
  /** One line: how it was trained and what it is for. */
  readonly description: string;
  /** The fill it was trained for (use it when sampling with skipping): one of core's `trainableFillKinds`. */
  readonly fill: BuiltinFillKind;
  /** The power-schedule c it was trained for; undefined for full-depth or uniform-k training. */
  readonly c?: number;
  /** The core preset its architecture is (`presets[preset]`, plus side paths when `sidePaths`). */
  readonly preset: 'mnistSmall' | 'mnistMultistage' | 'mnistOde2';
  readonly sidePaths: boolean;
  /** The npm package its weights ship in: `@levelskip/model-<name>`. */
  readonly packageName: string;
}

const entries: readonly Omit<CatalogueEntry, 'packageName'>[] = [
  {
    name: 'mnist-c2-distill',
    description: 'mnistSmall U-Net fine-tuned from mnist-full for the power schedule c = 2 with zero fill, distilled from mnist-full (the quality issue\'s recipe B)',
    fill: 'zero',
    c: 2,
    preset: 'mnistSmall',
    sidePaths: false,
  },
  {
    name: 'mnist-zero-c2',
    description: 'mnistSmall U-Net, schedule-aware training for the power schedule c = 2 with zero fill',
    fill: 'zero',
    c: 2,
    preset: 'mnistSmall',
    sidePaths: false,
  },
  {
    name: 'mnist-full',
    description: 'mnistSmall U-Net trained at full depth only (k = 0): the baseline',
    fill: 'zero',
    preset: 'mnistSmall',
    sidePaths: false,
  },
  {
    name: 'mnist-interpolate',
    description: 'mnistSmall U-Net with side paths, uniform-k training, for the interpolate fill',
    fill: 'interpolate',
    preset: 'mnistSmall',
    sidePaths: true,
  },
  {
    name: 'mnist-multistage',
    description: 'mnistMultistage U-Net (shared encoder, 3 timestep-stage decoders of width 32/24/16), uniform-k training, zero fill (samples at full depth and with any c)',
    fill: 'zero',
    preset: 'mnistMultistage',
    sidePaths: false,
  },
  {
    name: 'mnist-ode2',
    description: 'mnistOde2 continuous U-Net (second-order neural-ODE blocks, 0.67M parameters), uniform-k training, zero fill (samples at full depth and with any c)',
    fill: 'zero',
    preset: 'mnistOde2',
    sidePaths: false,
  },
];

export const catalogue: readonly CatalogueEntry[] = entries.map((entry) => ({ ...entry, packageName: modelPackageName(entry.name) }));

/** The npm package that holds the weights of the catalogued model `name`. */
export function modelPackageName(name: string): string {
  return `@levelskip/model-${name}`;
}

/** Names of every catalogued model, installed or not. */
export const pretrainedModelNames: readonly string[] = catalogue.map((entry) => entry.name);
