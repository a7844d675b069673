/**
 * Prediction parity: for a fixture spec, every depth k = 0..N-1 and every applicable fill, the
 * backend's ε prediction matches the float64 reference backend's on the same weights, input and
 * (per-sample, non-trivial) timesteps. The `cache` fill is checked over whole sampling runs, step
 * by step, with one `FeatureCache` per run on each side.
 */
import type { FeatureCache } from '../../fills/feature-cache.js';
import { fixtureInput, type TinySpecName } from '../fixtures.js';
import type { ReferenceTensor } from '../reference/index.js';
import {
  closePair,
  fillCases,
  fixture,
  openPair,
  outputShape,
  predictOnReference,
  predictOnSubject,
  predictOptions,
  stageLabel,
  stageTimesteps,
  statelessFills,
  type FillCase,
  type HostResult,
  type ModelPair,
  type SuiteContext,
} from './context.js';
import {
  assertClose,
  assertLevelskipError,
  assertShape,
  fail,
  runCheck,
  skipCheck,
  type ConformanceCheck,
} from './report.js';
import type { PredictOptions } from '../../backend/denoiser.js';

interface ParityCase<T> {
  readonly input: ReturnType<typeof fixtureInput>;
  readonly timesteps: number | readonly number[];
  readonly subject: PredictOptions<T> | undefined;
  readonly reference: PredictOptions<ReferenceTensor> | undefined;
}

/** Predicts on both sides and compares shape and values; returns the subject's result. */
async function parity<T>(
  ctx: SuiteContext<T>,
  pair: ModelPair<T>,
  c: ParityCase<T>,
  keep?: (actual: HostResult) => void,
): Promise<string> {
  const expected = await predictOnReference(pair.reference, c.input, c.timesteps, c.reference);
  const actual = await predictOnSubject(pair.subject, c.input, c.timesteps, c.subject);
  keep?.(actual);
  assertShape('prediction', actual.shape, outputShape(pair.fixture, c.input.shape[0]!));
  const relative = assertClose('prediction', actual.data, expected.data, ctx.options.tolerance);
  return `scaled max diff ${relative.toExponential(2)}`;
}

function sameOptions<T>(k: number, fill: FillCase | undefined): { subject: PredictOptions<T>; reference: PredictOptions<ReferenceTensor> } {
  return { subject: predictOptions<T>(k, fill), reference: predictOptions<ReferenceTensor>(k, fill) };
}

/** JSON with object keys sorted, so equal specs compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

async function metadataCheck<T>(pair: ModelPair<T>): Promise<void> {
  const { subject, fixture: f } = pair;
  if (subject.specificationVersion !== 'v1') fail(`specificationVersion is ${String(subject.specificationVersion)}, expected v1`);
  if (subject.levels !== f.arch.levels) fail(`levels is ${subject.levels}, expected ${f.arch.levels}`);
  if (canonicalJson(subject.spec) !== canonicalJson(f.spec)) fail('denoiser.spec differs from the parsed spec it was built from');
  if (typeof subject.backend !== 'string' || subject.backend.length === 0) fail('denoiser.backend must name the backend');
}

/** Step-by-step comparison of sampling runs with the cache fill; see the file header. */
async function cacheRunChecks<T>(ctx: SuiteContext<T>, pair: ModelPair<T>): Promise<ConformanceCheck[]> {
  const f = pair.fixture;
  const N = f.arch.levels;
  const batch = ctx.options.batch;
  const name = f.name;
  // Samplers walk t from 1 to 0, so a multi-decoder run visits the last stage first. In each stage the
  // first step asks for the deepest skip with an empty cache (it must run at full depth and fill it).
  const steps: { stage: number; k: number; seed: number; salt: number }[] = [];
  for (let s = f.arch.decoders.length - 1; s >= 0; s--) {
    for (const k of [N - 1, ...Array.from({ length: N }, (_, i) => i)]) steps.push({ stage: s, k, seed: 300 + steps.length, salt: steps.length + 1 });
  }
  const checks: ConformanceCheck[] = [];
  const run = async (label: string, count: number): Promise<(HostResult | undefined)[]> => {
    const subjectCache: FeatureCache<T> = pair.subject.createFeatureCache();
    const referenceCache: FeatureCache<ReferenceTensor> = pair.reference.createFeatureCache();
    const results: (HostResult | undefined)[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const step = steps[i]!;
        const where = `${f.arch.decoders.length > 1 ? `stage ${step.stage}, ` : ''}k=${step.k}`;
        const testCase: ParityCase<T> = {
          input: fixtureInput(f.spec, batch, step.seed),
          timesteps: stageTimesteps(f, step.stage, batch, step.salt),
          subject: predictOptions(step.k, fillCases.cache, subjectCache),
          reference: predictOptions(step.k, fillCases.cache, referenceCache),
        };
        const keep = (actual: HostResult): void => {
          results[i] = actual;
        };
        checks.push(await runCheck(`${name}: ${label} step ${i + 1} (${where})`, () => parity(ctx, pair, testCase, keep)));
      }
    } finally {
      subjectCache.dispose();
      referenceCache.dispose();
    }
    return results;
  };
  const first = await run('cache run', steps.length);
  const second = await run('second cache run (fresh cache)', 1);
  checks.push(
    await runCheck(`${name}: a fresh cache starts a run afresh (no state leaks between runs)`, () => {
      const a = first[0];
      const b = second[0];
      if (a === undefined || b === undefined) fail('the first step of a cache run failed; see above');
      assertClose('first step of the second run vs first step of the first run', b.data, a.data, ctx.options.tolerance);
    }),
  );
  return checks;
}

async function multiDecoderChecks<T>(ctx: SuiteContext<T>, pair: ModelPair<T>): Promise<ConformanceCheck[]> {
  const f = pair.fixture;
  const checks: ConformanceCheck[] = [];
  const last = f.arch.decoders.length - 1;
  checks.push(
    await runCheck(`${f.name}: explicit options.stage overrides the timesteps' stage`, async () => {
      const options = sameOptions<T>(1, fillCases.duplicate);
      return parity(ctx, pair, {
        input: fixtureInput(f.spec, ctx.options.batch, 41),
        timesteps: stageTimesteps(f, last, ctx.options.batch, 3),
        subject: { ...options.subject, stage: 0 },
        reference: { ...options.reference, stage: 0 },
      });
    }),
  );
  checks.push(
    await runCheck(`${f.name}: a batch mixing decoder stages is rejected (INVALID_OPTION)`, async () => {
      const ops = pair.subject.ops;
      const input = fixtureInput(f.spec, 2, 42);
      const x = ops.fromFloat32(input.data, input.shape);
      try {
        const mixed = [stageTimesteps(f, 0, 1)[0]!, stageTimesteps(f, last, 1)[0]!];
        await assertLevelskipError('predict with timesteps of two stages', 'INVALID_OPTION', async () => {
          ops.dispose(await pair.subject.predict(x, mixed));
        });
      } finally {
        ops.dispose(x);
      }
    }),
  );
  return checks;
}

/** Whether the fixture needs a feature the backend opted out of (and which). */
export function missingFeature(ctx: SuiteContext<unknown>, name: TinySpecName): string | undefined {
  const f = fixture(name);
  if (f.spec.block === 'ode2' && !ctx.options.features.ode2) return 'features.ode2 is false';
  if (f.spec.decoderStages !== undefined && !ctx.options.features.decoderStages) return 'features.decoderStages is false';
  return undefined;
}

/** The prediction checks for fixture `name`. */
export async function predictionChecks<T>(ctx: SuiteContext<T>, name: TinySpecName): Promise<ConformanceCheck[]> {
  const missing = missingFeature(ctx as SuiteContext<unknown>, name);
  if (missing !== undefined) return [skipCheck(`${name}: predictions`, missing)];
  let pair: ModelPair<T>;
  try {
    pair = await openPair(ctx, name);
  } catch (error) {
    return [await runCheck(`${name}: createDenoiser`, () => Promise.reject(error))];
  }
  const checks: ConformanceCheck[] = [{ name: `${name}: createDenoiser`, passed: true }];
  try {
    const p = pair;
    const f = p.fixture;
    const batch = ctx.options.batch;
    checks.push(await runCheck(`${name}: denoiser metadata`, () => metadataCheck(p)));
    for (let s = 0; s < f.arch.decoders.length; s++) {
      const input = fixtureInput(f.spec, batch, 11 + s);
      const timesteps = stageTimesteps(f, s, batch);
      const at = `${name}${stageLabel(f, s)}`;
      checks.push(
        await runCheck(`${at}: k=0, default options`, async () => {
          return parity(ctx, p, { input, timesteps, subject: undefined, reference: undefined });
        }),
      );
      for (let k = 1; k < f.arch.levels; k++) {
        for (const fill of statelessFills(f, ctx.options.features.customFills)) {
          checks.push(
            await runCheck(`${at}: k=${k} fill=${fill.label}`, async () => {
              return parity(ctx, p, { input, timesteps, ...sameOptions<T>(k, fill) });
            }),
          );
        }
      }
    }
    if (!ctx.options.features.customFills) checks.push(skipCheck(`${name}: k>0 fill=custom`, 'features.customFills is false'));
    checks.push(
      await runCheck(`${name}: one timestep for the whole batch`, async () => {
        const t = Math.round(f.spec.trainTimesteps * 0.64);
        return parity(ctx, p, { input: fixtureInput(f.spec, batch, 21), timesteps: t, ...sameOptions<T>(1, fillCases.duplicate) });
      }),
    );
    checks.push(...(await cacheRunChecks(ctx, p)));
    if (f.arch.decoders.length > 1) checks.push(...(await multiDecoderChecks(ctx, p)));
  } finally {
    const p = pair;
    checks.push(await runCheck(`${name}: dispose`, () => closePair(p)));
  }
  return checks;
}
