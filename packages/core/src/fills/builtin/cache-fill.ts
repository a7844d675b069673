/**
 * The cache fill (beyond the paper; training-free, in the spirit of DeepCache: Ma et al.,
 * "DeepCache: Accelerating Diffusion Models for Free", 2023): the deep features a step skips are
 * those the most recent step of the same sampling run computed. They live in a per-run
 * `FeatureCache`; a step whose cache entry is still empty, or (with `interval` m) m or more steps
 * old, runs at full depth instead and refreshes it (`cacheDepths`).
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { defineFill } from './fill-definition.js';

/**
 * Deep features reused from the most recent step of the same sampling run that computed them
 * (training-free, in the spirit of DeepCache: Ma et al., "DeepCache: Accelerating Diffusion Models
 * for Free", 2023). Needs a per-run `FeatureCache` in the predict options. A step whose cache
 * entry is still empty runs at full depth and fills it; with `interval` m, so does a step whose
 * cached features are m or more steps old (DeepCache's cache interval: with a constant k = N − 1
 * schedule, full depth at steps 0, m, 2m, …). `cacheDepths` computes the depths this gives.
 */
export interface CacheFill {
  readonly kind: 'cache';
  /** Recompute the cached features at full depth once they are this many steps old (an integer ≥ 1); undefined: never. */
  readonly interval?: number;
}

export const cacheFill: CacheFill = Object.freeze({ kind: 'cache' });

function checkCacheInterval(interval: unknown): number {
  if (!(typeof interval === 'number' && Number.isSafeInteger(interval) && interval >= 1)) {
    throw new LevelskipError('INVALID_FILL', `cache fill interval must be an integer ≥ 1 (steps between full-depth refreshes, e.g. cache:3), got ${String(interval)}`, {
      issues: [{ path: ['fill', 'interval'], message: 'must be an integer ≥ 1' }],
    });
  }
  return interval;
}

/** The cache fill that recomputes its features at full depth every `interval` steps (DeepCache's uniform caching with k = N − 1). */
export function cacheFillEvery(interval: number): CacheFill {
  return Object.freeze({ kind: 'cache', interval: checkCacheInterval(interval) });
}

/**
 * The depths a run with the cache fill really uses, given the depths `ks` a skip schedule asks for
 * (in step order): a step asking for k > 0 reads the features cached at its cut level, which the
 * most recent earlier step with a smaller k computed (a step computes every level above its own
 * cut); if no earlier step did, or (with `interval` m) that step is m or more steps back, the step
 * runs at full depth instead, refreshing every level. Multi-decoder U-Nets cache per decoder stage:
 * only earlier steps of the same stage count.
 */
function cacheFillDepths(ks: readonly number[], fill: CacheFill, stages: readonly number[] | undefined): number[] {
  if (stages !== undefined && stages.length !== ks.length) {
    throw new LevelskipError('INVALID_OPTION', `cacheDepths: stages has ${stages.length} entries but ks has ${ks.length}; pass one stage per step`);
  }
  const interval = fill.interval ?? Number.POSITIVE_INFINITY;
  const stageOf = (step: number): number => stages?.[step] ?? 0;
  const out: number[] = [];
  ks.forEach((asked, step) => {
    let k = asked;
    if (k > 0) {
      let source = step - 1;
      while (source >= 0 && (stageOf(source) !== stageOf(step) || out[source]! >= k)) source--;
      if (source < 0 || step - source >= interval) k = 0;
    }
    out.push(k);
  });
  return out;
}

/** The cache fill's registry entry. */
export const cacheFillDefinition = defineFill<CacheFill, false>({
  kind: 'cache',
  description: 'deep features cached at an earlier full-depth step of the run (DeepCache-style; cache:m refreshes them every m steps)',
  syntax: ['cache', 'cache:m'],
  parse: (text: string): CacheFill | undefined => {
    if (text === 'cache') return cacheFill;
    const interval = /^cache:(.*)$/.exec(text);
    if (interval === null) return undefined;
    const digits = interval[1]!;
    if (!/^\d+$/.test(digits)) checkCacheInterval(digits);
    return cacheFillEvery(Number(digits));
  },
  label: (fill: CacheFill) => (fill.interval === undefined ? 'cache' : `cache:${fill.interval}`),
  check: (fill: CacheFill) => {
    if (fill.interval !== undefined) checkCacheInterval(fill.interval);
  },
  supports: () => undefined,
  // It reuses features of an earlier sampling step: there is nothing to train (a model trained
  // with zero or duplicate samples with it).
  trainable: false,
  stateful: true,
  graphFusable: false,
  exportedByDefault: false,
  // Training-free: calibrated by default, so that any model can plan an auto cache schedule.
  calibratedByDefault: true,
  apply: (context, ops) => {
    // The composition runs a step at full depth until its cache holds the cut level's features.
    if (context.cached === undefined) {
      throw new LevelskipError('INVALID_FILL', `fill "cache": no cached features at level ${context.level}; pass the run's FeatureCache in the predict options`);
    }
    return ops.clone(context.cached);
  },
  plannedDepths: cacheFillDepths,
});
