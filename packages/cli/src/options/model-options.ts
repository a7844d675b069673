/**
 * The model flags every command shares: `--model`, `--checkpoint`, `--preset`, `--spec`, and for
 * commands that run a model, `--random-weights` / `--weights-seed`.
 */
import type { Command } from 'commander';
import { pretrainedModelNames } from '@levelskip/pretrained';
import { presetNames } from '../model/resolve-model.js';

export interface ModelFlagValues {
  readonly model?: string;
  readonly checkpoint?: string;
  readonly preset?: string;
  readonly spec?: string;
  readonly randomWeights?: boolean;
  readonly weightsSeed?: string;
}

/** Adds the model flags to `command`. */
export function addModelOptions(command: Command, options: { readonly randomWeights: boolean }): Command {
  command
    .option('--model <name>', `a pretrained model (${pretrainedModelNames.join(', ')})`)
    .option('--checkpoint <dir>', 'a checkpoint directory (model.json + model.safetensors), or a diffusers UNet2DModel or pipeline directory (config.json / model_index.json)')
    .option('--preset <name>', `an architecture preset (${presetNames.join(', ')})`)
    .option('--spec <file.json>', 'a U-Net spec in a JSON file (or a model.json holding one)');
  if (options.randomWeights) {
    command
      .option('--random-weights', 'with --preset or --spec: random weights instead of trained ones (timing runs)')
      .option('--weights-seed <n>', 'seed of --random-weights, 0–2^53 − 1', '0');
  }
  return command;
}
