/**
 * The checks every backend's `createDenoiser` makes before building anything, in one place, so
 * bad input fails the same way (and at build time, not at step 700) on every backend.
 */
import { validateWeights } from '../checkpoint/validate-weights.js';
import { assertFillSupported } from '../fills/fill-registry.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import type { DenoiserOptions } from './backend.js';
import type { NamedTensors } from './tensor-ops.js';

/**
 * Parses the spec (idempotent for an already parsed one), checks the weights against its
 * parameter layout and the intended fill against the spec. Returns the parsed spec.
 *
 * @throws LevelskipError `INVALID_SPEC`, `WEIGHTS_MISMATCH` or `INVALID_FILL`.
 */
export function checkDenoiserInputs<T>(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options: DenoiserOptions<T> = {}): UNetSpec {
  const parsed = parseUNetSpec(spec);
  validateWeights(parsed, weights);
  if (options.fill !== undefined) assertFillSupported(parsed, options.fill);
  return parsed;
}
