/**
 * How far an error in the sample at timestep s travels to the final sample, measured on a model
 * with a sampler: the `propagation` of a calibration table, which `optimalSchedule` weighs each
 * step's skipping error by (core's `errorWeights`: w_i = b_i² P(s_i)).
 *
 *   P(s) = E‖x̃_final − x_final‖² / ‖δx_s‖²
 *
 * A full-depth run is sampled once, recording the model's output at every step. For each measured
 * step i (t = t_i → s = t_{i+1}), the run is repeated with the same seed: the recorded outputs
 * replay steps before i (so nothing is recomputed and the sample at t_i is the same), step i's
 * prediction gets a perturbation δε of squared norm 1 per image, and the model runs the rest. The
 * sampler moves the sample at s by δx_s = b_i δε (b_i from core's `stepCoefficients`, the weight of
 * ε in the update), so P(s) = E‖x̃_final − x_final‖² / b_i². The perturbation's direction is the
 * model's own skipping error there (ε_k − ε_0 at the deepest k with the zero fill, normalised): the
 * kind of error the schedule makes; a seeded Gaussian direction where that error vanishes.
 *
 * Models that predict v or x₀ get the output perturbation that is δε after conversion: at a fixed
 * x_t an output error δ is an ε error of √ᾱ δ (v) or −√ᾱ/√(1 − ᾱ) δ (x₀).
 *
 * Cost: one run, plus n − i model calls for each measured step i (about n·points/2 in all).
 */
import {
  LevelskipError,
  SeededRng,
  calibratedSamplerKind,
  stepCoefficients,
  zeroFill,
  type CalibrationPropagation,
  type Denoiser,
  type PredictOptions,
} from '@levelskip/core';
import { sample } from '../sample.js';
import type { Sampler } from '../sampler.js';

export interface MeasurePropagationOptions {
  /** The sampler to measure with (`ddim`, `ddpm` or `dpmSolverPlusPlus`), on the model's noise schedule. */
  readonly sampler: Sampler;
  /** DDIM's η the sampler was built with (a `Sampler` does not expose it; default 0). */
  readonly eta?: number;
  /** Steps at which to perturb (default 8), spread evenly over the run (the last step needs none: P = 1 after it). */
  readonly points?: number;
  /** Images per run (default 8). */
  readonly batch?: number;
  /** Seed of the runs' noise (default 0). */
  readonly seed?: number;
  /** Called after each measured step. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
  readonly signal?: AbortSignal;
}

function invalid(field: string, message: string): LevelskipError {
  return new LevelskipError('INVALID_OPTION', `measurePropagation: ${field} ${message}`, { issues: [{ path: [field], message }] });
}

/** A denoiser that answers from `answer` and otherwise from `base` (tensors in and out belong to the caller, as for any denoiser). */
function wrapped<T>(base: Denoiser<T>, answer: (x: T, t: number, step: number, options: PredictOptions<T> | undefined) => Promise<T>): Denoiser<T> {
  let step = 0;
  return {
    specificationVersion: base.specificationVersion,
    spec: base.spec,
    levels: base.levels,
    backend: base.backend,
    ops: base.ops,
    predict: (x, timesteps, options) => answer(x, typeof timesteps === 'number' ? timesteps : timesteps[0]!, step++, options),
    createFeatureCache: () => base.createFeatureCache(),
    dispose() {},
  };
}

/**
 * Measures P(s) at `points` steps of `sampler` (see the file comment), for a calibration table's
 * `propagation`.
 *
 * @throws LevelskipError `INVALID_OPTION` naming the option (a sampler without derived step
 *   coefficients: annealed Langevin; bad counts), `ABORTED` when `signal` fires, and whatever the
 *   denoiser throws.
 *
 * @example
 * ```ts
 * const sampler = ddim({ steps: 50, eta: 1 });
 * const table = { ...(await calibrate(denoiser, { data })), propagation: await measurePropagation(denoiser, { sampler, eta: 1 }) };
 * ```
 */
export async function measurePropagation<T>(denoiser: Denoiser<T>, options: MeasurePropagationOptions): Promise<CalibrationPropagation> {
  const { sampler } = options;
  const kind = calibratedSamplerKind(sampler?.kind);
  const eta = kind === 'ddim' ? (options.eta ?? 0) : 0;
  const batch = options.batch ?? 8;
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= 4096)) throw invalid('batch', `must be an integer in [1, 4096], got ${String(batch)}`);
  const seed = options.seed ?? 0;
  const timesteps = sampler.timesteps;
  const n = timesteps.length;
  if (n < 2) throw invalid('sampler', 'needs at least 2 steps (after the last step there is nothing to propagate)');
  const points = options.points ?? 8;
  if (!(Number.isInteger(points) && points >= 1)) throw invalid('points', `must be an integer ≥ 1, got ${String(points)}`);
  const count = Math.min(points, n - 1);
  const steps = [...new Set(Array.from({ length: count }, (_, j) => (count === 1 ? 0 : Math.round((j * (n - 2)) / (count - 1)))))];
  const { ops } = denoiser;
  const perImage = denoiser.spec.inChannels * denoiser.spec.imageSize * denoiser.spec.imageSize;
  const deepest = denoiser.levels - 1;
  const common = { sampler, batch, seed, checkFiniteEvery: 0, ...(options.signal === undefined ? {} : { signal: options.signal }) };

  // The reference run, recording the model's output at every step.
  const recorded: Float32Array[] = [];
  const reference = await sample({
    ...common,
    denoiser: wrapped(denoiser, async (x, t, _step, predictOptions) => {
      const out = await denoiser.predict(x, t, predictOptions);
      recorded.push(await ops.toFloat32(out));
      return out;
    }),
  });
  const shape = [batch, denoiser.spec.inChannels, denoiser.spec.imageSize, denoiser.spec.imageSize];
  const direction = new SeededRng(seed, 7);
  const factors: number[] = [];
  const measured: number[] = [];
  for (const [done, i] of steps.entries()) {
    const perturbed = await sample({
      ...common,
      denoiser: wrapped(denoiser, async (x, t, step, predictOptions) => {
        if (step < i) return ops.fromFloat32(recorded[step]!, shape);
        if (step > i) return denoiser.predict(x, t, predictOptions);
        const exact = recorded[i]!;
        let delta: Float32Array;
        if (deepest > 0) {
          const skipped = await denoiser.predict(x, t, { k: deepest, fill: zeroFill });
          try {
            // The direction only: output and ε errors are parallel at a fixed x_t.
            const values = await ops.toFloat32(skipped);
            delta = values.map((v, j) => v - exact[j]!);
          } finally {
            ops.dispose(skipped);
          }
        } else delta = new Float32Array(exact.length);
        // Each image's perturbation scaled to ‖δε‖² = 1 (a seeded Gaussian direction where the skip changes nothing).
        for (let b = 0; b < batch; b++) {
          const image = delta.subarray(b * perImage, (b + 1) * perImage);
          let norm = Math.sqrt(image.reduce((sum, v) => sum + v * v, 0));
          if (!(norm > 1e-12)) {
            image.set(direction.normal(perImage));
            norm = Math.sqrt(image.reduce((sum, v) => sum + v * v, 0));
          }
          for (let j = 0; j < image.length; j++) image[j] = image[j]! / norm;
        }
        // δε as an output perturbation (v and x₀ models: see the file comment).
        const alphaBar = sampler.noiseSchedule.alphasCumprod[t]!;
        const prediction = denoiser.spec.prediction;
        const perOutput = prediction === 'v' ? Math.sqrt(alphaBar) : prediction === 'sample' ? -Math.sqrt(alphaBar) / Math.sqrt(1 - alphaBar) : 1;
        return ops.fromFloat32(exact.map((v, j) => v + delta[j]! / perOutput), shape);
      }),
    });
    let moved = 0;
    for (let j = 0; j < reference.images.length; j++) moved += (perturbed.images[j]! - reference.images[j]!) ** 2;
    const s = timesteps[i + 1]!;
    const { b } = stepCoefficients(kind, sampler.noiseSchedule, timesteps[i]!, s, eta);
    measured.push(s);
    factors.push(Math.max(moved / batch / (b * b), Number.MIN_VALUE));
    options.onProgress?.({ done: done + 1, total: steps.length });
  }
  // Increasing timesteps, as the table stores them.
  const order = measured.map((_, j) => j).sort((a, c) => measured[a]! - measured[c]!);
  return { sampler: kind, eta, steps: n, samples: batch, timesteps: order.map((j) => measured[j]!), factors: order.map((j) => factors[j]!) };
}
