/**
 * A backend whose model predicts ε̂ = 0.1·x on the host, for in-process runs of `sample`, `eval` and
 * `demo` that check what the commands do around sampling (settings, preparation, progress): the
 * samplers and the PNG grid run for real, in milliseconds. It records every `prepare` and `predict`
 * call in `fakeBackendCalls`.
 */
import { FeatureCache, parseUNetSpec, specificationVersion, type PrepareOptions, type UNetSpecInput } from '@levelskip/core';
import { referenceOps } from '@levelskip/core/testing';

type HostTensor = Parameters<typeof referenceOps.scale>[0];

export interface FakeBackendCall {
  readonly kind: 'prepare' | 'predict';
  /** Which denoiser (in creation order). */
  readonly denoiser: number;
  readonly ks?: readonly number[];
  readonly fills?: readonly string[];
  readonly batch?: number;
  readonly k?: number;
}

export const fakeBackendCalls: FakeBackendCall[] = [];

export function createFakeBackend() {
  let created = 0;
  return {
    specificationVersion,
    name: 'fake',
    capabilities: { fusedFills: [], customFills: true, training: false, devices: ['host'] },
    ops: referenceOps,
    createDenoiser: async (specInput: UNetSpecInput) => {
      const spec = parseUNetSpec(specInput);
      const denoiser = created++;
      return {
        specificationVersion,
        spec,
        levels: spec.channelMults.length,
        backend: 'fake',
        ops: referenceOps,
        predict: async (x: HostTensor, _t: unknown, options?: { k?: number }) => {
          fakeBackendCalls.push({ kind: 'predict', denoiser, k: options?.k ?? 0, batch: referenceOps.shape(x)[0]! });
          return referenceOps.scale(x, 0.1);
        },
        prepare: async (options: PrepareOptions<HostTensor> = {}) => {
          fakeBackendCalls.push({
            kind: 'prepare',
            denoiser,
            ks: options.ks ?? [],
            fills: (options.fills ?? []).map((f) => (f.kind === 'cache' ? `cache:${f.interval}` : f.kind)),
            ...(options.batch === undefined ? {} : { batch: options.batch }),
          });
          const total = options.ks?.length ?? 1;
          for (let done = 1; done <= total; done++) options.onProgress?.({ done, total, what: `k=${options.ks?.[done - 1] ?? 0}` });
        },
        createFeatureCache: () => new FeatureCache(referenceOps),
        dispose: () => undefined,
        [Symbol.dispose]: () => undefined,
      };
    },
    dispose: () => undefined,
    [Symbol.dispose]: () => undefined,
  };
}
