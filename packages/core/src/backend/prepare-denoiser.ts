/**
 * `Denoiser.prepare` by prediction: runs one prediction on zeros per variant (depth × fill ×
 * stage) the run will use, so engines that compile lazily (WebGL and WebGPU shaders, tfjs kernels,
 * any runtime's first-call set-up) do it before sampling starts. Backends that can prepare without
 * computing (ONNX Runtime opens sessions) enumerate the same variants with `prepareVariants`.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { fillLabel, fillNeedsCache, zeroFill } from '../fills/fill-registry.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { Denoiser, PrepareOptions } from './denoiser.js';

/** One thing to prepare: a depth, the fill used there (none at k = 0) and a decoder stage. */
export interface PrepareVariant<T> {
  readonly k: number;
  readonly fill: FillStrategy<T> | undefined;
  readonly stage: number;
  readonly what: string;
}

function invalid(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `prepare: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

/**
 * The variants `options` asks for on a denoiser with `levels` levels and `stages` decoder stages,
 * in the order a sampling run meets them (full depth first, which also fills a cache).
 *
 * @throws LevelskipError `INVALID_OPTION` naming the field for a depth or stage out of range or a
 *   batch that is not a positive integer.
 */
export function prepareVariants<T>(levels: number, stages: number, options: PrepareOptions<T> = {}): PrepareVariant<T>[] {
  const ks = options.ks ?? Array.from({ length: levels }, (_, k) => k);
  const stageList = options.stages ?? Array.from({ length: stages }, (_, s) => s);
  const fills = options.fills ?? [zeroFill];
  for (const k of ks) {
    if (!(Number.isInteger(k) && k >= 0 && k < levels)) throw invalid('ks', `holds ${String(k)}; depths are integers in [0, ${levels - 1}] for this ${levels}-level U-Net`);
  }
  for (const s of stageList) {
    if (!(Number.isInteger(s) && s >= 0 && s < stages)) throw invalid('stages', `holds ${String(s)}; this U-Net has decoder stages 0..${stages - 1}`);
  }
  if (options.batch !== undefined && !(Number.isInteger(options.batch) && options.batch >= 1 && options.batch <= 65_536)) {
    throw invalid('batch', `must be an integer in [1, 65536], got ${String(options.batch)}`);
  }
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  const variants: PrepareVariant<T>[] = [];
  for (const stage of stageList) {
    if (!sorted.includes(0) && fills.some(fillNeedsCache)) variants.push({ k: 0, fill: undefined, stage, what: `k=0 stage=${stage}` });
    for (const k of sorted) {
      if (k === 0) variants.push({ k, fill: undefined, stage, what: `k=0 stage=${stage}` });
      else for (const fill of fills) variants.push({ k, fill, stage, what: `k=${k} fill=${fillLabel(fill)} stage=${stage}` });
    }
  }
  return variants;
}

/**
 * Prepares `denoiser` by predicting once per variant on a zero batch (results discarded). A
 * `cache` fill gets a cache that its stage's full-depth variant filled first.
 *
 * @throws LevelskipError as `prepareVariants`, `ABORTED` when `options.signal` aborts, and
 *   whatever `predict` throws for an unsupported fill.
 */
export async function prepareByPrediction<T>(denoiser: Denoiser<T>, stages: number, options: PrepareOptions<T> = {}): Promise<void> {
  const variants = prepareVariants(denoiser.levels, stages, options);
  const { spec, ops } = denoiser;
  const batch = options.batch ?? 1;
  const x = ops.zeros([batch, spec.inChannels, spec.imageSize, spec.imageSize]);
  const caches = new Map<number, ReturnType<Denoiser<T>['createFeatureCache']>>();
  try {
    for (const [i, variant] of variants.entries()) {
      if (options.signal?.aborted) throw new LevelskipError('ABORTED', `prepare was aborted after ${i} of ${variants.length} variants`, { cause: options.signal.reason });
      const usesCache = variant.k === 0 || (variant.fill !== undefined && fillNeedsCache(variant.fill));
      let cache = caches.get(variant.stage);
      if (usesCache && cache === undefined && options.fills?.some(fillNeedsCache)) {
        cache = denoiser.createFeatureCache();
        caches.set(variant.stage, cache);
      }
      const eps = await denoiser.predict(x, 0, {
        k: variant.k,
        stage: variant.stage,
        ...(variant.fill === undefined ? {} : { fill: variant.fill }),
        ...(usesCache && cache !== undefined ? { cache } : {}),
      });
      ops.dispose(eps);
      options.onProgress?.({ done: i + 1, total: variants.length, what: variant.what });
    }
  } finally {
    ops.dispose(x);
    for (const cache of caches.values()) cache.dispose();
  }
}
