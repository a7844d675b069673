/**
 * Error conformance: bad input a user can pass gets the same `LevelskipError` code on every
 * backend (the codes `resolvePrediction` and weight validation define), and a rejected call
 * leaves the denoiser usable. The codes pinned here:
 *
 * - a bad k (out of [0, N-1], or not an integer), at predict and at prepare: `INVALID_OPTION`;
 * - a fill the model or the call cannot run (interpolate without side paths, an unknown fill kind,
 *   cache without a cache), at createDenoiser, predict and prepare: `INVALID_FILL`;
 * - bad shapes: `INVALID_SHAPE`; bad weights: `WEIGHTS_MISMATCH`;
 * - use after dispose: `DISPOSED` (lifecycle-checks.ts).
 */
import type { Denoiser, PredictOptions } from '../../backend/denoiser.js';
import type { HostTensor, NamedTensors } from '../../backend/tensor-ops.js';
import type { LevelskipErrorCode } from '../../errors/levelskip-error.js';
import { cacheFill, interpolateFill } from '../../fills/fill-registry.js';
import { customFill, type FillStrategy } from '../../fills/fill-strategy.js';
import { fixtureInput } from '../fixtures.js';
import {
  closePair,
  fillCases,
  fixture,
  openPair,
  outputShape,
  predictAndDispose,
  predictOnReference,
  predictOnSubject,
  predictOptions,
  stageTimesteps,
  type ModelPair,
  type SuiteContext,
} from './context.js';
import { assertClose, assertLevelskipError, assertShape, fail, runCheck, skipCheck, type ConformanceCheck } from './report.js';

/** Calls `predict` on host data of any shape, expecting `code`. */
async function expectPredictError<T>(
  denoiser: Denoiser<T>,
  what: string,
  code: LevelskipErrorCode,
  input: HostTensor,
  timesteps: number | readonly number[],
  options?: PredictOptions<T>,
): Promise<void> {
  const ops = denoiser.ops;
  const x = ops.fromFloat32(input.data, input.shape);
  try {
    await assertLevelskipError(what, code, () => predictAndDispose(denoiser, x, timesteps, options));
  } finally {
    ops.dispose(x);
  }
}

function zerosHost(shape: readonly number[]): HostTensor {
  return { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}

function withWeights(weights: NamedTensors, edit: (map: Map<string, HostTensor>) => void): NamedTensors {
  const copy = new Map(weights);
  edit(copy);
  return copy;
}

/** The error checks, on the `resnet` fixture (no side paths). */
export async function errorChecks<T>(ctx: SuiteContext<T>): Promise<ConformanceCheck[]> {
  const f = fixture('resnet');
  const { spec } = f;
  const N = f.arch.levels;
  const batch = ctx.options.batch;
  const input = fixtureInput(spec, batch, 51);
  const timesteps = stageTimesteps(f, 0, batch);
  const C = spec.inChannels;
  const S = spec.imageSize;

  let pair: ModelPair<T>;
  try {
    pair = await openPair(ctx, 'resnet');
  } catch (error) {
    return [await runCheck('errors: createDenoiser', () => Promise.reject(error))];
  }
  const subject = pair.subject;
  const checks: ConformanceCheck[] = [];
  const check = async (name: string, body: () => Promise<void>): Promise<void> => {
    checks.push(await runCheck(`errors: ${name}`, body));
  };
  try {
    await check('x with the wrong channel count → INVALID_SHAPE', () =>
      expectPredictError(subject, `x of shape [${batch}, ${C + 1}, ${S}, ${S}]`, 'INVALID_SHAPE', zerosHost([batch, C + 1, S, S]), timesteps),
    );
    await check('x with the wrong spatial size → INVALID_SHAPE', () =>
      expectPredictError(subject, `x of shape [${batch}, ${C}, ${S / 2}, ${S / 2}]`, 'INVALID_SHAPE', zerosHost([batch, C, S / 2, S / 2]), timesteps),
    );
    await check('x of rank 3 → INVALID_SHAPE', () =>
      expectPredictError(subject, `x of shape [${C}, ${S}, ${S}]`, 'INVALID_SHAPE', zerosHost([C, S, S]), timesteps[0]!),
    );
    await check('one timestep too many → INVALID_SHAPE', () =>
      expectPredictError(subject, `${batch + 1} timesteps for a batch of ${batch}`, 'INVALID_SHAPE', input, [...timesteps, 5]),
    );
    await check('timestep outside [0, T] → INVALID_OPTION', async () => {
      await expectPredictError(subject, `timestep ${spec.trainTimesteps + 1}`, 'INVALID_OPTION', input, spec.trainTimesteps + 1);
      await expectPredictError(subject, 'timestep -1', 'INVALID_OPTION', input, -1);
      await expectPredictError(subject, 'timestep NaN', 'INVALID_OPTION', input, Number.NaN);
    });
    for (const k of [N, -1, 1.5]) {
      await check(`k = ${k} → INVALID_OPTION`, () => expectPredictError(subject, `k = ${k}`, 'INVALID_OPTION', input, timesteps, { k }));
    }
    await check('prepare with k out of range or not an integer → INVALID_OPTION', async () => {
      if (typeof subject.prepare !== 'function') fail('the denoiser has no prepare() method');
      for (const k of [N, -1, 1.5]) await assertLevelskipError(`prepare({ ks: [${k}] })`, 'INVALID_OPTION', () => subject.prepare!({ ks: [k] }));
    });
    await check('interpolate fill without side paths, at createDenoiser → INVALID_FILL', () =>
      assertLevelskipError('createDenoiser with { fill: interpolate }', 'INVALID_FILL', async () => {
        (await ctx.backend.createDenoiser(spec, f.weights, { fill: interpolateFill })).dispose();
      }),
    );
    await check('interpolate fill without side paths, at predict → INVALID_FILL', () =>
      expectPredictError(subject, 'predict with fill interpolate', 'INVALID_FILL', input, timesteps, { k: 1, fill: interpolateFill }),
    );
    // A fill kind no backend knows (what a typo or a newer package's fill looks like here).
    const unknownFill = { kind: 'blur' } as unknown as FillStrategy<T>;
    await check('unknown fill kind, at createDenoiser → INVALID_FILL', () =>
      assertLevelskipError('createDenoiser with { fill: { kind: "blur" } }', 'INVALID_FILL', async () => {
        (await ctx.backend.createDenoiser(spec, f.weights, { fill: unknownFill })).dispose();
      }),
    );
    await check('unknown fill kind, at predict → INVALID_FILL', () =>
      expectPredictError(subject, 'predict with fill { kind: "blur" }', 'INVALID_FILL', input, timesteps, { k: 1, fill: unknownFill }),
    );
    await check('unsupported or unknown fill, at prepare → INVALID_FILL', async () => {
      if (typeof subject.prepare !== 'function') fail('the denoiser has no prepare() method');
      await assertLevelskipError('prepare with fill interpolate', 'INVALID_FILL', () => subject.prepare!({ ks: [1], fills: [interpolateFill] }));
      await assertLevelskipError('prepare with fill { kind: "blur" }', 'INVALID_FILL', () => subject.prepare!({ ks: [1], fills: [unknownFill] }));
    });
    await check('cache fill without a cache → INVALID_FILL', () =>
      expectPredictError(subject, 'predict with fill cache and no cache', 'INVALID_FILL', input, timesteps, { k: 1, fill: cacheFill }),
    );
    const names = [...f.weights.keys()];
    const deep = names.filter((n) => n.startsWith('mid_block.')).pop() ?? names[names.length - 1]!;
    const createWith = (weights: NamedTensors) => async (): Promise<void> => {
      (await ctx.backend.createDenoiser(spec, weights)).dispose();
    };
    await check('missing weight tensor → WEIGHTS_MISMATCH', () =>
      assertLevelskipError(`weights without ${deep}`, 'WEIGHTS_MISMATCH', createWith(withWeights(f.weights, (m) => m.delete(deep)))),
    );
    await check('weight tensor of the wrong shape (same size) → WEIGHTS_MISMATCH', () => {
      const original = f.weights.get('conv_in.weight')!;
      const [o, i, kh, kw] = original.shape as [number, number, number, number];
      const reshaped = { shape: [o, i, 1, kh * kw], data: original.data };
      return assertLevelskipError(
        `conv_in.weight of shape [${reshaped.shape.join(', ')}]`,
        'WEIGHTS_MISMATCH',
        createWith(withWeights(f.weights, (m) => m.set('conv_in.weight', reshaped))),
      );
    });
    await check('unexpected extra weight tensor → WEIGHTS_MISMATCH', () =>
      assertLevelskipError(
        'weights with an extra tensor',
        'WEIGHTS_MISMATCH',
        createWith(withWeights(f.weights, (m) => m.set('unexpected.weight', zerosHost([4])))),
      ),
    );
    if (ctx.options.features.customFills) {
      await check('custom fill returning the wrong shape → INVALID_SHAPE', () => {
        const bad = customFill<T>('wrong-shape', (context, ops) => ops.zeros([context.shape[0], context.shape[1] + 1, context.shape[2], context.shape[3]]));
        return expectPredictError(subject, 'a custom fill with one channel too many', 'INVALID_SHAPE', input, timesteps, { k: 1, fill: bad });
      });
    } else {
      checks.push(skipCheck('errors: custom fill returning the wrong shape → INVALID_SHAPE', 'features.customFills is false'));
    }
    await check('the denoiser still predicts correctly after rejected calls', async () => {
      const expected = await predictOnReference(pair.reference, input, timesteps, predictOptions(1, fillCases.duplicate));
      const actual = await predictOnSubject(subject, input, timesteps, predictOptions(1, fillCases.duplicate));
      assertShape('prediction', actual.shape, outputShape(f, batch));
      assertClose('prediction', actual.data, expected.data, ctx.options.tolerance);
    });
  } finally {
    checks.push(await runCheck('errors: dispose', () => closePair(pair)));
  }
  return checks;
}
