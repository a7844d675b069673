/**
 * The per-run store of deep features for the `cache` fill. One cache belongs to one sampling run
 * (create it at the start, dispose it at the end), so nothing leaks between runs.
 */
import type { TensorOps } from '../backend/tensor-ops.js';

export class FeatureCache<T> {
  readonly #ops: TensorOps<T>;
  readonly #entries = new Map<string, T>();

  constructor(ops: TensorOps<T>) {
    this.#ops = ops;
  }

  /** Deep features last computed as decoder level `level`'s input, for decoder `stage`. */
  get(stage: number, level: number): T | undefined {
    return this.#entries.get(`${stage}:${level}`);
  }

  has(stage: number, level: number): boolean {
    return this.#entries.has(`${stage}:${level}`);
  }

  /** Stores `value` (taking ownership) and disposes what it replaces. */
  set(stage: number, level: number, value: T): void {
    const key = `${stage}:${level}`;
    const previous = this.#entries.get(key);
    if (previous !== undefined && previous !== value) this.#ops.dispose(previous);
    this.#entries.set(key, value);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Releases every cached tensor. */
  dispose(): void {
    for (const value of this.#entries.values()) this.#ops.dispose(value);
    this.#entries.clear();
  }
}
