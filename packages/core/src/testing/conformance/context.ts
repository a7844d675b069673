/**
 * What every conformance check works with: the backend under test beside the float64 reference
 * backend, fixture models built on both from the same weights, and helpers that run one
 * prediction on both sides and bring the results back to the host.
 */
import type { Backend } from '../../backend/backend.js';
import type { Denoiser, PredictOptions } from '../../backend/denoiser.js';
import type { HostTensor, NamedTensors } from '../../backend/tensor-ops.js';
import type { FeatureCache } from '../../fills/feature-cache.js';
import { builtinFillKinds, builtinFills, duplicateChannels, parseFill, type BuiltinFillKind } from '../../fills/fill-registry.js';
import { customFill, type FillStrategy } from '../../fills/fill-strategy.js';
import { describeArchitecture, type Architecture } from '../../geometry/architecture.js';
import { parseUNetSpec, type UNetSpec } from '../../spec/unet-spec.js';
import { fixtureWeights, tinySpecNames, tinySpecs, type TinySpecName } from '../fixtures.js';
import type { ReferenceTensor } from '../reference/index.js';
import type { ResolvedConformanceOptions } from './report.js';

export interface SuiteContext<T> {
  readonly backend: Backend<T>;
  /** Makes another backend under test, for checks that must dispose one (the caller disposes it). */
  readonly createBackend: () => Backend<T> | Promise<Backend<T>>;
  readonly reference: Backend<ReferenceTensor>;
  readonly options: ResolvedConformanceOptions;
}

/** A fixture model, parsed, with its weights (seeded per spec so every run sees the same numbers). */
export interface Fixture {
  readonly name: TinySpecName;
  readonly spec: UNetSpec;
  readonly arch: Architecture;
  readonly weights: NamedTensors;
}

const fixtureCache = new Map<TinySpecName, Fixture>();

/** The fixture model `name` (weights are generated once per process). */
export function fixture(name: TinySpecName): Fixture {
  let entry = fixtureCache.get(name);
  if (entry === undefined) {
    const spec = parseUNetSpec(tinySpecs[name]);
    entry = { name, spec, arch: describeArchitecture(spec), weights: fixtureWeights(spec, 1000 + tinySpecNames.indexOf(name)) };
    fixtureCache.set(name, entry);
  }
  return entry;
}

/** The same fixture model on the backend under test (`subject`) and on the reference. */
export interface ModelPair<T> {
  readonly fixture: Fixture;
  readonly subject: Denoiser<T>;
  readonly reference: Denoiser<ReferenceTensor>;
}

/** Builds both denoisers; the caller disposes them with `closePair`. */
export async function openPair<T>(ctx: SuiteContext<T>, name: TinySpecName): Promise<ModelPair<T>> {
  const f = fixture(name);
  const reference = await ctx.reference.createDenoiser(f.spec, f.weights);
  try {
    const subject = await ctx.backend.createDenoiser(f.spec, f.weights);
    return { fixture: f, subject, reference };
  } catch (error) {
    reference.dispose();
    throw error;
  }
}

export function closePair<T>(pair: ModelPair<T>): void {
  try {
    pair.subject.dispose();
  } finally {
    pair.reference.dispose();
  }
}

/**
 * A fill given to both sides. Built-ins are plain data; the custom fill is generic over the
 * tensor type, so one definition runs on the subject's ops and on the reference ops.
 */
export interface FillCase {
  readonly label: string;
  make<T>(): FillStrategy<T>;
}

/**
 * Custom fill: the duplicate fill (skip tiled along channels), smoothed by a 3×3 average pool and
 * scaled by the batch's mean t / T — it exercises concat, slice, avgPool, scale and the fill context.
 */
export function smoothedDuplicateFill<T>(): FillStrategy<T> {
  return customFill<T>('smoothed-duplicate', (context, ops) => {
    const tiled = duplicateChannels(ops, context.skip, context.shape[1]);
    const pooled = ops.avgPool(tiled, 3, 1);
    const meanT = context.timesteps.reduce((a, b) => a + b, 0) / context.timesteps.length;
    const out = ops.scale(pooled, 0.5 + meanT / context.spec.trainTimesteps);
    ops.dispose([tiled, pooled]);
    return out;
  });
}

/** A built-in fill as a case: its bare written form (the cache fill without a refresh interval). */
function builtinCase(kind: BuiltinFillKind): FillCase {
  const fill = parseFill(kind);
  return { label: kind, make: <T>(): FillStrategy<T> => fill };
}

/**
 * One case per built-in fill of core's fill registry, plus the custom fill: a fill added to the
 * registry is checked on every backend without touching the suite.
 */
export const fillCases: Readonly<Record<BuiltinFillKind | 'custom', FillCase>> = Object.freeze({
  ...(Object.fromEntries(builtinFillKinds.map((kind) => [kind, builtinCase(kind)])) as Record<BuiltinFillKind, FillCase>),
  custom: { label: 'custom', make: smoothedDuplicateFill },
});

/**
 * The stateless fills applicable to a fixture, in registry order: every built-in fill that needs no
 * feature cache and that the fixture's spec supports (interpolate only with side paths), then the
 * custom fill when enabled. Stateful fills (the cache) are checked over whole sampling runs instead.
 */
export function statelessFills(f: Fixture, customFills: boolean): FillCase[] {
  const fills = builtinFills.filter((d) => !d.stateful && d.supports(f.spec) === undefined).map((d) => fillCases[d.kind]);
  if (customFills) fills.push(fillCases.custom);
  return fills;
}

// Spread over (0, 1) so per-sample timesteps differ and fall far apart; the first two give [17, 803] for T = 1000.
const timestepFractions = [0.017, 0.803, 0.41, 0.66, 0.25, 0.93, 0.1, 0.55];

/**
 * `batch` distinct integer timesteps inside decoder stage `stage` ([tStart·T, tEnd·T)); `salt`
 * shifts the pattern so consecutive steps of a run get different timesteps.
 */
export function stageTimesteps(f: Fixture, stage: number, batch: number, salt = 0): number[] {
  const T = f.spec.trainTimesteps;
  const decoder = f.arch.decoders[stage]!;
  const lo = Math.ceil(decoder.tStart * T);
  const hi = decoder.tEnd * T;
  const out: number[] = [];
  for (let i = 0; i < batch; i++) {
    const frac = timestepFractions[(i + salt) % timestepFractions.length]!;
    out.push(Math.floor(lo + (hi - lo) * frac));
  }
  return out;
}

/** A host tensor's values as read back from a backend, with the shape the backend reports. */
export interface HostResult {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Runs `predict` on the subject, reading the result back and disposing every tensor it made. */
export async function predictOnSubject<T>(
  denoiser: Denoiser<T>,
  input: HostTensor,
  timesteps: number | readonly number[],
  options?: PredictOptions<T>,
): Promise<HostResult> {
  const ops = denoiser.ops;
  const x = ops.fromFloat32(input.data, input.shape);
  try {
    const out = await denoiser.predict(x, timesteps, options);
    try {
      return { shape: [...ops.shape(out)], data: await ops.toFloat32(out) };
    } finally {
      ops.dispose(out);
    }
  } finally {
    ops.dispose(x);
  }
}

/** Runs `predict` on the reference, keeping float64 precision. */
export async function predictOnReference(
  denoiser: Denoiser<ReferenceTensor>,
  input: HostTensor,
  timesteps: number | readonly number[],
  options?: PredictOptions<ReferenceTensor>,
): Promise<HostResult> {
  const x = denoiser.ops.fromFloat32(input.data, input.shape);
  const out = await denoiser.predict(x, timesteps, options);
  return { shape: out.shape, data: out.data };
}

/** `predict`, disposing the result: for calls that are expected to throw. */
export async function predictAndDispose<T>(
  denoiser: Denoiser<T>,
  x: T,
  timesteps: number | readonly number[],
  options?: PredictOptions<T>,
): Promise<void> {
  const out = await denoiser.predict(x, timesteps, options);
  denoiser.ops.dispose(out);
}

/** Options for one prediction with fill `fillCase` at depth `k`, with a per-run cache when given. */
export function predictOptions<T>(k: number, fillCase: FillCase | undefined, cache?: FeatureCache<T>): PredictOptions<T> {
  return {
    k,
    ...(fillCase === undefined ? {} : { fill: fillCase.make<T>() }),
    ...(cache === undefined ? {} : { cache }),
  };
}

/** Expected output shape of a prediction: [B, outChannels, H, W]. */
export function outputShape(f: Fixture, batch: number): number[] {
  return [batch, f.spec.outChannels, f.spec.imageSize, f.spec.imageSize];
}

/** Stage label for multi-decoder fixtures ('' otherwise). */
export function stageLabel(f: Fixture, stage: number): string {
  return f.arch.decoders.length > 1 ? ` stage ${stage}` : '';
}
