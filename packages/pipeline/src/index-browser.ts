/**
 * @levelskip/pipeline in browsers (the `browser` export condition): the Node entry's API without
 * checkpoint directories. Shipped models are fetched from where `@levelskip/pretrained`'s
 * `models/` directory is served (`baseUrl`), other checkpoints by URL; pass the backend as an
 * instance (`backend: await createOnnxBackend()`), so your bundler includes that backend.
 */
import { browserEnvironment } from './environment/browser-environment.js';
import { createPipelineIn, type CreatePipelineOptions, type Pipeline } from './pipeline/create-pipeline.js';

export * from './shared-exports.js';

/**
 * Loads a model, starts a backend and builds the denoiser (see the Node entry's `createPipeline`).
 *
 * @example
 * ```ts
 * import { createOnnxBackend } from '@levelskip/backend-onnx';
 * const pipe = await createPipeline({ model: 'mnist-full', baseUrl: '/models/', backend: await createOnnxBackend() });
 * const result = await pipe.generate({ count: 4 });
 * context.putImageData(result.toImageData(0), 0, 0);
 * ```
 */
export function createPipeline<T = unknown>(options: CreatePipelineOptions<T>): Promise<Pipeline<T>> {
  return createPipelineIn(browserEnvironment, options);
}
