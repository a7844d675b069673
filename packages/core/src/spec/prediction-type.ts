/**
 * The two spellings of what a denoiser outputs, and the one map between them.
 *
 * A spec says `prediction: 'eps' | 'v' | 'sample'` (levelskip's short names); 🤗 diffusers'
 * scheduler configs, the checkpoint manifest's `sampling.prediction` and the samplers'
 * `prediction` option use diffusers' `prediction_type` spelling: `'epsilon' | 'v_prediction' |
 * 'sample'`. Every translation between the two goes through `predictionTypeOf` /
 * `specPredictionOf`, so the spellings cannot drift apart.
 */

/** What a spec says its model outputs: ε (`eps`), v (`v`) or x₀ (`sample`). */
export type SpecPrediction = 'eps' | 'v' | 'sample';

/** What the model outputs, in diffusers' `prediction_type` spelling. */
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

/** Every `PredictionType`, in diffusers' spelling (and in the order of `specPredictions`). */
export const predictionTypes: readonly PredictionType[] = Object.freeze(['epsilon', 'v_prediction', 'sample'] as const);

/** Every `SpecPrediction` (in the order of `predictionTypes`). */
export const specPredictions: readonly SpecPrediction[] = Object.freeze(['eps', 'v', 'sample'] as const);

const typeOfSpec: Readonly<Record<SpecPrediction, PredictionType>> = Object.freeze({ eps: 'epsilon', v: 'v_prediction', sample: 'sample' });
const specOfType: Readonly<Record<PredictionType, SpecPrediction>> = Object.freeze({ epsilon: 'eps', v_prediction: 'v', sample: 'sample' });

/** diffusers' `prediction_type` of a spec's `prediction`: `eps` → `epsilon`, `v` → `v_prediction`, `sample` → `sample`. */
export function predictionTypeOf(prediction: SpecPrediction): PredictionType {
  return typeOfSpec[prediction];
}

/** A spec's `prediction` for diffusers' `prediction_type`: the inverse of `predictionTypeOf`. */
export function specPredictionOf(type: PredictionType): SpecPrediction {
  return specOfType[type];
}
