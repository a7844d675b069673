/**
 * The reference backend: the float64 oracle every other backend is compared against.
 * It composes the plain-loop blocks of `createReferenceBlocks` with the generic
 * `runLevelSkippingUNet`, so it supports every fill (built-in and custom) but no training.
 */
import type { Backend, BackendCapabilities, DenoiserOptions } from '../../backend/backend.js';
import { specificationVersion, type DisposableDenoiser, type PredictOptions, type PrepareOptions } from '../../backend/denoiser.js';
import { prepareByPrediction } from '../../backend/prepare-denoiser.js';
import { resolveDenoiserInputs } from '../../backend/denoiser-inputs.js';
import type { NamedTensors } from '../../backend/tensor-ops.js';
import { runLevelSkippingUNet } from '../../composition/level-skipping-unet.js';
import { resolvePrediction } from '../../composition/predict-arguments.js';
import { disposedError, liveDenoisers } from '../../backend/live-denoisers.js';
import { FeatureCache } from '../../fills/feature-cache.js';
import type { Architecture } from '../../geometry/architecture.js';
import type { UNetSpec, UNetSpecInput } from '../../spec/unet-spec.js';
import { createReferenceBlocks } from './reference-blocks.js';
import { referenceOps } from './reference-ops.js';
import type { ReferenceTensor } from './reference-tensor.js';

const capabilities: BackendCapabilities = Object.freeze({
  fusedFills: Object.freeze([]),
  customFills: true,
  training: false,
  devices: Object.freeze(['cpu']),
});


/** `arch` is `describeArchitecture(spec)`, derived once by `resolveDenoiserInputs`. */
function createReferenceDenoiser(spec: UNetSpec, arch: Architecture, weights: NamedTensors, onDispose: () => void): DisposableDenoiser<ReferenceTensor> {
  const blocks = createReferenceBlocks(arch, weights);
  let disposed = false;
  const denoiser: DisposableDenoiser<ReferenceTensor> = {
    specificationVersion,
    spec,
    levels: arch.levels,
    architecture: arch,
    backend: 'reference',
    ops: referenceOps,
    predict(x: ReferenceTensor, timesteps: number | readonly number[], options?: PredictOptions<ReferenceTensor>): Promise<ReferenceTensor> {
      // An async body turns every throw into a rejected promise, as callers of predict expect.
      return (async () => {
        if (disposed) throw disposedError('denoiser', 'backend.createDenoiser(spec, weights)');
        const prediction = resolvePrediction(arch, referenceOps.shape(x), timesteps, options);
        return runLevelSkippingUNet(arch, blocks, referenceOps, x, prediction);
      })();
    },
    createFeatureCache: () => new FeatureCache(referenceOps),
    async prepare(options?: PrepareOptions<ReferenceTensor>): Promise<void> {
      if (disposed) throw disposedError('denoiser', 'backend.createDenoiser(spec, weights)');
      // Nothing is compiled; checking the options (and that each variant runs) is what is left.
      await prepareByPrediction(denoiser, arch.decoders.length, options);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      onDispose();
    },
    [Symbol.dispose]() {
      denoiser.dispose();
    },
  };
  return denoiser;
}

/**
 * Creates the float64 reference backend (name `reference`, CPU, every fill, no training).
 * Slow by design: use it on tiny specs to check other backends, not to sample.
 */
export function createReferenceBackend(): Backend<ReferenceTensor> {
  const live = liveDenoisers<DisposableDenoiser<ReferenceTensor>>('createReferenceBackend()');
  const backend: Backend<ReferenceTensor> = {
    specificationVersion,
    name: 'reference',
    capabilities,
    ops: referenceOps,
    createDenoiser(specInput: UNetSpec | UNetSpecInput, weights: NamedTensors, options: DenoiserOptions<ReferenceTensor> = {}) {
      return (async () => {
        live.assertOpen();
        // Parsing an already parsed spec is idempotent (defaults are already filled in).
        const { spec, architecture } = resolveDenoiserInputs(specInput, weights, options);
        return live.track((onDispose) => createReferenceDenoiser(spec, architecture, weights, onDispose));
      })();
    },
    // As the other backends: disposing the backend disposes the denoisers it made.
    dispose() {
      live.dispose();
    },
    [Symbol.dispose]() {
      backend.dispose();
    },
  };
  return backend;
}
