import { describe, expect, it } from 'vitest';
import { predictionTypeOf, predictionTypes, specPredictionOf, specPredictions } from '../src/index.js';

describe('prediction spellings', () => {
  it("maps the spec's names to diffusers' prediction_type names (diffusers v0.31 scheduling_ddim.py spelling)", () => {
    expect(predictionTypeOf('eps')).toBe('epsilon');
    expect(predictionTypeOf('v')).toBe('v_prediction');
    expect(predictionTypeOf('sample')).toBe('sample');
  });
  it('the two maps are inverse bijections over the listed names', () => {
    expect(predictionTypes.map(specPredictionOf)).toEqual(specPredictions);
    expect(specPredictions.map(predictionTypeOf)).toEqual(predictionTypes);
    expect(new Set(predictionTypes.map(specPredictionOf)).size).toBe(predictionTypes.length);
  });
});
