/**
 * A denoiser running ONNX graphs of the U-Net in onnxruntime. Each prediction follows core's skip
 * plan (`planSkip`: the depth that runs after the cache fall-back, the cut, the fill mode, the
 * levels a cache stores). Graphs are built and sessions opened lazily, one per (graph variant) —
 * see `unet-graphs.ts` — and cached until `dispose`:
 * - graph-fusable built-in fills (zero, duplicate, interpolate, mean: core's fill registry, emitted by
 *   `graph/fill-emitters.ts`): one fused graph per (stage, k, fill), one run per step;
 * - the cache fill: a fused graph taking the stored features as its `fill` input;
 * - custom fills: a head graph (encoder to the cut), the fill over `TensorOps`, a tail graph;
 * - whenever a `FeatureCache` is passed, the graph also returns the decoder inputs that core's
 *   `runLevelSkippingUNet` stores (after every upsample), and they are stored the same way.
 */
import type * as ort from 'onnxruntime-common';
import {
  FeatureCache,
  LevelskipError,
  assertFillSupported,
  describeArchitecture,
  exportableFillKinds,
  fillContextAt,
  isGraphFusableFill,
  parseFill,
  planSkip,
  prepareByPrediction,
  prepareVariants,
  resolveCustomFill,
  resolvePrediction,
  specificationVersion,
  type Architecture,
  type BuiltinFillKind,
  type DisposableDenoiser,
  type FillStrategy,
  type PrepareOptions,
  type NamedTensors,
  type PredictOptions,
  type TensorOps,
  type TimingProfile,
  type UNetSpec,
  disposedError,
} from '@levelskip/core';
import { buildUNetGraph, graphKey, type GraphFill, type GraphVariant, type UNetGraph } from '../graph/unet-graphs.js';
import { float32Data, track } from '../ops/onnx-tensor-ops.js';
import type { OnnxRuntime } from '../runtime/onnx-runtime.js';

/** What to build ahead of time with `prepare` (default: every k with the zero fill): core's `PrepareOptions`; fills may also be named in their written form (`'zero'`, `'mean'`, `'cache'`: core's `builtinFillSyntax`). */
export interface OnnxPrepareOptions extends Omit<PrepareOptions<ort.Tensor>, 'fills'> {
  readonly fills?: readonly (FillStrategy<ort.Tensor> | BuiltinFillKind)[];
}

/** An ONNX-backend denoiser: core's `Denoiser` plus session bookkeeping. */
export interface OnnxDenoiser extends DisposableDenoiser<ort.Tensor> {
  /** Opens the sessions of the given depths and fills now, so the first predictions do not pay for it. */
  prepare(options?: OnnxPrepareOptions): Promise<void>;
  /** Number of open onnxruntime sessions (one per graph variant used so far). */
  readonly sessionCount: number;
}

export interface OnnxDenoiserContext {
  /** The runtime the sessions and tensors belong to. */
  readonly runtime: OnnxRuntime;
  readonly name: string;
  readonly ops: TensorOps<ort.Tensor>;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly onDispose: () => void;
  /** `describeArchitecture(spec)` when the caller already derived it (the backend's `createDenoiser` does); derived here otherwise. */
  readonly architecture?: Architecture;
}

interface OpenGraph {
  readonly graph: UNetGraph;
  readonly session: ort.InferenceSession;
}

const disposedDenoiser = (): LevelskipError => disposedError('denoiser', 'backend.createDenoiser(spec, weights)');

/**
 * `PredictOptions.cacheLevels` as a set, checked: decoder levels a skipping step can read, 0..N−2.
 * @throws LevelskipError `INVALID_OPTION` naming the bad entry.
 */
function checkedCacheLevels(levels: readonly number[] | undefined, N: number): ReadonlySet<number> | undefined {
  if (levels === undefined) return undefined;
  if (!Array.isArray(levels)) throw new LevelskipError('INVALID_OPTION', `cacheLevels must be a list of decoder levels in [0, ${N - 2}], got ${String(levels)}`);
  for (const level of levels) {
    if (!Number.isInteger(level) || level < 0 || level > N - 2) {
      throw new LevelskipError(
        'INVALID_OPTION',
        `cacheLevels: ${String(level)} is not a decoder level a skipping step reads; use levels N − 1 − k in [0, ${N - 2}] for this ${N}-level U-Net (or leave cacheLevels out to store every level)`,
      );
    }
  }
  return new Set(levels);
}

/** Creates the denoiser; `spec` is parsed and `weights` validated by the caller. */
export function createOnnxDenoiser(spec: UNetSpec, weights: NamedTensors, context: OnnxDenoiserContext): OnnxDenoiser {
  const arch: Architecture = context.architecture ?? describeArchitecture(spec);
  const { ops, runtime } = context;
  // A shallow copy: graphs are built lazily, after the caller may have changed its map.
  const params: NamedTensors = new Map(weights);
  const sessions = new Map<string, Promise<OpenGraph>>();
  let disposed = false;

  const release = (open: Promise<OpenGraph>): void => {
    open.then(
      (o) => o.session.release(),
      () => undefined,
    ).catch(() => undefined);
  };

  const open = (variant: GraphVariant): Promise<OpenGraph> => {
    const key = graphKey(variant);
    let entry = sessions.get(key);
    if (entry === undefined) {
      entry = (async () => {
        const graph = buildUNetGraph(arch, params, variant);
        const session = await runtime.InferenceSession.create(graph.bytes, context.sessionOptions);
        return { graph, session };
      })();
      sessions.set(key, entry);
      // A failed build is not cached: the next call retries (and reports) it.
      entry.catch(() => {
        if (sessions.get(key) === entry) sessions.delete(key);
      });
    }
    return entry;
  };

  // The graph of the last session.run: a profile span says when a run switched sessions.
  let lastGraph: string | undefined;
  /**
   * Runs a variant's graph. `cacheLevels` (a cache-writing graph): the decoder levels whose
   * features to fetch besides ε; onnxruntime-node copies every fetched output into a new
   * ArrayBuffer, so features no later step reads are not fetched. Default: every output.
   */
  const run = async (
    variant: GraphVariant,
    feeds: Record<string, ort.Tensor>,
    profile?: TimingProfile,
    cacheLevels?: ReadonlySet<number>,
  ): Promise<{ graph: UNetGraph; out: ort.InferenceSession.ReturnType }> => {
    const { graph, session } = await open(variant);
    if (disposed) throw disposedDenoiser();
    const inputs: Record<string, ort.Tensor> = {};
    for (const i of graph.inputs) inputs[i.name] = feeds[i.name]!;
    const fetches =
      cacheLevels === undefined || graph.cacheLevels.length === 0
        ? undefined
        : [...graph.outputs.filter((o) => !o.name.startsWith('cache_')).map((o) => o.name), ...graph.cacheLevels.filter((c) => cacheLevels.has(c.level)).map((c) => c.output)];
    const switched = lastGraph !== undefined && lastGraph !== graph.key;
    lastGraph = graph.key;
    const began = profile === undefined ? 0 : performance.now();
    const out = fetches === undefined ? await session.run(inputs) : await session.run(inputs, fetches);
    profile?.record({ phase: 'run', ms: performance.now() - began, k: variant.k, graph: graph.key, switched });
    return { graph, out };
  };

  // A run passes the same frozen `cacheLevels` list at every step (`sample()` does): it is checked once, on first sight.
  let lastCacheLevels: { readonly given: readonly number[]; readonly set: ReadonlySet<number> } | undefined;
  const cacheLevelsOf = (given: readonly number[] | undefined): ReadonlySet<number> | undefined => {
    if (given !== undefined && lastCacheLevels?.given === given) return lastCacheLevels.set;
    const set = checkedCacheLevels(given, arch.levels);
    if (given !== undefined && set !== undefined && Object.isFrozen(given)) lastCacheLevels = { given, set };
    return set;
  };

  const predict = async (x: ort.Tensor, timesteps: number | readonly number[], options?: PredictOptions<ort.Tensor>): Promise<ort.Tensor> => {
    if (disposed) throw disposedDenoiser();
    float32Data(runtime.Tensor, x, 'predict (x)');
    const p = resolvePrediction(arch, x.dims, timesteps, options);
    const { stage, fill, cache, batch } = p;
    // Core's plan: the depth that runs (after the cache fall-back), the cut, how the fill is made, what a cache stores.
    const plan = planSkip(arch, { stage, k: p.k, fill, cache });
    const { k, cut } = plan;
    const cacheOutputs = cache !== undefined;
    const profile = options?.profile;
    const wanted = cacheOutputs ? cacheLevelsOf(options?.cacheLevels) : undefined;
    const t = new runtime.Tensor('float32', Float32Array.from(p.timesteps), [batch]);

    let result: { graph: UNetGraph; out: ort.InferenceSession.ReturnType };
    if (plan.fill.mode === 'none') {
      result = await run({ kind: 'fused', stage, k, fill: 'none', cacheOutputs }, { x, t }, profile, wanted);
    } else if (plan.fill.mode === 'builtin' && isGraphFusableFill(fill)) {
      result = await run({ kind: 'fused', stage, k, fill: fill.kind, cacheOutputs }, { x, t }, profile, wanted);
    } else if (plan.fill.mode === 'cached') {
      // A fill reading the cache gets the stored features as they are (the cache fill's `apply`), as the fused graph's input.
      const began = profile === undefined ? 0 : performance.now();
      const stored = cache!.get(stage, cut)!;
      profile?.record({ phase: 'cacheLoad', ms: performance.now() - began, k });
      result = await run({ kind: 'fused', stage, k, fill: 'input', cacheOutputs }, { x, t, fill: stored }, profile, wanted);
    } else if (fill.kind === 'custom') {
      const head = await run({ kind: 'head', k }, { x, t }, profile);
      const skips = head.graph.outputs.filter((o) => o.name.startsWith('skip_')).map((o) => head.out[o.name]!);
      const context = fillContextAt(arch, plan, { batch, skips, cached: cache?.get(stage, cut), timesteps: p.timesteps });
      const filled = resolveCustomFill(fill, context, ops);
      try {
        const feeds: Record<string, ort.Tensor> = { temb: head.out['temb']!, fill: filled };
        skips.forEach((s, i) => (feeds[`skip_${i}`] = s));
        result = await run({ kind: 'tail', stage, k, cacheOutputs }, feeds, profile, wanted);
      } finally {
        ops.dispose(filled);
      }
    } else {
      throw new LevelskipError(
        'INVALID_FILL',
        `fill "${fill.kind}" is neither graph-fusable nor read from the cache, so backend-onnx has no graph for it; use one of ${exportableFillKinds.join(', ')} or a custom fill`,
      );
    }
    if (cache) {
      const began = profile === undefined ? 0 : performance.now();
      for (const level of plan.cacheStoreLevels) {
        const output = result.graph.cacheLevels.find((c) => c.level === level)?.output;
        const features = output === undefined ? undefined : result.out[output];
        if (features !== undefined) cache.set(stage, level, track(features));
      }
      profile?.record({ phase: 'cacheStore', ms: performance.now() - began, k });
    }
    return track(result.out['eps']!);
  };

  const denoiser: OnnxDenoiser = {
    specificationVersion,
    spec,
    levels: arch.levels,
    architecture: arch,
    backend: context.name,
    ops,
    predict(x, timesteps, options) {
      return predict(x, timesteps, options);
    },
    async prepare(options: OnnxPrepareOptions = {}) {
      if (disposed) throw disposedDenoiser();
      const { fills: given, ...rest } = options;
      const fills = given?.map((f): FillStrategy<ort.Tensor> => (typeof f === 'string' ? parseFill(f) : f));
      const resolved: PrepareOptions<ort.Tensor> = { ...rest, ...(fills === undefined ? {} : { fills }) };
      for (const fill of fills ?? []) assertFillSupported(spec, fill);
      const variants = prepareVariants(arch.levels, arch.decoders.length, resolved);
      // The cache and custom fills run split or cache-writing graphs that only a prediction
      // selects exactly; the stateless fills open their fused graph without computing anything.
      if (variants.some((v) => v.fill !== undefined && !isGraphFusableFill(v.fill))) {
        await prepareByPrediction(denoiser, arch.decoders.length, resolved);
        return;
      }
      for (const [i, v] of variants.entries()) {
        if (resolved.signal?.aborted) throw new LevelskipError('ABORTED', `prepare was aborted after ${i} of ${variants.length} variants`, { cause: resolved.signal.reason });
        const fill: GraphFill = v.fill === undefined ? 'none' : (v.fill.kind as GraphFill);
        await open({ kind: 'fused', stage: v.stage, k: v.k, fill, cacheOutputs: false });
        if (disposed) throw disposedDenoiser();
        resolved.onProgress?.({ done: i + 1, total: variants.length, what: v.what });
      }
    },
    get sessionCount() {
      return sessions.size;
    },
    createFeatureCache: () => new FeatureCache(ops),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const entry of sessions.values()) release(entry);
      sessions.clear();
      context.onDispose();
    },
    [Symbol.dispose]() {
      denoiser.dispose();
    },
  };
  return denoiser;
}
