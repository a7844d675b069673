/**
 * The checks every backend's `createDenoiser` makes before building anything, in one place, so
 * bad input fails the same way (and at build time, not at step 700) on every backend.
 */
import { validateWeights } from '../checkpoint/validate-weights.js';
import { assertFillSupported } from '../fills/fill-registry.js';
import { describeArchitecture, type Architecture } from '../geometry/architecture.js';
import { parseUNetSpec, type UNetSpec, type UNetSpecInput } from '../spec/unet-spec.js';
import type { DenoiserOptions } from './backend.js';
import type { NamedTensors } from './tensor-ops.js';

/** A denoiser's checked inputs: the parsed spec and its architecture, derived once for the denoiser's lifetime. */
export interface CheckedDenoiserInputs {
  readonly spec: UNetSpec;
  /** `describeArchitecture(spec)`: what the denoiser's blocks, plans and `predict` checks read. */
  readonly architecture: Architecture;
}

/**
 * Parses the spec (idempotent for an already parsed one), derives its architecture (once: the
 * denoiser keeps it and every prediction reads it), checks the weights against its parameter
 * layout and the intended fill against the spec.
 *
 * @throws LevelskipError `INVALID_SPEC`, `WEIGHTS_MISMATCH` or `INVALID_FILL`.
 */
export function resolveDenoiserInputs<T>(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options: DenoiserOptions<T> = {}): CheckedDenoiserInputs {
  const parsed = parseUNetSpec(spec);
  const architecture = describeArchitecture(parsed);
  validateWeights(architecture, weights);
  if (options.fill !== undefined) assertFillSupported(parsed, options.fill);
  return { spec: parsed, architecture };
}

/**
 * `resolveDenoiserInputs`, returning the parsed spec only.
 *
 * @throws LevelskipError `INVALID_SPEC`, `WEIGHTS_MISMATCH` or `INVALID_FILL`.
 */
export function checkDenoiserInputs<T>(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options: DenoiserOptions<T> = {}): UNetSpec {
  return resolveDenoiserInputs(spec, weights, options).spec;
}
