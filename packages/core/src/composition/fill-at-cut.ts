/**
 * The fill at the cut of a skip plan: the context a fill sees (`fillContextAt`), a custom fill's
 * result checked and owned (`resolveCustomFill`: used by core's composition and by backends that run
 * custom fills between compiled graphs, e.g. backend-onnx), and the fill as the generic composition
 * computes it over `TensorOps` (`fillAtCut`).
 */
import type { TensorOps } from '../backend/tensor-ops.js';
import { LevelskipError } from '../errors/levelskip-error.js';
import type { Architecture } from '../geometry/architecture.js';
import { fillDefinition, type SidePathBlocks } from '../fills/fill-registry.js';
import type { CustomFill, FillContext, FillStrategy } from '../fills/fill-strategy.js';
import { plannedFillShape, type SkipPlan } from './skip-plan.js';

/** The tensors a fill context holds, from the traversal at the cut. */
export interface FillTensors<T> {
  readonly batch: number;
  /** The skip stack in push order (`conv_in`'s output first); its last entry is the cut level's skip. */
  readonly skips: readonly T[];
  /** Features cached by an earlier step at the cut level, if any. */
  readonly cached: T | undefined;
  readonly timesteps: readonly number[];
}

/**
 * The context of the fill at a plan's cut.
 *
 * @throws LevelskipError `INVALID_OPTION` when the plan skips nothing (k = 0: there is no fill).
 */
export function fillContextAt<T>(arch: Architecture, plan: SkipPlan, tensors: FillTensors<T>): FillContext<T> {
  const site = plan.fillSite;
  if (site === undefined) throw new LevelskipError('INVALID_OPTION', `a fill context needs k ≥ 1; this plan runs at k = ${plan.k} (the middle block runs, there is no fill)`);
  return {
    level: site.level,
    k: plan.k,
    levels: plan.levels,
    stage: plan.stage,
    shape: plannedFillShape(site, tensors.batch),
    skip: tensors.skips[tensors.skips.length - 1]!,
    skips: tensors.skips,
    cached: tensors.cached,
    timesteps: tensors.timesteps,
    spec: arch.spec,
  };
}

/**
 * Runs a custom fill and returns a tensor the caller owns: the result must have `context.shape`,
 * and a fill that hands back one of the context's tensors (the skip, another skip, the cached
 * features) gets a clone, since the caller disposes what it owns.
 *
 * @throws LevelskipError `INVALID_SHAPE` naming the fill, the shape it returned and the one it must return.
 */
export function resolveCustomFill<T>(fill: CustomFill<T>, context: FillContext<T>, ops: TensorOps<T>): T {
  const out = fill.fill(context, ops);
  const borrowed = out === context.skip || context.skips.includes(out) || out === context.cached;
  const shape = ops.shape(out);
  if (shape.length !== 4 || shape.some((d, i) => d !== context.shape[i])) {
    if (!borrowed) ops.dispose(out);
    throw new LevelskipError(
      'INVALID_SHAPE',
      `custom fill "${fill.name}" returned shape [${shape.join(', ')}]; at k = ${context.k} it must return [${context.shape.join(', ')}] (context.shape)`,
    );
  }
  return borrowed ? ops.clone(out) : out;
}

/**
 * The fill at the cut as the generic composition computes it: a built-in fill's registry entry over
 * `ops` (the interpolate fill with the backend's side-path blocks), a custom fill through
 * `resolveCustomFill`. The result belongs to the caller.
 */
export function fillAtCut<T>(
  plan: SkipPlan,
  fill: FillStrategy<T>,
  context: FillContext<T>,
  ops: TensorOps<T>,
  sidePaths: SidePathBlocks<T>,
): T {
  if (fill.kind === 'custom') return resolveCustomFill(fill, context, ops);
  if (plan.fill.mode === 'none' || plan.fill.mode === 'input') {
    throw new LevelskipError(
      'INVALID_OPTION',
      `fill "${fill.kind}" is not what this plan computes (k = ${plan.k}, fill mode "${plan.fill.mode}"); make the plan with planSkip(arch, { stage, k, fill, cache })`,
    );
  }
  return fillDefinition(fill.kind).apply(context, ops, sidePaths);
}
