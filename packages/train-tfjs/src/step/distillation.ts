/**
 * Knowledge distillation from a frozen full-depth teacher (Hinton et al., "Distilling the
 * Knowledge in a Neural Network", 2015), for level-skipping U-Nets: the student at depth k
 * regresses the ε prediction of a teacher that runs the whole network (k = 0) on the same x_t and
 * t, optionally mixed with the ordinary ε-prediction loss (Ho et al. 2020):
 *
 *   L = (1 − m) · mean ‖ε_θ(x_t, t; k) − ε_T(x_t, t; 0)‖² + m · mean ‖ε_θ(x_t, t; k) − ε‖²
 *
 * with m = `teacher.mix` (0: pure distillation). The teacher is frozen: its parameters are plain
 * tensors (never `tf.Variable`s, so no gradient can reach them), uploaded once per run (once per
 * worker thread), run in inference mode (no dropout) and outside the gradient tape.
 */
import * as tf from '@tensorflow/tfjs';
import {
  describeArchitecture,
  parameterLayout,
  runLevelSkippingUNet,
  zeroFill,
  type Architecture,
  type NamedTensors,
  type TensorOps,
  type UNetBlocks,
  type UNetSpec,
} from '@levelskip/core';
import { loadParameters, createTfjsBlocks } from '@levelskip/backend-tfjs';
import { stageGroups } from './stage-groups.js';
import { packTensors, sizeOfShape, unpackTensors } from '../parallel/worker-protocol.js';

/** A teacher on the engine: its parameters, blocks and the mix of the loss. */
export interface TeacherModel {
  readonly arch: Architecture;
  /** Parameter names in the teacher spec's layout order. */
  readonly names: readonly string[];
  /** tfjs layouts; plain tensors, so nothing of the teacher is ever trained. */
  readonly params: ReadonlyMap<string, tf.Tensor>;
  /** Inference-mode blocks over `params`, built once. */
  readonly blocks: UNetBlocks<tf.Tensor>;
  /** Weight m of the ordinary ε loss, in [0, 1]. */
  readonly mix: number;
}

/** A teacher as a worker thread gets it, once, in its `init` message (tfjs layouts). */
export interface TeacherInit {
  readonly spec: UNetSpec;
  /** Every parameter, in the spec's layout order. */
  readonly names: readonly string[];
  /** Each parameter's tfjs-layout shape, in `names` order. */
  readonly shapes: readonly (readonly number[])[];
  /** Every parameter's value, in `names` order. */
  readonly params: Float32Array;
  readonly mix: number;
}

/** The two terms of a distillation loss (each over the same normalizer as the loss). */
export interface LossTerms {
  /** mean ‖ε_θ − ε_T‖². */
  readonly distillation: tf.Scalar;
  /** mean ‖ε_θ − ε‖², the ordinary loss. */
  readonly eps: tf.Scalar;
}

function teacherModel(spec: UNetSpec, params: Map<string, tf.Tensor>, mix: number): TeacherModel {
  const arch = describeArchitecture(spec);
  const names = parameterLayout(spec).map((entry) => entry.name);
  return { arch, names, params, blocks: createTfjsBlocks(arch, params), mix };
}

/**
 * Uploads a teacher (weights in PyTorch layouts, checked against `spec` by `planTraining`).
 * The caller disposes it with `disposeTeacher`.
 */
export function createTeacher(spec: UNetSpec, weights: NamedTensors, mix: number): TeacherModel {
  return teacherModel(spec, loadParameters(weights), mix);
}

/** The teacher as a worker's `init` message carries it. */
export function packTeacher(teacher: TeacherModel): TeacherInit {
  const shapes = teacher.names.map((name) => teacher.params.get(name)!.shape);
  const sizes = new Map(teacher.names.map((name, i) => [name, sizeOfShape(shapes[i]!)]));
  const { data } = packTensors(teacher.names, sizes, (name) => teacher.params.get(name)!.dataSync() as Float32Array);
  return { spec: teacher.arch.spec, names: teacher.names, shapes, params: data, mix: teacher.mix };
}

/** Uploads the teacher of a worker's `init` message. The caller disposes it with `disposeTeacher`. */
export function unpackTeacher(init: TeacherInit): TeacherModel {
  const sizes = new Map(init.names.map((name, i) => [name, sizeOfShape(init.shapes[i]!)]));
  const shapes = new Map(init.names.map((name, i) => [name, init.shapes[i]!]));
  const params = new Map<string, tf.Tensor>();
  unpackTensors({ names: init.names, data: init.params }, sizes, (name, values) => params.set(name, tf.tensor(values, [...shapes.get(name)!])));
  return teacherModel(init.spec, params, init.mix);
}

/** Disposes the teacher's tensors. */
export function disposeTeacher(teacher: TeacherModel): void {
  tf.dispose([...teacher.params.values()]);
}

/**
 * ε_T(x, t; k = 0): the teacher's full-depth prediction of NHWC `x` at integer `timesteps`, in its
 * own tidy and outside any gradient tape the caller may be recording (call it before
 * `tf.variableGrads`' function, not inside). A multi-decoder teacher's samples are run by
 * decoder stage and put back in batch order. The caller owns the result.
 */
export function teacherPrediction(teacher: TeacherModel, ops: TensorOps<tf.Tensor>, x: tf.Tensor4D, timesteps: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const run = (input: tf.Tensor, ts: readonly number[], stage: number): tf.Tensor =>
      runLevelSkippingUNet(teacher.arch, teacher.blocks, ops, input, { batch: ts.length, timesteps: ts, k: 0, fill: zeroFill, cache: undefined, stage });
    const groups = stageGroups(teacher.arch, timesteps);
    if (groups.length === 1) return run(x, timesteps, groups[0]!.stage);
    const parts = groups.map(({ stage, indices }) => run(tf.gather(x, indices), indices.map((i) => timesteps[i]!), stage));
    // Row j of the concatenation is sample order[j]; gathering by the inverse permutation restores batch order.
    const order = groups.flatMap(({ indices }) => indices);
    const inverse = new Array<number>(order.length);
    order.forEach((sample, row) => (inverse[sample] = row));
    return tf.gather(tf.concat(parts, 0), inverse);
  });
}
