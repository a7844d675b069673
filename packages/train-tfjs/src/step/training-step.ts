/**
 * One optimiser step of ε-prediction diffusion training (Ho et al., "Denoising Diffusion
 * Probabilistic Models", 2020, Algorithm 1) on a level-skipping U-Net:
 *
 *   x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε,   L = mean ‖ε − ε_θ(x_t, t; k, fill)‖²,
 *
 * where ε_θ is core's `runLevelSkippingUNet` over `createTfjsBlocks` with `tf.Variable`
 * parameters, the same composition that serves inference, so a model trained at depth k with a
 * fill is exactly the model that samples at depth k with that fill. Then: gradients by reverse
 * mode (`tf.variableGrads`), global-norm clipping, Adam, EMA.
 *
 * x_t is formed on the host in float64 (rounded once to float32), so the inputs are identical on
 * every engine; a multi-decoder U-Net's batch is split by decoder stage and the per-stage squared
 * errors summed, so the loss is still the mean over the whole batch.
 *
 * With a teacher (distillation.ts) the loss is (1 − m) · mean ‖ε_θ − ε_T‖² + m · mean ‖ε_θ − ε‖²,
 * ε_T the frozen teacher's full-depth prediction of the same x_t and t.
 */
import * as tf from '@tensorflow/tfjs';
import {
  runLevelSkippingUNet,
  type Architecture,
  type FillStrategy,
  type HostTensor,
  type NamedTensors,
  type NoiseSchedule,
  type TensorOps,
} from '@levelskip/core';
import { createTfjsBlocks, exportParameters, loadParameters } from '@levelskip/backend-tfjs';
import { adamUpdate, clipByGlobalNorm, createAdamSlot, type AdamOptions, type AdamSlot } from '../optimizer/adam.js';
import { teacherPrediction, type LossTerms, type TeacherModel } from './distillation.js';
import { emaUpdate } from '../optimizer/ema.js';
import { stageGroups } from './stage-groups.js';

/** The trainable model and its optimiser state, all on the engine (tfjs layouts). */
export interface ModelState {
  /** Parameter names in a fixed order (the spec's parameter layout). */
  readonly names: readonly string[];
  readonly params: Map<string, tf.Variable>;
  readonly ema: Map<string, tf.Variable>;
  readonly slots: Map<string, AdamSlot>;
}

/** Host copies (PyTorch layouts) of a `ModelState`. */
export interface ModelSnapshot {
  readonly raw: Map<string, HostTensor>;
  readonly ema: Map<string, HostTensor>;
  readonly adamM: Map<string, HostTensor>;
  readonly adamV: Map<string, HostTensor>;
  readonly adamSteps: Record<string, number>;
}

/** Uploads the tensors `names` of `weights` (PyTorch layouts) as variables in tfjs layouts. */
export function variablesOf(weights: NamedTensors, names: readonly string[], trainable: boolean): Map<string, tf.Variable> {
  const tensors = loadParameters(weights);
  const out = new Map<string, tf.Variable>();
  for (const name of names) {
    const tensor = tensors.get(name)!;
    out.set(name, tf.variable(tensor, trainable));
    tensor.dispose();
  }
  return out;
}

/**
 * Uploads raw weights, EMA weights and (optionally) Adam moments as variables. Without moments,
 * Adam starts from zero.
 */
export function createModelState(
  names: readonly string[],
  raw: NamedTensors,
  ema: NamedTensors,
  adam?: { readonly m: NamedTensors; readonly v: NamedTensors; readonly steps: Readonly<Record<string, number>> },
): ModelState {
  const params = variablesOf(raw, names, true);
  const emaVars = variablesOf(ema, names, false);
  const slots = new Map<string, AdamSlot>();
  if (adam === undefined) {
    for (const name of names) slots.set(name, createAdamSlot(params.get(name)!));
  } else {
    const m = variablesOf(adam.m, names, false);
    const v = variablesOf(adam.v, names, false);
    for (const name of names) slots.set(name, { m: m.get(name)!, v: v.get(name)!, step: adam.steps[name] ?? 0 });
  }
  return { names, params, ema: emaVars, slots };
}

/** Reads the whole state back to the host in PyTorch layouts. */
export async function snapshotModel(state: ModelState): Promise<ModelSnapshot> {
  const pick = (f: (slot: AdamSlot) => tf.Tensor): Map<string, tf.Tensor> => new Map(state.names.map((n) => [n, f(state.slots.get(n)!)]));
  const adamSteps: Record<string, number> = {};
  for (const name of state.names) adamSteps[name] = state.slots.get(name)!.step;
  return {
    raw: await exportParameters(state.params),
    ema: await exportParameters(state.ema),
    adamM: await exportParameters(pick((s) => s.m)),
    adamV: await exportParameters(pick((s) => s.v)),
    adamSteps,
  };
}

/** Disposes every variable of the state. */
export function disposeModelState(state: ModelState): void {
  tf.dispose([...state.params.values(), ...state.ema.values()]);
  for (const slot of state.slots.values()) tf.dispose([slot.m, slot.v]);
}

/** A noised batch in NHWC order, ready for upload. */
export interface NoisedBatch {
  readonly count: number;
  /** x_t, NHWC. */
  readonly noisy: Float32Array;
  /** ε, NHWC: the regression target. */
  readonly noise: Float32Array;
  readonly timesteps: readonly number[];
}

/**
 * x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε per sample, in float64, for NCHW `images` and NCHW `noise`;
 * returns x_t and ε transposed to NHWC (tfjs's layout).
 */
export function noiseBatch(
  images: Float32Array,
  noise: Float32Array,
  timesteps: readonly number[],
  imageShape: readonly [number, number, number],
  schedule: NoiseSchedule,
): NoisedBatch {
  const [c, h, w] = imageShape;
  const size = c * h * w;
  const count = timesteps.length;
  const noisy = new Float32Array(count * size);
  const target = new Float32Array(count * size);
  for (let b = 0; b < count; b++) {
    const t = timesteps[b]!;
    const signal = schedule.sqrtAlphasCumprod[t]!;
    const sigma = schedule.sqrtOneMinusAlphasCumprod[t]!;
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        const from = b * size + ch * h * w + p;
        const to = b * size + p * c + ch;
        noisy[to] = signal * images[from]! + sigma * noise[from]!;
        target[to] = noise[from]!;
      }
    }
  }
  return { count, noisy, noise: target, timesteps };
}

/** What a loss and its gradients need: the model, not the optimiser. Also built by training workers. */
export interface LossContext {
  readonly arch: Architecture;
  readonly ops: TensorOps<tf.Tensor>;
  /** Parameter names in a fixed order (the spec's parameter layout). */
  readonly names: readonly string[];
  /** The trainable parameters (tfjs layouts). */
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly fill: FillStrategy<tf.Tensor>;
  readonly imageShape: readonly [number, number, number];
  /** A frozen teacher: the loss becomes the distillation loss (distillation.ts). */
  readonly teacher?: TeacherModel | undefined;
}

/** What every step shares. */
export interface StepContext extends LossContext {
  readonly state: ModelState;
  readonly ema: number;
  readonly gradClip: number | undefined;
  readonly adam: Required<AdamOptions>;
}

/** A `StepContext` over `state` (its names and parameters are the state's). */
export function stepContext(state: ModelState, rest: Omit<StepContext, 'state' | 'names' | 'params'>): StepContext {
  return { ...rest, state, names: state.names, params: state.params };
}

function gatherSamples(data: Float32Array, indices: readonly number[], size: number): Float32Array {
  const out = new Float32Array(indices.length * size);
  indices.forEach((index, i) => out.set(data.subarray(index * size, (index + 1) * size), i * size));
  return out;
}

/**
 * The loss of `batch` at depth `k` as a function of the parameters (for `tf.variableGrads`):
 * the sum of squared errors divided by `normalizer` · C·H·W. `normalizer` defaults to the batch's
 * own count (the mean); a shard of a larger batch passes the whole batch's count, so that the
 * shards' losses and gradients add up to the whole batch's. Must run inside a tidy.
 *
 * With `context.teacher`, the teacher's predictions are computed here, before the returned
 * function and so off the tape, and the function returns (1 − m) · distillation + m · ε-MSE; it
 * hands both terms, kept out of every tidy (the caller disposes them), to `onTerms`.
 */
export function lossFunction(
  context: LossContext,
  batch: NoisedBatch,
  k: number,
  dropoutSeed: number,
  normalizer: number = batch.count,
  onTerms?: (terms: LossTerms) => void,
): () => tf.Scalar {
  const { arch, ops, params, fill, imageShape, teacher } = context;
  const [c, h, w] = imageShape;
  const size = c * h * w;
  const blocks = createTfjsBlocks(arch, params, { training: true, dropoutSeed });
  const groups = stageGroups(arch, batch.timesteps);
  const inputs = groups.map(({ stage, indices }) => {
    const whole = groups.length === 1;
    const noisy = whole ? batch.noisy : gatherSamples(batch.noisy, indices, size);
    const noise = whole ? batch.noise : gatherSamples(batch.noise, indices, size);
    const timesteps = indices.map((i) => batch.timesteps[i]!);
    const x = tf.tensor4d(noisy, [indices.length, h, w, c]);
    return {
      stage,
      timesteps,
      x,
      target: tf.tensor4d(noise, [indices.length, h, w, c]),
      teacherTarget: teacher === undefined ? undefined : teacherPrediction(teacher, ops, x, timesteps),
    };
  });
  const sum = (terms: tf.Scalar[]): tf.Scalar => (terms.length === 1 ? terms[0]! : tf.addN(terms));
  return () => {
    const predictions = inputs.map(({ stage, timesteps, x }) =>
      runLevelSkippingUNet(arch, blocks, ops, x, { batch: timesteps.length, timesteps, k, fill, cache: undefined, stage }),
    );
    const epsSum = sum(predictions.map((prediction, i) => tf.sum(tf.squaredDifference(prediction, inputs[i]!.target))));
    if (teacher === undefined) return tf.div(epsSum, normalizer * size) as tf.Scalar;
    const distillationSum = sum(predictions.map((prediction, i) => tf.sum(tf.squaredDifference(prediction, inputs[i]!.teacherTarget!))));
    const distillation = tf.div(distillationSum, normalizer * size) as tf.Scalar;
    const eps = tf.div(epsSum, normalizer * size) as tf.Scalar;
    onTerms?.({ distillation: tf.keep(distillation), eps: tf.keep(eps) });
    // Both terms always, weights 1 − m and m: a weight of 0 contributes exact zeros to the loss
    // and the gradients (m = 1 is the plain loss bit for bit), and m is a constant of the run.
    return tf.add(tf.mul(distillation, 1 - teacher.mix), tf.mul(eps, teacher.mix));
  };
}

/** A loss and the gradients of the parameters it reaches, in `names` order. */
export interface BatchGradients {
  readonly loss: tf.Scalar;
  /** Parameters that got a gradient (those of skipped levels do not), in the context's order. */
  readonly names: string[];
  readonly grads: tf.Tensor[];
  /** With a teacher: the loss's two terms (the caller disposes them); undefined without one. */
  readonly terms: LossTerms | undefined;
}

/**
 * The loss of `batch` (see `lossFunction`, with its `normalizer`) and its gradients by reverse
 * mode. Runs in its own tidy: only the returned tensors outlive it, and the caller disposes them.
 */
export function computeGradients(context: LossContext, batch: NoisedBatch, k: number, dropoutSeed: number, normalizer?: number): BatchGradients {
  const variables = context.names.map((name) => context.params.get(name)!);
  const names: string[] = [];
  let terms: LossTerms | undefined;
  try {
    const { loss, grads } = tf.tidy(() => {
      const { value, grads: all } = tf.variableGrads(
        lossFunction(context, batch, k, dropoutSeed, normalizer, (kept) => (terms = kept)),
        variables,
      );
      const used: tf.Tensor[] = [];
      context.names.forEach((name, i) => {
        const grad = all[variables[i]!.name];
        if (grad != null) {
          names.push(name);
          used.push(grad);
        }
      });
      return { loss: value, grads: used };
    });
    return { loss, names, grads, terms };
  } catch (error) {
    // Kept tensors outlive the tidy even when it throws.
    const kept = terms as LossTerms | undefined;
    if (kept !== undefined) tf.dispose([kept.distillation, kept.eps]);
    throw error;
  }
}

/**
 * The optimiser's part of a step, given the gradients of the parameters `names` (in the
 * context's order): global-norm clipping, Adam at learning rate `lr` (parameters without a
 * gradient, i.e. of skipped levels, are left alone), then EMA of every parameter with decay
 * `emaDecay` (this step's, see `emaDecay` in ema.ts). Returns the
 * gradient norm before clipping (the caller disposes it); leaves `grads` alone.
 */
export function applyUpdate(context: StepContext, names: readonly string[], grads: readonly tf.Tensor[], lr: number, emaDecay: number): tf.Scalar {
  const { state } = context;
  return tf.tidy(() => {
    const { grads: clipped, norm } = clipByGlobalNorm(grads, context.gradClip);
    names.forEach((name, i) => adamUpdate(state.params.get(name)!, clipped[i]!, state.slots.get(name)!, lr, context.adam));
    for (const name of state.names) emaUpdate(state.ema.get(name)!, state.params.get(name)!, emaDecay);
    return norm;
  });
}

/**
 * One step on one thread: `computeGradients` then `applyUpdate`. Returns the loss, the
 * gradient norm before clipping and, with a teacher, the loss's terms (the caller disposes them);
 * nothing else outlives the call.
 */
export function trainingStep(
  context: StepContext,
  batch: NoisedBatch,
  k: number,
  dropoutSeed: number,
  lr: number,
  emaDecay: number,
): { loss: tf.Scalar; gradNorm: tf.Scalar; terms: LossTerms | undefined } {
  // The terms are kept tensors (see `lossFunction`), which no tidy disposes; they leave beside it.
  let terms: LossTerms | undefined;
  const { loss, gradNorm } = tf.tidy(() => {
    const gradients = computeGradients(context, batch, k, dropoutSeed);
    terms = gradients.terms;
    return { loss: gradients.loss, gradNorm: applyUpdate(context, gradients.names, gradients.grads, lr, emaDecay) };
  });
  return { loss, gradNorm, terms };
}
