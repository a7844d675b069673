/**
 * Per-timestep gradient features: the input of core's `clusterTimesteps`, which proposes the stage
 * boundaries of a multi-decoder U-Net (Zhang et al., "Improving Efficiency of Diffusion Models via
 * Multi-Stage Framework and Tailored Multi-Decoder Architectures", CVPR 2024).
 *
 * The paper groups timesteps by the similarity of their optimal denoisers. As a computable proxy,
 * the feature of a training timestep t is the gradient of the ε-prediction loss at that fixed t
 * (Ho et al. 2020, Algorithm 1, with t not drawn but given),
 *
 *   g(t) = ∇_θ L_t(θ),   L_t = mean_i ‖ε_i − ε_θ(√ᾱ_t x_i + √(1 − ᾱ_t) ε_i, t)‖² / (C·H·W),
 *
 * over a chosen set θ of shared parameters: timesteps whose gradients point the same way pull the
 * shared weights towards the same denoiser. Every timestep sees the same images x_i and the same
 * noise ε_i (common random numbers), so features differ only through t. The loss is that of
 * `training-step.ts` (`computeGradients`), on the full network (k = 0) and without dropout.
 */
import * as tf from '@tensorflow/tfjs';
import {
  LevelskipError,
  SeededRng,
  describeArchitecture,
  stageForTime,
  linearBetaSchedule,
  noiseScheduleFromConfig,
  parameterLayout,
  parseUNetSpec,
  validateWeights,
  zeroFill,
  type NamedTensors,
  type NoiseSchedule,
  type NoiseScheduleConfig,
  type UNetSpec,
  type UNetSpecInput,
} from '@levelskip/core';
import { ensureEngine, selectEngine, type TfjsEngineChoice, fromTfjsLayout, createTfjsTensorOps } from '@levelskip/backend-tfjs';
import { checkInMemoryDataset, type InMemoryDataset } from '../data/batch-source.js';
import { computeGradients, noiseBatch, variablesOf, type LossContext } from '../step/training-step.js';

/** Which parameters the features are gradients of: name prefixes, or a predicate on names. */
export type FeatureParameters = readonly string[] | ((name: string) => boolean);

export interface TimestepFeatureOptions {
  /** The model's architecture. */
  readonly spec: UNetSpec | UNetSpecInput;
  /** Its weights (PyTorch layouts, diffusers names), e.g. `loadCheckpoint(dir).weights`. */
  readonly weights: NamedTensors;
  /**
   * Images NCHW in [-1, 1]; the first `samplesPerTimestep` are used (a prefix of `loadMnist`'s
   * class-interleaved data is balanced; shuffle other data first).
   */
  readonly data: InMemoryDataset;
  /** Integer training timesteps in [0, spec.trainTimesteps); one feature vector each, in this order. */
  readonly timesteps: readonly number[];
  /** Images (each with its own noise) averaged in every timestep's loss; at most `data.count`. */
  readonly samplesPerTimestep: number;
  /** Parameters to differentiate (default: `defaultFeatureParameters(spec)`); see `timestepFeatureParameters`. */
  readonly parameters?: FeatureParameters;
  /** Seed of the noise ε (default 0): ε = `new SeededRng(seed).normal(samplesPerTimestep · C·H·W)`, image i taking slice i. */
  readonly seed?: number;
  /** The noise schedule the model was trained with (default linear β 1e-4…0.02 over spec.trainTimesteps). */
  readonly noiseSchedule?: NoiseSchedule | NoiseScheduleConfig;
  /** Images per gradient evaluation (default 32); the features do not depend on it beyond float32 rounding. */
  readonly batchSize?: number;
  /** The tfjs engine (default `auto`). */
  readonly engine?: TfjsEngineChoice;
}

function invalid(field: string, message: string, code: 'INVALID_OPTION' | 'INVALID_SHAPE' = 'INVALID_OPTION', cause?: unknown): LevelskipError {
  return new LevelskipError(code, `timestepGradientFeatures: ${field} ${message}`, { issues: [{ path: field.split('.'), message }], cause });
}

/**
 * The default feature parameters: the shared encoder's deepest level (`down_blocks.{N−1}.`) and
 * the middle block (`mid_block.`). Both are shared by every timestep and every decoder stage and
 * see the whole input through the receptive field of the lowest resolution, and they are a small
 * part of the network (about 0.94M of mnistSmall's 3.0M parameters).
 */
export function defaultFeatureParameters(spec: UNetSpec | UNetSpecInput): readonly string[] {
  return [`down_blocks.${parseUNetSpec(spec).channelMults.length - 1}.`, 'mid_block.'];
}

/**
 * The names of the parameters a feature vector is the gradient of, in the spec's layout order
 * (`parameterLayout`): a feature is these tensors' gradients, flattened in PyTorch layout and
 * concatenated in this order.
 *
 * @throws LevelskipError `INVALID_OPTION` (field `parameters`) when the selection is empty or invalid.
 */
export function timestepFeatureParameters(spec: UNetSpec | UNetSpecInput, parameters?: FeatureParameters): readonly string[] {
  const parsed = parseUNetSpec(spec);
  const choice = parameters ?? defaultFeatureParameters(parsed);
  let keep: (name: string) => boolean;
  if (typeof choice === 'function') keep = choice;
  else if (Array.isArray(choice) && choice.every((p) => typeof p === 'string')) keep = (name) => choice.some((prefix) => name.startsWith(prefix));
  else throw invalid('parameters', 'must be an array of name prefixes (e.g. ["mid_block."]) or a function (name) => boolean');
  const names = parameterLayout(parsed)
    .map((entry) => entry.name)
    .filter((name) => keep(name));
  if (names.length === 0) {
    throw invalid('parameters', 'selects no parameter of this spec; names follow diffusers (down_blocks.{l}., mid_block., up_blocks.{i}., decoders.{s}.up_blocks…)');
  }
  return names;
}

function checkInteger(value: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max)) {
    throw invalid(field, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkNoiseSchedule(value: TimestepFeatureOptions['noiseSchedule'], T: number): NoiseSchedule {
  let schedule: NoiseSchedule;
  if (value === undefined) schedule = linearBetaSchedule({ trainTimesteps: T });
  else if ((value as NoiseSchedule).alphasCumprod instanceof Float64Array) schedule = value as NoiseSchedule;
  else {
    try {
      const config = value as NoiseScheduleConfig;
      schedule = noiseScheduleFromConfig(config.trainTimesteps === undefined ? { ...config, trainTimesteps: T } : config);
    } catch (error) {
      if (!LevelskipError.is(error)) throw error;
      throw invalid('noiseSchedule', error.message, 'INVALID_OPTION', error);
    }
  }
  if (schedule.trainTimesteps !== T) throw invalid('noiseSchedule', `has trainTimesteps = ${schedule.trainTimesteps} but the spec has ${T}; they must agree`);
  return schedule;
}

/**
 * For each timestep, the gradient of the ε-prediction MSE at that fixed timestep (fixed seeded
 * noise, the first `samplesPerTimestep` images, full network k = 0, no dropout) with respect to
 * the chosen parameters, flattened in PyTorch layout and concatenated in layout order
 * (`timestepFeatureParameters`); parameters the loss does not reach (another stage's decoder,
 * side paths) get zeros. Feed them to core's `clusterTimesteps` (with `trainTimesteps`) to
 * propose decoder stages; see this file's top comment for what they approximate.
 *
 * @returns one Float64Array per timestep, of length Σ sizes of the chosen parameters.
 * @throws LevelskipError `INVALID_OPTION` / `INVALID_SHAPE` naming the field, `INVALID_SPEC`,
 *   `WEIGHTS_MISMATCH`, and `BACKEND_UNAVAILABLE` when the engine cannot start.
 *
 * @example
 * const { spec, weights } = await loadCheckpoint(dir);
 * const timesteps = Array.from({ length: 20 }, (_, i) => Math.round(((i + 0.5) * 1000) / 20));
 * const features = await timestepGradientFeatures({ spec, weights, data: await loadMnist({ count: 256 }), timesteps, samplesPerTimestep: 256 });
 * const { boundaries } = clusterTimesteps({ timesteps, trainTimesteps: 1000, features, stages: 3 });
 */
export async function timestepGradientFeatures(options: TimestepFeatureOptions): Promise<Float64Array[]> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object { spec, weights, data, timesteps, samplesPerTimestep }');
  if (options.spec === undefined) throw invalid('spec', 'is required');
  // The network as trained, but deterministic: dropout off.
  const spec = parseUNetSpec({ ...parseUNetSpec(options.spec), dropout: 0 });
  if (!(options.weights instanceof Map)) throw invalid('weights', 'must be a Map of named tensors (e.g. loadCheckpoint(dir).weights)');
  validateWeights(spec, options.weights);
  const imageShape: [number, number, number] = [spec.inChannels, spec.imageSize, spec.imageSize];
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  try {
    checkInMemoryDataset(options.data, imageShape);
  } catch (error) {
    if (!LevelskipError.is(error)) throw error;
    throw invalid('data', error.message.replace(/^train: data /, ''), error.code === 'INVALID_SHAPE' ? 'INVALID_SHAPE' : 'INVALID_OPTION', error);
  }
  const T = spec.trainTimesteps;
  const { timesteps } = options;
  if (!Array.isArray(timesteps) || timesteps.length === 0) throw invalid('timesteps', 'must be a non-empty array of integer training timesteps');
  timesteps.forEach((t: unknown, i) => {
    if (!(typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 && t < T)) throw invalid(`timesteps.${i}`, `must be an integer in [0, ${T}), got ${String(t)}`);
  });
  const samples = checkInteger(options.samplesPerTimestep, 'samplesPerTimestep', 1, options.data.count);
  const batchSize = checkInteger(options.batchSize, 'batchSize', 1, 1 << 16, 32);
  const seed = checkInteger(options.seed, 'seed', 0, Number.MAX_SAFE_INTEGER, 0);
  const schedule = checkNoiseSchedule(options.noiseSchedule, T);
  const names = timestepFeatureParameters(spec, options.parameters);

  const sizes = names.map((name) => options.weights.get(name)!.data.length);
  const offsets: number[] = [];
  let length = 0;
  for (const n of sizes) {
    offsets.push(length);
    length += n;
  }
  const images = options.data.images.subarray(0, samples * size);
  const noise = new SeededRng(seed).normal(samples * size);

  const { engine, tfBackend } = await selectEngine(options.engine ?? 'auto');
  const activate = (): void => ensureEngine(tfBackend);
  activate();
  const layout = parameterLayout(spec);
  const arch = describeArchitecture(spec);
  const params = variablesOf(options.weights, layout.map((entry) => entry.name), true);
  const parts = new Map(layout.map((entry) => [entry.name, entry.part]));
  // At k = 0 the loss reaches neither the side paths nor the decoders of other stages.
  const reachedAt = (stage: number): string[] =>
    names.filter((name) => {
      const part = parts.get(name)!;
      if (part.kind === 'side-encoder' || part.kind === 'side-decoder') return false;
      return !('stage' in part) || part.stage === stage;
    });
  const contexts = arch.decoders.map(
    (decoder): LossContext => ({
      arch,
      ops: createTfjsTensorOps(`tfjs-${engine}`, activate),
      names: reachedAt(decoder.stage),
      params,
      fill: zeroFill,
      imageShape,
    }),
  );
  try {
    const features: Float64Array[] = [];
    for (const t of timesteps as number[]) {
      const feature = new Float64Array(length);
      const context = contexts[stageForTime(arch, t / T)]!;
      if (context.names.length === 0) {
        features.push(feature);
        continue;
      }
      for (let start = 0; start < samples; start += batchSize) {
        const end = Math.min(samples, start + batchSize);
        activate();
        const batch = noiseBatch(images.subarray(start * size, end * size), noise.subarray(start * size, end * size), new Array<number>(end - start).fill(t), imageShape, schedule);
        // Normalised by the whole sample count, so the chunks' gradients add up to the mean's.
        const { loss, names: reached, grads } = computeGradients(context, batch, 0, 0, samples);
        try {
          for (let j = 0; j < reached.length; j++) {
            const index = names.indexOf(reached[j]!);
            const grad = grads[j]!;
            const host = fromTfjsLayout({ shape: grad.shape, data: (await grad.data()) as Float32Array });
            const offset = offsets[index]!;
            for (let i = 0; i < host.data.length; i++) feature[offset + i]! += host.data[i]!;
          }
        } finally {
          tf.dispose([loss, ...grads]);
        }
      }
      features.push(feature);
    }
    return features;
  } finally {
    tf.dispose([...params.values()]);
  }
}
