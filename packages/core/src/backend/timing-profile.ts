/**
 * An optional timing hook for sampling runs: where a run's time goes (the model's inference, the
 * sampler's arithmetic, noise, read-backs, the feature cache), recorded by the code that spends
 * it. Pass one as `sample({ profile })` (the sampling loop hands it on to every
 * `denoiser.predict`, whose backend may add spans of its own) or as `PredictOptions.profile`.
 *
 * Free when unused: instrumented code reads the clock only when a profile is given, so a run
 * without one does exactly what it did before. Timing belongs in benchmarks (`pnpm bench
 * overhead`); tests never assert on the numbers.
 */

/**
 * What a span measured.
 * - `predict`: one whole `denoiser.predict()` call, as the sampling loop sees it;
 * - `sampler`: the sampler's update of a step and the prediction-type conversion, noise excluded;
 * - `noise`: drawing a step's noise on the host and copying it in;
 * - `check`: reading the prediction back and scanning it for NaN and ±Inf;
 * - `run`: inside predict, the runtime's inference call (one ONNX Runtime `session.run`);
 * - `cacheStore` / `cacheLoad`: inside predict, putting deep features into the `FeatureCache`,
 *   and taking them out for a skipped step.
 */
export type ProfilePhase = 'predict' | 'sampler' | 'noise' | 'check' | 'run' | 'cacheStore' | 'cacheLoad';

/** One timed span. */
export interface ProfileSpan {
  readonly phase: ProfilePhase;
  /** Milliseconds (`performance.now()` differences). */
  readonly ms: number;
  /** The sampling step, 0-based (spans recorded by `sample()`). */
  readonly step?: number;
  /** Levels skipped by the prediction the span belongs to. */
  readonly k?: number;
  /** For `run`: which compiled graph ran (a backend's own name, e.g. `stage0-k2-zero`). */
  readonly graph?: string;
  /** For `run`: another graph ran before this one (a switch between ONNX Runtime sessions). */
  readonly switched?: boolean;
}

/** Receives spans as they are measured. */
export interface TimingProfile {
  record(span: ProfileSpan): void;
}

/** A `TimingProfile` that keeps every span, with sums for reports. */
export interface TimingRecorder extends TimingProfile {
  /** Every span recorded so far, in order. */
  readonly spans: readonly ProfileSpan[];
  /** Σ ms of the spans of `phase` (that also pass `where`, when given). */
  total(phase: ProfilePhase, where?: (span: ProfileSpan) => boolean): number;
  /** Forgets every span. */
  clear(): void;
}

/**
 * A recorder that keeps every span it is given.
 *
 * @example
 * ```ts
 * const profile = createTimingRecorder();
 * await sample({ denoiser, sampler: ddim({ steps: 50 }), seed: 0, profile });
 * console.log(profile.total('predict'), profile.total('sampler'));
 * ```
 */
export function createTimingRecorder(): TimingRecorder {
  const spans: ProfileSpan[] = [];
  return {
    spans,
    record(span) {
      spans.push(span);
    },
    total(phase, where) {
      let sum = 0;
      for (const span of spans) if (span.phase === phase && (where === undefined || where(span))) sum += span.ms;
      return sum;
    },
    clear() {
      spans.length = 0;
    },
  };
}
