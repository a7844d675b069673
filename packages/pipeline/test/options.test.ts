/**
 * Settings and option errors, on core's float64 reference backend with a tiny random model (fast,
 * no runtime): recommended settings are used when nothing is given and explicit options win;
 * results equal the explicit `sample()` path; every bad option fails before any step, naming it.
 */
import { LevelskipError, cacheFillEvery, constantSchedule, customFill, deepCache, linearBetaSchedule, meanFill, parseUNetSpec, powerSchedule, zeroFill, type RecommendedSampling } from '@levelskip/core';
import { createReferenceBackend, fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { ddim, ddpm, sample } from '@levelskip/samplers';
import { describe, expect, it } from 'vitest';
import { createPipeline, type PipelineProgress } from '../src/index.js';
import { createPipelineIn } from '../src/pipeline/create-pipeline.js';
import { nodeEnvironment } from '../src/environment/node-environment.js';

const spec = parseUNetSpec(tinySpecs.resnet);
const weights = fixtureWeights(spec, 3);
const recommended: RecommendedSampling = { sampler: 'ddim', steps: 6, eta: 1, clip: true, schedule: { kind: 'power', c: 2 }, fill: 'cache:2', note: 'measured by hand' };

function pipeline(sampling?: RecommendedSampling, training?: Record<string, unknown>) {
  return createPipeline({ model: { spec, weights, ...(sampling === undefined ? {} : { sampling }), ...(training === undefined ? {} : { training }), name: 'tiny' }, backend: createReferenceBackend() });
}

async function rejection(promise: Promise<unknown>): Promise<LevelskipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(LevelskipError.is(error), `expected a LevelskipError, got ${String(error)}`).toBe(true);
  return error as LevelskipError;
}

describe('settings', () => {
  it('uses the model recommendation when nothing is given, and equals the explicit sample() call', async () => {
    using pipe = await pipeline(recommended);
    expect(pipe.model).toMatchObject({ source: 'object', name: 'tiny', recommended });
    expect(pipe.settings).toMatchObject({
      sampler: 'ddim',
      steps: 6,
      eta: 1,
      clip: true,
      fill: 'cache:2',
      note: 'measured by hand',
      origin: { sampler: 'recommended', steps: 'recommended', eta: 'recommended', clip: 'recommended', schedule: 'recommended', fill: 'recommended' },
    });
    expect(JSON.parse(JSON.stringify(pipe.settings.schedule))).toEqual({ kind: 'power', c: 2 });
    expect(pipe.settings.description).toBe('ddim, 6 steps, η = 1, clip, schedule power(c=2), fill cache:2');
    const result = await pipe.generate({ count: 2, seed: 4 });
    expect(result.settings).toMatchObject({ ...pipe.settings, count: 2, batch: 2, seed: 4 });
    const explicit = await sample({ denoiser: pipe.denoiser, sampler: ddim({ steps: 6, eta: 1, clipSample: true }), skip: powerSchedule({ c: 2 }), fill: cacheFillEvery(2), batch: 2, seed: 4 });
    expect(result.images).toEqual(explicit.images);
    expect(result.ks).toEqual(explicit.ks);
    expect(result.shape).toEqual([2, 2, 8, 8]);
  });

  it('explicit options win; another sampler keeps only the recommended schedule and fill; they come as a pair', async () => {
    using pipe = await pipeline(recommended);
    const overridden = await pipe.generate({ steps: 3, eta: 0, fill: 'zero', schedule: { kind: 'constant', k: 1 }, seed: 1 });
    expect(overridden.settings).toMatchObject({ steps: 3, eta: 0, clip: true, fill: 'zero', origin: { steps: 'option', eta: 'option', clip: 'recommended', fill: 'option', schedule: 'option' } });
    expect(overridden.ks).toEqual([1, 1, 1]);
    const other = await pipe.generate({ sampler: 'ddpm', steps: 4 });
    expect(other.settings).toMatchObject({ sampler: 'ddpm', steps: 4, eta: undefined, clip: false, fill: 'cache:2', origin: { sampler: 'option', clip: 'default', schedule: 'recommended', fill: 'recommended' } });
    expect(other.settings.description).toBe('ddpm, 4 steps, no clip, schedule power(c=2), fill cache:2');
    const explicit = await sample({ denoiser: pipe.denoiser, sampler: ddpm({ steps: 4 }), skip: powerSchedule({ c: 2 }), fill: cacheFillEvery(2), seed: 0 });
    expect(other.images).toEqual(explicit.images);
    // deepCache's pair, by name.
    const { skip, fill } = deepCache({ interval: 2 });
    const cached = await pipe.generate({ steps: 4, schedule: skip, fill });
    expect(cached.settings.fill).toBe('cache:2');
    expect(cached.ks).toEqual([0, 2, 0, 2]);
    // A call that sets the fill alone does not get the recommended schedule (the CLI's rule).
    const fillOnly = await pipe.generate({ steps: 2, fill: 'duplicate' });
    expect(fillOnly.settings).toMatchObject({ fill: 'duplicate', origin: { fill: 'option', schedule: 'default' } });
    expect(fillOnly.settings.schedule.description).toBe('power(c=0)');
  });

  it('takes every built-in fill of core\'s registry by name: mean runs as the fill object does', async () => {
    using pipe = await pipeline();
    const byName = await pipe.generate({ steps: 3, schedule: constantSchedule(2), fill: 'mean', seed: 5 });
    expect(byName.settings).toMatchObject({ fill: 'mean', origin: { fill: 'option' } });
    const byObject = await sample({ denoiser: pipe.denoiser, sampler: ddim({ steps: 3 }), skip: constantSchedule(2), fill: meanFill, seed: 5 });
    expect(byName.images).toEqual(byObject.images);
    const zero = await pipe.generate({ steps: 3, schedule: constantSchedule(2), fill: 'zero', seed: 5 });
    expect(byName.images).not.toEqual(zero.images);
  });

  it('takes a custom fill written against core ops, and a schedule object', async () => {
    using pipe = await pipeline();
    const zeros = customFill('zeros', (context, ops) => ops.zeros(context.shape));
    const custom = await pipe.generate({ steps: 3, schedule: constantSchedule(2), fill: zeros, seed: 5 });
    const builtin = await pipe.generate({ steps: 3, schedule: { kind: 'constant', k: 2 }, fill: 'zero', seed: 5 });
    expect(custom.settings).toMatchObject({ fill: 'custom:zeros', origin: { fill: 'option', schedule: 'option' } });
    expect(custom.ks).toEqual([2, 2, 2]);
    expect(custom.images).toEqual(builtin.images);
  });

  it("without a recommendation: the trained-for schedule and fill, else the CLI's defaults", async () => {
    using plain = await pipeline();
    expect(plain.settings).toMatchObject({ sampler: 'ddim', steps: 50, eta: 0, clip: false, fill: 'zero', note: undefined });
    expect(plain.settings.schedule.description).toBe('power(c=0)');
    expect(plain.settings.origin).toEqual({ sampler: 'default', steps: 'default', eta: 'default', clip: 'default', schedule: 'default', fill: 'default' });
    using trained = await pipeline(undefined, { schedule: { kind: 'power', c: 3 }, fill: 'duplicate' });
    expect(trained.settings).toMatchObject({ fill: 'duplicate', origin: { schedule: 'model', fill: 'model' } });
    expect(trained.settings.schedule.description).toBe('power(c=3)');
  });

  it('batches: batch b uses seed + b, as the CLI does', async () => {
    using pipe = await pipeline({ sampler: 'ddim', steps: 2 });
    const result = await pipe.generate({ count: 3, batch: 2, seed: 10 });
    expect(result.settings).toMatchObject({ count: 3, batch: 2, seed: 10 });
    const first = await sample({ denoiser: pipe.denoiser, sampler: ddim({ steps: 2 }), batch: 2, seed: 10 });
    const second = await sample({ denoiser: pipe.denoiser, sampler: ddim({ steps: 2 }), batch: 1, seed: 11 });
    expect(result.images).toEqual(Float32Array.from([...first.images, ...second.images]));
  });

  it('reports prepare (once per variant) and sample progress; prepares before the first step', async () => {
    using pipe = await pipeline({ sampler: 'ddim', steps: 3, schedule: { kind: 'power', c: 2 } });
    const events: PipelineProgress[] = [];
    const first = await pipe.generate({ count: 2, onProgress: (p) => events.push(p) });
    const phases = events.map((e) => e.phase);
    expect(phases.indexOf('sample')).toBeGreaterThan(phases.lastIndexOf('prepare'));
    const prepared = events.filter((e) => e.phase === 'prepare');
    expect(new Set(prepared.map((e) => e.what))).toEqual(new Set([...new Set(first.ks)].map((k) => (k === 0 ? 'k=0 stage=0' : `k=${k} fill=zero stage=0`))));
    expect(events.filter((e) => e.phase === 'sample').map((e) => [e.done, e.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(first.timing.prepareMs).toBeGreaterThan(0);
    const again: PipelineProgress[] = [];
    const second = await pipe.generate({ count: 2, onProgress: (p) => again.push(p) });
    expect(again.some((e) => e.phase === 'prepare')).toBe(false);
    expect(second.timing.prepareMs).toBe(0);
  });
});

describe('errors name the option', () => {
  it('createPipeline: unknown model names list the shipped ones; bad backend and options', async () => {
    const unknown = await rejection(createPipeline({ model: 'mnist-ful' }));
    expect(unknown.code).toBe('CHECKPOINT_MISSING');
    expect(unknown.message).toMatch(/model "mnist-ful" is not a shipped model \(.*mnist-full.*\)/);
    expect(unknown.issues[0]?.path).toEqual(['model']);
    expect((await rejection(createPipeline({ model: './no/such/dir' }))).code).toBe('CHECKPOINT_MISSING');
    expect((await rejection(createPipeline({ model: 42 as never }))).message).toMatch(/createPipeline: model must be a shipped model name/);
    expect((await rejection(createPipeline({ model: { spec, weights: {} as never } }))).message).toMatch(/model\.weights must be a Map/);
    expect((await rejection(createPipeline({ model: { spec: { imageSize: 7 } as never, weights } }))).code).toBe('INVALID_SPEC');
    expect((await rejection(createPipeline({ model: 'mnist-full', backend: 'torch' as never }))).message).toMatch(/backend must be 'onnx' or 'tfjs' or a backend instance, got "torch"/);
    expect((await rejection(createPipeline({ model: 'mnist-full', backnd: 'onnx' } as never))).message).toMatch(/backnd is not an option of createPipeline \(allowed: model, backend/);
    expect((await rejection(createPipeline({ model: { spec, weights }, backend: createReferenceBackend(), backendOptions: { engine: 'wasm' } }))).message).toMatch(/backendOptions applies when backend is a name/);
    const badRecommendation = await rejection(pipeline({ ...recommended, schedule: { kind: 'power', c: -1 } }));
    expect(badRecommendation.message).toMatch(/model: sampling\.schedule is not a valid skip schedule/);
    const unfit = await rejection(pipeline({ sampler: 'langevin', steps: 15 }));
    expect(unfit.message).toMatch(/createPipeline: model: the recommended sampling settings do not fit the model \(generate: steps must be a multiple of the 10 noise levels/);
  });

  it('a backend package that is not installed: BACKEND_UNAVAILABLE naming the package', async () => {
    const missing = Object.assign(new Error("Cannot find package '@levelskip/backend-tfjs'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const environment = { ...nodeEnvironment, importModule: () => Promise.reject(missing) };
    const error = await rejection(createPipelineIn(environment, { model: { spec, weights }, backend: 'tfjs' }));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(/backend 'tfjs' needs the package @levelskip\/backend-tfjs, which is not installed\. Install it .*npm i @levelskip\/backend-tfjs/);
    expect(error.cause).toBe(missing);
  });

  it('generate: count, steps, sampler, fill, schedule, seed, batch, eta, unknown keys', async () => {
    using pipe = await pipeline(recommended);
    const cases: [Parameters<typeof pipe.generate>[0], string, RegExp][] = [
      [{ count: 0 }, 'INVALID_OPTION', /generate: count must be an integer in \[1, 1000000\].*got 0/],
      [{ count: 1.5 }, 'INVALID_OPTION', /count must be an integer/],
      [{ steps: 0 }, 'INVALID_OPTION', /generate: steps must be an integer in \[1, 1000\] \(T = 1000/],
      [{ steps: 1001 }, 'INVALID_OPTION', /steps must be an integer in \[1, 1000\]/],
      [{ sampler: 'euler' as never }, 'INVALID_OPTION', /generate: sampler must be one of 'ddim', 'ddpm', 'langevin', 'dpm-solver', got "euler"/],
      [{ fill: 'blur' }, 'INVALID_FILL', /generate: fill "blur" is not a fill: use zero, duplicate, interpolate, cache, cache:m or mean \(m ≥ 1\)/],
      [{ fill: 'interpolate' }, 'INVALID_FILL', /fill interpolate: .*side paths/],
      [{ schedule: { kind: 'power', c: -2 } as never }, 'INVALID_SCHEDULE', /generate: schedule is not a valid skip schedule/],
      [{ schedule: { kind: 'constant', k: 5 } }, 'INVALID_SCHEDULE', /generate: schedule constant\(k=5\) cannot serve this 3-level model/],
      [{ seed: -1 }, 'INVALID_OPTION', /generate: seed must be a non-negative/],
      [{ batch: 0 }, 'INVALID_OPTION', /generate: batch must be an integer/],
      [{ sampler: 'ddpm', eta: 1 }, 'INVALID_OPTION', /generate: eta applies to sampler 'ddim' only \(this run uses 'ddpm'\)/],
      [{ sampler: 'dpm-solver', clip: true }, 'INVALID_OPTION', /clip applies to samplers 'ddim' and 'ddpm' only/],
      [{ sampler: 'langevin', steps: 15, noiseLevels: 10 }, 'INVALID_OPTION', /steps must be a multiple of the 10 noise levels/],
      [{ eta: 2 }, 'INVALID_OPTION', /eta must be a number in \[0, 1\], got 2/],
      [{ stps: 3 } as never, 'INVALID_OPTION', /stps is not an option of generate \(allowed: count, seed/],
    ];
    for (const [options, code, message] of cases) {
      const error = await rejection(pipe.generate(options));
      expect(error.code, JSON.stringify(options)).toBe(code);
      expect(error.message, JSON.stringify(options)).toMatch(message);
    }
  });

  it('abort: before the run and between steps, ABORTED', async () => {
    using pipe = await pipeline({ sampler: 'ddim', steps: 5 });
    const before = new AbortController();
    before.abort();
    expect((await rejection(pipe.generate({ signal: before.signal }))).code).toBe('ABORTED');
    const during = new AbortController();
    const error = await rejection(pipe.generate({ signal: during.signal, onProgress: (p) => p.phase === 'sample' && p.done === 2 && during.abort() }));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toMatch(/after step 2 of 5/);
    const cancelled = new AbortController();
    cancelled.abort();
    expect((await rejection(createPipeline({ model: { spec, weights }, backend: createReferenceBackend(), signal: cancelled.signal }))).code).toBe('ABORTED');
    // Still usable afterwards.
    expect((await pipe.generate({ steps: 1 })).count).toBe(1);
  });
});

describe('dispose', () => {
  it('using disposes the denoiser; a backend passed in stays usable, one the pipeline made is disposed', async () => {
    const backend = createReferenceBackend();
    let kept;
    {
      using pipe = await createPipeline({ model: { spec, weights }, backend });
      kept = pipe;
      expect(pipe.backend).toBe(backend);
    }
    expect((await rejection(kept.generate())).code).toBe('DISPOSED');
    await expect(backend.createDenoiser(spec, weights)).resolves.toBeDefined();
    kept.dispose();
  });

  it('await using waits for running calls; calls after dispose reject with DISPOSED', async () => {
    let running: Promise<unknown> | undefined;
    let pipe;
    {
      await using scoped = await pipeline({ sampler: 'ddim', steps: 2 });
      pipe = scoped;
      running = scoped.generate({ count: 1 });
    }
    await expect(running).resolves.toMatchObject({ count: 1 });
    expect((await rejection(pipe.generate())).code).toBe('DISPOSED');
    expect((await rejection(pipe.prepare())).code).toBe('DISPOSED');
  });

  it('noise schedules recorded in training are used', async () => {
    using pipe = await pipeline({ sampler: 'ddim', steps: 2 }, { noiseSchedule: { kind: 'linear', betaStart: 0.001, betaEnd: 0.01 } });
    const result = await pipe.generate({ seed: 2 });
    const explicit = await sample({ denoiser: pipe.denoiser, sampler: ddim({ steps: 2, noiseSchedule: linearBetaSchedule({ betaStart: 0.001, betaEnd: 0.01 }) }), fill: zeroFill, seed: 2 });
    expect(result.images).toEqual(explicit.images);
  });
});
