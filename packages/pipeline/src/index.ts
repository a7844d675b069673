/**
 * @levelskip/pipeline for Node: one call from a model to images. `createPipeline` takes a shipped
 * model's name, a checkpoint directory, a URL or `{ spec, weights }`, and a backend; `generate`
 * samples with the model's recommended settings unless told otherwise. Browsers get
 * `index-browser.ts` (no directories; shipped models from `baseUrl`).
 */
import { nodeEnvironment } from './environment/node-environment.js';
import { createPipelineIn, type CreatePipelineOptions, type Pipeline } from './pipeline/create-pipeline.js';

export * from './shared-exports.js';

/**
 * Loads a model, starts a backend and builds the denoiser: everything `generate` needs.
 *
 * @throws LevelskipError before anything is loaded: `INVALID_OPTION` naming the option for an
 *   unknown option or a value of the wrong kind. Then `CHECKPOINT_MISSING` for a name that is
 *   neither a shipped model (the message lists them) nor a directory, or a missing checkpoint;
 *   `CHECKPOINT_CORRUPT` for damaged files or a malformed recommendation in model.json;
 *   `BACKEND_UNAVAILABLE` naming the package to install when the backend's package (or its
 *   runtime) is missing; `ABORTED` when `signal` fires.
 *
 * @example
 * ```ts
 * await using pipe = await createPipeline({ model: 'mnist-full', backend: 'onnx' });
 * const result = await pipe.generate({ count: 16, seed: 0 });
 * const png = await result.toGridPNG();
 * ```
 */
export function createPipeline<T = unknown>(options: CreatePipelineOptions<T>): Promise<Pipeline<T>> {
  return createPipelineIn(nodeEnvironment, options);
}
