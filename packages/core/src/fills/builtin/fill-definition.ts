/**
 * What a built-in fill is, written once as data and functions. The registry (`fill-registry.ts`)
 * lists one definition per built-in fill; parsing, labels, validation, help text, the lists of
 * trainable, exportable and calibratable fills, the generic composition and the conformance cases
 * are all derived from it, so adding a built-in fill means writing one definition.
 */
import type { TensorOps } from '../../backend/tensor-ops.js';
import type { UNetSpec } from '../../spec/unet-spec.js';
import type { FillContext } from '../fill-strategy.js';

/** A built-in fill's value: plain data with a `kind` (and the fill's own settings, e.g. the cache's `interval`). */
export interface BuiltinFillValue {
  readonly kind: string;
}

/**
 * The learned side paths of the interpolate fill, as a backend's per-block operations provide them
 * (core's `UNetBlocks` has both). Fills that do not use side paths ignore them.
 */
export interface SidePathBlocks<T> {
  /** Bicubic resize of encoder level `level`'s features to the middle size, then a 1×1 projection. */
  sideEncoder(level: number, skip: T): T;
  /** Bicubic resize of the middle estimate to level `level`'s size, then a 1×1 projection. */
  sideDecoder(stage: number, level: number, middle: T): T;
}

/**
 * One built-in fill. `F` is its value type (`{ kind: 'zero' }`, `{ kind: 'cache', interval? }`, …);
 * `Fusable` records, in the type, whether a compiled graph can hold it, so that a backend's table of
 * graph emitters (`Record<GraphFusableFillKind, …>`) fails to compile until it covers a new fill.
 */
export interface FillDefinition<F extends BuiltinFillValue = BuiltinFillValue, Fusable extends boolean = boolean> {
  readonly kind: F['kind'];
  /** One line for help text and docs: what the fill feeds the first computed decoder level. */
  readonly description: string;
  /** How the fill is written in CLI flags, pipeline options and model.json (`['cache', 'cache:m']`). */
  readonly syntax: readonly string[];
  /**
   * The fill written as `text`, or undefined when `text` is not this fill's syntax at all.
   *
   * @throws LevelskipError `INVALID_FILL` when `text` is this fill with a malformed setting (`cache:0`).
   */
  parse(text: string): F | undefined;
  /** The fill in its written form (`parse` reads it back). */
  label(fill: F): string;
  /**
   * Checks the fill's own settings (the cache's `interval`).
   *
   * @throws LevelskipError `INVALID_FILL` naming the field and the fix.
   */
  check(fill: F): void;
  /** Why the fill cannot run on a model built from `spec` (and what to do), or undefined when it can. */
  supports(spec: UNetSpec): string | undefined;
  /** Whether a model can be trained with this fill (the cache has nothing to train: it reuses an earlier step's features). */
  readonly trainable: boolean;
  /** Whether the fill needs a per-run `FeatureCache` (its features come from an earlier step of the run). */
  readonly stateful: boolean;
  /**
   * Whether a compiled graph can hold the fill: stateless and computed from the skip stack (and the
   * model's weights), so a backend that compiles graphs fuses it and `exportOnnx` can export it.
   */
  readonly graphFusable: Fusable;
  /** Whether an export without an explicit fill list includes the fill (graph-fusable fills only). */
  readonly exportedByDefault: boolean;
  /**
   * Whether `calibrate` (and `levelskip calibrate`, `--schedule auto:f`) measures the fill when no
   * fill list is given, on models that support it. Each fill calibrated adds a pass over every
   * timestep and depth, so the default covers the fills models are trained with or run free of
   * training (zero, interpolate, cache), not every variant.
   */
  readonly calibratedByDefault: boolean;
  /**
   * The fill over core's `TensorOps`, as the generic composition (`runLevelSkippingUNet`: the
   * reference and tfjs backends, training) computes it. Returns a new tensor of `context.shape`
   * that the caller owns; the context's tensors are not consumed.
   */
  apply<T>(context: FillContext<T>, ops: TensorOps<T>, sidePaths: SidePathBlocks<T>): T;
  /**
   * The depth each step of a run really uses, given the depths `ks` a schedule asks for (in step
   * order) and each step's decoder stage. Absent: the asked depths run as they are.
   */
  plannedDepths?(ks: readonly number[], fill: F, stages: readonly number[] | undefined): number[];
}

/**
 * A frozen fill definition. The type arguments (the fill's value type and whether a compiled graph
 * can hold it) type its functions and record `graphFusable` in the type: each file of
 * `fills/builtin/` defines its fill as `defineFill<ZeroFill, true>({ kind: 'zero', … })`.
 */
export function defineFill<F extends BuiltinFillValue, Fusable extends boolean>(definition: FillDefinition<F, Fusable>): FillDefinition<F, Fusable> {
  return Object.freeze({ ...definition, syntax: Object.freeze([...definition.syntax]) });
}

/**
 * What a stateless fill whose value is just its kind (`{ kind: 'zero' }`) writes: the rest of its
 * definition has these defaults: written as its kind alone, no settings to check, trainable,
 * computed in-graph (`graphFusable: true`), exported and calibrated by default, supported by every
 * spec.
 */
export interface StatelessFillOptions<K extends string> {
  readonly kind: K;
  readonly description: string;
  apply<T>(context: FillContext<T>, ops: TensorOps<T>, sidePaths: SidePathBlocks<T>): T;
  /** Default: every spec. */
  supports?(spec: UNetSpec): string | undefined;
  /** Default: true. */
  readonly trainable?: boolean;
  /** Default: true. */
  readonly exportedByDefault?: boolean;
  /** Default: true. */
  readonly calibratedByDefault?: boolean;
}

/**
 * A stateless, graph-fusable fill with no settings, defined by its differences from the defaults
 * (`StatelessFillOptions`). Returns its frozen value (`{ kind }`) and its registry entry.
 *
 * @example
 * ```ts
 * const { fill: zeroFill, definition } = defineStatelessFill({
 *   kind: 'zero',
 *   description: 'zeros in place of the skipped levels',
 *   apply: (context, ops) => ops.zeros(context.shape),
 * });
 * ```
 */
export function defineStatelessFill<K extends string>(
  options: StatelessFillOptions<K>,
): { readonly fill: { readonly kind: K }; readonly definition: FillDefinition<{ readonly kind: K }, true> } {
  const fill = Object.freeze({ kind: options.kind });
  const definition = defineFill<{ readonly kind: K }, true>({
    kind: options.kind,
    description: options.description,
    syntax: [options.kind],
    parse: (text: string) => (text === options.kind ? fill : undefined),
    label: () => options.kind,
    check: () => undefined,
    supports: options.supports ?? (() => undefined),
    trainable: options.trainable ?? true,
    stateful: false,
    graphFusable: true,
    exportedByDefault: options.exportedByDefault ?? true,
    calibratedByDefault: options.calibratedByDefault ?? true,
    apply: options.apply,
  });
  return { fill, definition };
}
