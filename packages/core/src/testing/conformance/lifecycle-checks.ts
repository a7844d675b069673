/**
 * Determinism and resource conformance: identical calls give bitwise-identical results, predict
 * leaves its input alone, and (when the backend reports its live tensors) nothing leaks across
 * predictions, feature caches or denoiser lifetimes; a disposed denoiser or backend refuses to be
 * used with `LevelskipError('DISPOSED')`, the one code every backend uses for use after dispose.
 */
import type { Denoiser } from '../../backend/denoiser.js';
import { fixtureInput } from '../fixtures.js';
import {
  fillCases,
  fixture,
  predictAndDispose,
  predictOnSubject,
  predictOptions,
  stageTimesteps,
  statelessFills,
  type FillCase,
  type SuiteContext,
} from './context.js';
import { assertIdentical, assertLevelskipError, fail, runCheck, skipCheck, type ConformanceCheck } from './report.js';

/** The fixture the lifecycle checks use: it supports every fill. */
const lifecycleFixture = 'sidePaths' as const;

async function withDenoiser<T, R>(ctx: SuiteContext<T>, body: (denoiser: Denoiser<T>) => Promise<R>): Promise<R> {
  const f = fixture(lifecycleFixture);
  const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
  try {
    return await body(denoiser);
  } finally {
    denoiser.dispose();
  }
}

/** The determinism checks. */
export async function determinismChecks<T>(ctx: SuiteContext<T>): Promise<ConformanceCheck[]> {
  const f = fixture(lifecycleFixture);
  const batch = ctx.options.batch;
  const input = fixtureInput(f.spec, batch, 61);
  const timesteps = stageTimesteps(f, 0, batch, 2);
  const N = f.arch.levels;
  const cases: { k: number; fill: FillCase | undefined }[] = [{ k: 0, fill: undefined }];
  for (const fill of statelessFills(f, ctx.options.features.customFills)) cases.push({ k: fill === fillCases.zero ? N - 1 : 1, fill });
  const checks: ConformanceCheck[] = [];
  await withDenoiser(ctx, async (denoiser) => {
    for (const { k, fill } of cases) {
      checks.push(
        await runCheck(`determinism: same call twice, k=${k} fill=${fill?.label ?? 'default'}`, async () => {
          const first = await predictOnSubject(denoiser, input, timesteps, predictOptions(k, fill));
          const second = await predictOnSubject(denoiser, input, timesteps, predictOptions(k, fill));
          assertIdentical('second result', second.data, first.data);
        }),
      );
    }
    checks.push(
      await runCheck('determinism: predict leaves x unchanged', async () => {
        const ops = denoiser.ops;
        const x = ops.fromFloat32(input.data, input.shape);
        try {
          await predictAndDispose(denoiser, x, timesteps, predictOptions(1, fillCases.duplicate));
          assertIdentical('x after predict', await ops.toFloat32(x), input.data);
        } finally {
          ops.dispose(x);
        }
      }),
    );
    checks.push(
      await runCheck('determinism: two denoisers built from the same weights agree', async () => {
        const first = await predictOnSubject(denoiser, input, timesteps, predictOptions(1, fillCases.zero));
        const second = await withDenoiser(ctx, (other) => predictOnSubject(other, input, timesteps, predictOptions(1, fillCases.zero)));
        assertIdentical('second denoiser', second.data, first.data);
      }),
    );
  });
  return checks;
}

async function leakOverPredictions<T>(ctx: SuiteContext<T>, live: () => number): Promise<string> {
  const f = fixture(lifecycleFixture);
  const batch = ctx.options.batch;
  const N = f.arch.levels;
  const fills: FillCase[] = [...statelessFills(f, ctx.options.features.customFills), fillCases.cache];
  const combos: { k: number; fill: FillCase }[] = [];
  for (let k = 0; k < N; k++) for (const fill of fills) combos.push({ k, fill });
  return withDenoiser(ctx, async (denoiser) => {
    const ops = denoiser.ops;
    const input = fixtureInput(f.spec, batch, 71);
    const x = ops.fromFloat32(input.data, input.shape);
    try {
      const runAll = async (count: number): Promise<void> => {
        const cache = denoiser.createFeatureCache();
        try {
          for (let i = 0; i < count; i++) {
            const { k, fill } = combos[i % combos.length]!;
            await predictAndDispose(denoiser, x, stageTimesteps(f, 0, batch, i), predictOptions(k, fill, cache));
          }
        } finally {
          cache.dispose();
        }
      };
      // A first pass lets the backend build whatever it builds lazily (graphs, kernels, constants) per k and fill.
      await runAll(combos.length);
      const before = live();
      await runAll(50);
      const after = live();
      if (after > before) fail(`${after - before} more live tensors after 50 predictions (${before} → ${after}) with every result disposed`);
      return `${before} live tensors before and ${after} after 50 predictions`;
    } finally {
      ops.dispose(x);
    }
  });
}

async function leakOverDenoiser<T>(ctx: SuiteContext<T>, live: () => number): Promise<void> {
  const f = fixture(lifecycleFixture);
  const before = live();
  await withDenoiser(ctx, async (denoiser) => {
    await predictOnSubject(denoiser, fixtureInput(f.spec, 1, 81), stageTimesteps(f, 0, 1), predictOptions(1, fillCases.interpolate));
  });
  const after = live();
  if (after > before) fail(`${after - before} tensors still live after the denoiser was disposed (${before} → ${after})`);
}

async function leakOverCache<T>(ctx: SuiteContext<T>, live: () => number): Promise<void> {
  const f = fixture(lifecycleFixture);
  await withDenoiser(ctx, async (denoiser) => {
    const ops = denoiser.ops;
    const input = fixtureInput(f.spec, 1, 91);
    const x = ops.fromFloat32(input.data, input.shape);
    try {
      const before = live();
      const cache = denoiser.createFeatureCache();
      await predictAndDispose(denoiser, x, stageTimesteps(f, 0, 1), predictOptions(0, fillCases.cache, cache));
      await predictAndDispose(denoiser, x, stageTimesteps(f, 0, 1, 1), predictOptions(1, fillCases.cache, cache));
      cache.dispose();
      const after = live();
      if (after > before) fail(`${after - before} tensors still live after the feature cache was disposed (${before} → ${after})`);
    } finally {
      ops.dispose(x);
    }
  });
}

/** The disposal checks. */
export async function disposalChecks<T>(ctx: SuiteContext<T>): Promise<ConformanceCheck[]> {
  const checks: ConformanceCheck[] = [];
  const live = ctx.options.liveTensors;
  const leakChecks: [string, (live: () => number) => Promise<string | void>][] = [
    ['disposal: no live-tensor growth over 50 predictions of mixed k and fills', (l) => leakOverPredictions(ctx, l)],
    ['disposal: denoiser.dispose releases its tensors', (l) => leakOverDenoiser(ctx, l)],
    ['disposal: FeatureCache.dispose releases the cached tensors', (l) => leakOverCache(ctx, l)],
  ];
  for (const [name, body] of leakChecks) {
    checks.push(live === undefined ? skipCheck(name, 'no liveTensors option: pass the backend\'s live-tensor count to check for leaks') : await runCheck(name, () => body(live)));
  }
  const f = fixture(lifecycleFixture);
  /** Expects predict on `denoiser` to reject with DISPOSED (the input made by the suite's live backend). */
  const expectDisposedPredict = async (what: string, denoiser: Denoiser<T>, seed: number): Promise<void> => {
    const ops = ctx.backend.ops;
    const input = fixtureInput(f.spec, 1, seed);
    const x = ops.fromFloat32(input.data, input.shape);
    try {
      await assertLevelskipError(what, 'DISPOSED', () => predictAndDispose(denoiser, x, stageTimesteps(f, 0, 1)));
    } finally {
      ops.dispose(x);
    }
  };
  checks.push(
    await runCheck('disposal: predict after dispose → DISPOSED', async () => {
      const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
      denoiser.dispose();
      await expectDisposedPredict('predict on a disposed denoiser', denoiser, 92);
    }),
  );
  checks.push(
    await runCheck('disposal: prepare after dispose → DISPOSED', async () => {
      const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
      denoiser.dispose();
      if (typeof denoiser.prepare !== 'function') fail('the denoiser has no prepare() method');
      await assertLevelskipError('prepare on a disposed denoiser', 'DISPOSED', () => denoiser.prepare!({ ks: [0] }));
    }),
  );
  checks.push(
    await runCheck('disposal: a disposed backend refuses createDenoiser, and its denoisers refuse predict → DISPOSED', async () => {
      const backend = await ctx.createBackend();
      let denoiser: Denoiser<T>;
      try {
        denoiser = await backend.createDenoiser(f.spec, f.weights);
      } finally {
        backend.dispose();
      }
      await assertLevelskipError('createDenoiser on a disposed backend', 'DISPOSED', () => backend.createDenoiser(f.spec, f.weights));
      await expectDisposedPredict('predict on a denoiser of a disposed backend', denoiser, 95);
    }),
  );
  checks.push(
    await runCheck('disposal: `using` (Symbol.dispose) disposes the denoiser and the backend', async () => {
      const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
      if (typeof denoiser[Symbol.dispose] !== 'function') fail('the denoiser has no [Symbol.dispose]() method, so `using denoiser = …` does not type-check or run');
      if (typeof ctx.backend[Symbol.dispose] !== 'function') fail('the backend has no [Symbol.dispose]() method, so `using backend = …` does not type-check or run');
      denoiser[Symbol.dispose]();
      await expectDisposedPredict('predict after [Symbol.dispose]()', denoiser, 93);
    }),
  );
  checks.push(
    await runCheck('prepare: reports every variant, and predictions after it are the same', async () => {
      // One denoiser, before and after: two live denoisers of one graph need not agree bit for bit
      // on every engine (onnxruntime-web's WebGPU on SwiftShader did not), which is not prepare's doing.
      const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
      const input = fixtureInput(f.spec, 1, 94);
      const timesteps = stageTimesteps(f, 0, 1);
      const ks = [0, f.arch.levels - 1];
      try {
        if (typeof denoiser.prepare !== 'function') fail('the denoiser has no prepare() method');
        const before = [];
        for (const k of ks) before.push(await predictOnSubject(denoiser, input, timesteps, predictOptions(k, fillCases.duplicate)));
        const seen: string[] = [];
        await denoiser.prepare({ ks, fills: [fillCases.duplicate.make()], stages: [0], onProgress: (p) => seen.push(`${p.done}/${p.total} ${p.what}`) });
        const expected = ['1/2 k=0 stage=0', `2/2 k=${f.arch.levels - 1} fill=duplicate stage=0`];
        if (seen.join('|') !== expected.join('|')) fail(`onProgress reported [${seen.join(', ')}]; expected [${expected.join(', ')}]`);
        for (const [i, k] of ks.entries()) {
          const after = await predictOnSubject(denoiser, input, timesteps, predictOptions(k, fillCases.duplicate));
          assertIdentical(`prediction at k=${k} after prepare`, after.data, before[i]!.data);
        }
        await assertLevelskipError('prepare with a depth out of range', 'INVALID_OPTION', () => denoiser.prepare({ ks: [f.arch.levels] }));
        const aborted = new AbortController();
        aborted.abort();
        await assertLevelskipError('prepare with an aborted signal', 'ABORTED', () => denoiser.prepare({ signal: aborted.signal }));
      } finally {
        denoiser.dispose();
      }
    }),
  );
  checks.push(
    await runCheck('disposal: dispose twice is harmless', async () => {
      const denoiser = await ctx.backend.createDenoiser(f.spec, f.weights);
      denoiser.dispose();
      denoiser.dispose();
    }),
  );
  return checks;
}
