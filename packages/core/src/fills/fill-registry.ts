/**
 * The fill registry: every built-in fill, defined once (`builtin/<name>-fill.ts`), and everything
 * derived from the list — parsing the written form (`parseFill`), labels, validation against a
 * spec, the lists of trainable, exportable (graph-fusable) and calibratable fills, and help text.
 * CLI flags, pipeline options, ONNX export, calibration, the conformance suite and the generic
 * composition all read this list, so a new built-in fill is one definition here.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import { cacheFillDefinition } from './builtin/cache-fill.js';
import { duplicateFillDefinition } from './builtin/duplicate-fill.js';
import type { FillDefinition } from './builtin/fill-definition.js';
import { interpolateFillDefinition } from './builtin/interpolate-fill.js';
import { meanFillDefinition } from './builtin/mean-fill.js';
import { zeroFillDefinition } from './builtin/zero-fill.js';
import type { FillStrategy } from './fill-strategy.js';

export * from './builtin/fill-definition.js';
export * from './builtin/zero-fill.js';
export * from './builtin/duplicate-fill.js';
export * from './builtin/interpolate-fill.js';
export * from './builtin/cache-fill.js';
export * from './builtin/mean-fill.js';

/** Every built-in fill's definition, in the order lists and help text show them. */
export const builtinFills = Object.freeze([
  zeroFillDefinition,
  duplicateFillDefinition,
  interpolateFillDefinition,
  cacheFillDefinition,
  meanFillDefinition,
] as const);

type BuiltinFillDefinition = (typeof builtinFills)[number];
type FillOf<D> = D extends FillDefinition<infer F, boolean> ? F : never;
type GraphFusableKindOf<D> = D extends FillDefinition<infer F, true> ? F['kind'] : never;

/** A built-in fill's value (`{ kind: 'zero' }`, `{ kind: 'cache', interval: 3 }`, …): plain data a backend can fuse. */
export type BuiltinFill = FillOf<BuiltinFillDefinition>;
export type BuiltinFillKind = BuiltinFill['kind'];
/** Built-in fills a compiled graph can hold (stateless, computed from the skip stack and the weights). */
export type GraphFusableFillKind = GraphFusableKindOf<BuiltinFillDefinition>;
export type GraphFusableFill = Extract<BuiltinFill, { readonly kind: GraphFusableFillKind }>;

const definitions: ReadonlyMap<string, FillDefinition> = new Map(builtinFills.map((d) => [d.kind, d as FillDefinition]));

const kindsWhere = (keep: (definition: FillDefinition) => boolean): string[] =>
  builtinFills.filter((d) => keep(d as FillDefinition)).map((d) => d.kind);

/** The built-in fills' kinds, in registry order. */
export const builtinFillKinds: readonly BuiltinFillKind[] = Object.freeze(builtinFills.map((d) => d.kind));
/** Fills a model can be trained with (all but the cache, which reuses an earlier step's features). */
export const trainableFillKinds: readonly BuiltinFillKind[] = Object.freeze(kindsWhere((d) => d.trainable) as BuiltinFillKind[]);
/** Fills a compiled graph holds, i.e. those `exportOnnx` can export and backend-onnx fuses. */
export const exportableFillKinds: readonly GraphFusableFillKind[] = Object.freeze(kindsWhere((d) => d.graphFusable) as GraphFusableFillKind[]);
/** Fills that need no per-run `FeatureCache`. */
export const statelessFillKinds: readonly BuiltinFillKind[] = Object.freeze(kindsWhere((d) => !d.stateful) as BuiltinFillKind[]);
/** Every written form of the built-in fills, for help text and error messages: `zero`, …, `cache:m`, …. */
export const builtinFillSyntax: readonly string[] = Object.freeze(builtinFills.flatMap((d) => d.syntax));

/** Whether `kind` names a built-in fill. */
export function isBuiltinFillKind(kind: unknown): kind is BuiltinFillKind {
  return typeof kind === 'string' && definitions.has(kind);
}

/**
 * The registry entry of a built-in fill.
 *
 * @throws LevelskipError `INVALID_FILL` for a kind that is not a built-in fill.
 */
export function fillDefinition<K extends BuiltinFillKind>(kind: K): FillDefinition<Extract<BuiltinFill, { readonly kind: K }>> {
  const definition = definitions.get(kind);
  if (definition === undefined) {
    throw new LevelskipError('INVALID_FILL', `Unknown fill kind "${String(kind)}": use ${builtinFillKinds.join(', ')} or a custom fill (customFill(name, fn))`);
  }
  return definition as unknown as FillDefinition<Extract<BuiltinFill, { readonly kind: K }>>;
}

/** Whether a fill is a built-in one whose compiled graph a backend can fuse. */
export function isGraphFusableFill<T>(fill: FillStrategy<T>): fill is GraphFusableFill {
  return fill.kind !== 'custom' && definitions.get(fill.kind)?.graphFusable === true;
}

/** Whether a fill needs a per-run `FeatureCache` (`predict` options `cache`). */
export function fillNeedsCache<T>(fill: FillStrategy<T>): boolean {
  return fill.kind !== 'custom' && definitions.get(fill.kind)?.stateful === true;
}

/** The built-in fills a model built from `spec` can run (interpolate only with side paths). */
export function fillsSupportedBy(spec: UNetSpec): BuiltinFillKind[] {
  return builtinFillKinds.filter((kind) => definitions.get(kind)!.supports(spec) === undefined);
}

/**
 * The fills `calibrate` measures on a model built from `spec` when no list is given: those the
 * registry marks `calibratedByDefault` (zero, interpolate, cache) that the spec supports.
 *
 * @example
 * ```ts
 * defaultCalibrationFills(mnistSmall); // ['zero', 'cache'] (no side paths: no interpolate)
 * ```
 */
export function defaultCalibrationFills(spec: UNetSpec): BuiltinFillKind[] {
  return fillsSupportedBy(spec).filter((kind) => defaultCalibrationFillKinds.includes(kind));
}

/** The fills the registry marks `calibratedByDefault`, whatever the model (help text lists them). */
export const defaultCalibrationFillKinds: readonly BuiltinFillKind[] = Object.freeze(kindsWhere((d) => d.calibratedByDefault) as BuiltinFillKind[]);

/**
 * One line per built-in fill, `syntax — description`, for help text and docs.
 *
 * @example
 * ```ts
 * builtinFillHelp()[0]; // 'zero — zeros in place of the skipped levels (the paper's zero fill)'
 * ```
 */
export function builtinFillHelp(): string[] {
  return builtinFills.map((d) => `${d.syntax.join(' | ')} — ${d.description}`);
}

/**
 * A built-in fill in its written form (`zero`, `cache:3`, …), or undefined when `text` is none.
 *
 * @throws LevelskipError `INVALID_FILL` when `text` is a built-in fill with a malformed setting (`cache:0`).
 */
export function tryParseFill(text: string): BuiltinFill | undefined {
  for (const definition of definitions.values()) {
    const fill = definition.parse(text);
    if (fill !== undefined) return fill as BuiltinFill;
  }
  return undefined;
}

/** Whether `text` is a built-in fill in its written form, with valid settings (`cache:3` is, `cache:0` is not). */
export function isBuiltinFillLabel(text: string): boolean {
  try {
    return tryParseFill(text) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Parses a built-in fill in its written form (`'zero'`, `'duplicate'`, `'interpolate'`, `'cache'`,
 * `'cache:m'` for the cache fill with refresh interval m, `'mean'`: `builtinFillSyntax`), e.g. from
 * a CLI flag; the inverse of `fillLabel`.
 *
 * @throws LevelskipError `INVALID_FILL` for an unknown name or a malformed setting.
 */
export function parseFill(name: string): BuiltinFill {
  const fill = tryParseFill(name);
  if (fill === undefined) {
    throw new LevelskipError('INVALID_FILL', `Unknown fill "${name}": use one of ${builtinFillSyntax.join(', ')} (cache:m recomputes the cache every m steps), or a custom fill function`);
  }
  return fill;
}

/** A short label for tables and logs (`parseFill` reads back the built-in ones; custom fills are `custom:<name>`). */
export function fillLabel<T>(fill: FillStrategy<T>): string {
  if (fill.kind === 'custom') return `custom:${fill.name}`;
  return fillDefinition(fill.kind).label(fill as never);
}

/**
 * Checks that a fill can run on a model: called when a denoiser is built and before a sampling
 * run starts, so an impossible combination fails at once, not at step 700.
 *
 * @throws LevelskipError `INVALID_FILL` naming the fill, what is wrong and the fix.
 */
export function assertFillSupported<T>(spec: UNetSpec, fill: FillStrategy<T>): void {
  if (typeof fill !== 'object' || fill === null || typeof (fill as { kind?: unknown }).kind !== 'string') {
    throw new LevelskipError('INVALID_FILL', 'fill must be an object with a kind, e.g. { kind: "zero" } or customFill(name, fn)');
  }
  if (fill.kind === 'custom') {
    if (typeof fill.fill !== 'function') {
      throw new LevelskipError('INVALID_FILL', `custom fill "${fill.name}" has no fill function; build it with customFill(name, fn)`);
    }
    return;
  }
  const definition = definitions.get(fill.kind);
  if (definition === undefined) {
    throw new LevelskipError('INVALID_FILL', `Unknown fill kind "${(fill as { kind: string }).kind}": use ${builtinFillKinds.join(', ')} or custom`);
  }
  definition.check(fill);
  const reason = definition.supports(spec);
  if (reason !== undefined) {
    const others = fillsSupportedBy(spec);
    const choices = others.length > 1 ? `${others.slice(0, -1).join(', ')} or ${others[others.length - 1]!}` : others.join('');
    throw new LevelskipError('INVALID_FILL', `fill "${fill.kind}" ${reason}; use ${choices}`);
  }
}

/**
 * The depth each step of a run really uses, given the depths `ks` a skip schedule asks for (in
 * step order) and the fill. Only fills that plan their own depths change them: the cache fill's
 * steps run at full depth when no earlier step (of the same decoder stage, given `stages`) computed
 * the features they read, or (cache:m) when those are m or more steps old. The sampling loop and the
 * FLOP prediction both use this, so what is predicted is what runs.
 */
export function cacheDepths<T>(ks: readonly number[], fill: FillStrategy<T> | undefined, stages?: readonly number[]): number[] {
  if (fill === undefined || fill.kind === 'custom') return [...ks];
  const definition = definitions.get(fill.kind);
  return definition?.plannedDepths === undefined ? [...ks] : definition.plannedDepths(ks, fill, stages);
}
