/**
 * One call on TensorFlow.js (wasm engine) gives what the explicit path gives on the same engine,
 * with the cache fill (a run whose steps reuse deep features).
 */
import { cacheFillEvery, powerSchedule } from '@levelskip/core';
import { createTfjsBackend } from '@levelskip/backend-tfjs';
import { loadPretrained } from '@levelskip/pretrained';
import { ddim, sample } from '@levelskip/samplers';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../src/index.js';

describe('mnist-full on tfjs (wasm)', () => {
  it('one call equals loadPretrained + createTfjsBackend + createDenoiser + ddim + sample (≤ 1e-6)', async () => {
    await using pipe = await createPipeline({ model: 'mnist-full', backend: 'tfjs', backendOptions: { engine: 'wasm' } });
    expect(pipe.denoiser.backend).toBe('tfjs-wasm');
    const result = await pipe.generate({ count: 1, seed: 11, steps: 4, eta: 1, clip: true, schedule: { kind: 'power', c: 2 }, fill: 'cache:2' });

    const { spec, weights } = await loadPretrained('mnist-full');
    using backend = await createTfjsBackend({ engine: 'wasm' });
    using denoiser = await backend.createDenoiser(spec, weights);
    const explicit = await sample({ denoiser, sampler: ddim({ steps: 4, eta: 1, clipSample: true }), skip: powerSchedule({ c: 2 }), fill: cacheFillEvery(2), seed: 11 });
    expect(result.ks).toEqual(explicit.ks);
    let worst = 0;
    for (let i = 0; i < explicit.images.length; i++) worst = Math.max(worst, Math.abs(result.images[i]! - explicit.images[i]!));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});
