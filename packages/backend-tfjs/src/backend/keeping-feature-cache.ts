/**
 * A view of the caller's `FeatureCache` for use inside `tf.tidy`: a prediction runs in one tidy
 * scope (so that nothing leaks even when a custom fill throws), but the deep features it stores
 * must outlive that scope; `set` marks them with `tf.keep` before handing them over.
 */
import * as tf from '@tensorflow/tfjs';
import { FeatureCache, type TensorOps } from '@levelskip/core';

export class KeepingFeatureCache extends FeatureCache<tf.Tensor> {
  readonly #target: FeatureCache<tf.Tensor>;

  constructor(target: FeatureCache<tf.Tensor>, ops: TensorOps<tf.Tensor>) {
    super(ops);
    this.#target = target;
  }

  override get(stage: number, level: number): tf.Tensor | undefined {
    return this.#target.get(stage, level);
  }

  override has(stage: number, level: number): boolean {
    return this.#target.has(stage, level);
  }

  override set(stage: number, level: number, value: tf.Tensor): void {
    this.#target.set(stage, level, tf.keep(value));
  }

  override get size(): number {
    return this.#target.size;
  }

  /** The run does not own the cache: disposing is left to the caller. */
  override dispose(): void {}
}
