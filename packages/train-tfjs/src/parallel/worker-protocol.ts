/**
 * Messages between `train()`'s main thread and its training worker threads (data-parallel
 * training, see data-parallel-step.ts), and the packing of many tensors into one transferable
 * Float32Array.
 *
 * Tensors cross as one Float32Array per message: the values of `names`, in that order, each in
 * its tfjs layout and of the size its shape (known to both sides from `init`) gives. One buffer
 * per message can be transferred (moved, not copied) with `postMessage(message, [buffer])`.
 */
import type { BuiltinFill, UNetSpec } from '@levelskip/core';
import type { TfjsEngine } from '@levelskip/backend-tfjs';
import type { TeacherInit } from '../step/distillation.js';

/** The values of `names`, concatenated in that order (tfjs layouts). */
export interface PackedTensors {
  readonly names: readonly string[];
  readonly data: Float32Array;
}

/** What every worker starts with: engine, model, initial parameters and the teacher, if any. */
export interface WorkerInit {
  readonly engine: TfjsEngine;
  readonly spec: UNetSpec;
  readonly fill: BuiltinFill;
  /** Every parameter, in the spec's layout order. */
  readonly names: readonly string[];
  /** Each parameter's tfjs-layout shape, in `names` order. */
  readonly shapes: readonly (readonly number[])[];
  /** Every parameter's initial value, in `names` order; copied to each worker. */
  readonly params: Float32Array;
  /** The frozen teacher of a distillation run, sent once at start and never per step. */
  readonly teacher?: TeacherInit | undefined;
}

/** Starts the worker (`WorkerInit`'s fields). Answered by `ready`. */
export type InitMessage = { readonly type: 'init' } & WorkerInit;

/** New values of some parameters (those the last update changed). Not answered. */
export interface ParamsMessage {
  readonly type: 'params';
  readonly params: PackedTensors;
}

/** Computes the loss and gradients of one shard. Answered by `gradients` with the same id. */
export interface StepMessage {
  readonly type: 'step';
  readonly id: number;
  readonly count: number;
  /** x_t, NHWC. */
  readonly noisy: Float32Array;
  /** ε, NHWC. */
  readonly noise: Float32Array;
  readonly timesteps: readonly number[];
  readonly k: number;
  readonly dropoutSeed: number;
  /** The whole batch's count: the loss is the shard's squared errors / (normalizer · C·H·W). */
  readonly normalizer: number;
}

export type ToWorker = InitMessage | ParamsMessage | StepMessage;

export interface ReadyMessage {
  readonly type: 'ready';
}

export interface GradientsMessage {
  readonly type: 'gradients';
  readonly id: number;
  readonly loss: number;
  /** With a teacher: the shard's shares of the loss's two terms (see `LossTerms`). */
  readonly terms: { readonly distillation: number; readonly eps: number } | undefined;
  /** Gradients of the parameters the shard reached (in layout order). */
  readonly grads: PackedTensors;
}

/** Anything that went wrong in the worker; the worker is unusable afterwards. */
export interface ErrorMessage {
  readonly type: 'error';
  /** A LevelskipError's code, when the error was one. */
  readonly code: string | undefined;
  readonly message: string;
  readonly stack: string | undefined;
}

export type FromWorker = ReadyMessage | GradientsMessage | ErrorMessage;

/** Number of values of a tensor of `shape`. */
export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Packs the values `read(name)` of `names` (sizes from `sizes`) into one new Float32Array. */
export function packTensors(names: readonly string[], sizes: ReadonlyMap<string, number>, read: (name: string) => ArrayLike<number>): PackedTensors {
  let total = 0;
  for (const name of names) total += sizes.get(name)!;
  const data = new Float32Array(total);
  let offset = 0;
  for (const name of names) {
    const values = read(name);
    if (values.length !== sizes.get(name)) throw new Error(`packTensors: ${name} has ${values.length} values, expected ${sizes.get(name)!}`);
    data.set(values, offset);
    offset += values.length;
  }
  return { names, data };
}

/** Calls `use(name, values)` for every tensor of `packed` (values are views into its buffer). */
export function unpackTensors(packed: PackedTensors, sizes: ReadonlyMap<string, number>, use: (name: string, values: Float32Array) => void): void {
  let offset = 0;
  for (const name of packed.names) {
    const size = sizes.get(name);
    if (size === undefined) throw new Error(`unpackTensors: unknown tensor ${name}`);
    use(name, packed.data.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== packed.data.length) throw new Error(`unpackTensors: ${packed.data.length} values for tensors of ${offset}`);
}
