/**
 * A compute backend: creates denoisers from a spec and weights and provides tensor ops.
 * Backends are explicit instances (`createTfjsBackend()`, `createOnnxBackend()`,
 * `createReferenceBackend()`); there is no global registry.
 */
import type { BuiltinFillKind } from '../fills/fill-registry.js';
import type { UNetSpec, UNetSpecInput } from '../spec/unet-spec.js';
import type { DisposableDenoiser, SpecificationVersion } from './denoiser.js';
import type { FillStrategy } from '../fills/fill-strategy.js';
import type { NamedTensors, TensorOps } from './tensor-ops.js';

export interface BackendCapabilities {
  /** Built-in fills this backend runs inside one fused computation (others go through the generic composition). */
  readonly fusedFills: readonly BuiltinFillKind[];
  /** Whether custom fill functions are supported. */
  readonly customFills: boolean;
  /** Whether the backend can train. */
  readonly training: boolean;
  /** Devices or engines in use, e.g. ['wasm'] or ['cpu']. */
  readonly devices: readonly string[];
}

export interface DenoiserOptions<T> {
  /** The fill this model will be used with; checked now so an impossible choice fails at build time. */
  readonly fill?: FillStrategy<T>;
}

export interface Backend<T> {
  readonly specificationVersion: SpecificationVersion;
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly ops: TensorOps<T>;
  /**
   * Builds a denoiser. `weights` must hold exactly the tensors `parameterLayout(spec)` lists,
   * with those shapes; otherwise a `LevelskipError('WEIGHTS_MISMATCH')` names the first problems.
   */
  createDenoiser(spec: UNetSpec | UNetSpecInput, weights: NamedTensors, options?: DenoiserOptions<T>): Promise<DisposableDenoiser<T>>;
  /** Releases backend-wide resources. */
  dispose(): void;
  /** `dispose()`, for `using backend = …` (and `await using`). */
  [Symbol.dispose](): void;
}
