/**
 * The dynamic programme behind calibrated schedules: choose one action (a depth k) per step so
 * that the summed error is least while the summed saving reaches a required amount.
 *
 * The cost is discretised: each action saves an integer number of units, and the required saving
 * is an integer. The table holds, per step and per state, the least error for every saving
 * 0 … required, the top cell standing for "required or more" (savings beyond what is needed buy
 * nothing). States carry what the past leaves to the future (for the cache fill: the cache's age
 * and the smallest depth used since it was filled); a problem without memory has one state.
 *
 * Cost: O(steps · states · actions · required) time, and one 1- or 2-byte choice per cell of
 * steps · states · (required + 1) for the backtracking.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';

/** One choice at a step: skip `k` levels, move to state `next`, save `saving` units, add `error`. */
export interface ScheduleAction {
  readonly k: number;
  readonly next: number;
  readonly saving: number;
  readonly error: number;
}

export interface BudgetedProblem {
  readonly steps: number;
  /** States per step (state indices 0 … states − 1). */
  readonly states: number;
  readonly initialState: number;
  /** Units of saving the whole run must reach (an integer ≥ 0). */
  readonly required: number;
  /** The actions open at `step` in `state`; called once per pair, in step order, and again while backtracking. Order breaks ties: earlier wins. */
  actions(step: number, state: number): readonly ScheduleAction[];
}

export interface BudgetedSolution {
  /** The depth chosen at each step. */
  readonly ks: readonly number[];
  /** Σ of the chosen actions' errors. */
  readonly error: number;
  /** Σ of the chosen actions' savings (≥ required). */
  readonly saving: number;
}

/**
 * Solves a budgeted problem exactly (on its integer savings).
 *
 * @returns the solution, or `undefined` with `maxSaving` (the most any sequence of actions saves)
 *   when the required saving cannot be reached.
 */
export function solveBudgeted(problem: BudgetedProblem): { readonly solution: BudgetedSolution | undefined; readonly maxSaving: number } {
  const { steps, states, initialState, required } = problem;
  if (!(Number.isSafeInteger(required) && required >= 0)) throw new LevelskipError('INTERNAL', `budgeted search: required saving must be an integer ≥ 0, got ${required}`);
  const width = required + 1;
  if (steps * states * width > 2 ** 31) throw new LevelskipError('INTERNAL', `budgeted search: ${steps}×${states}×${width} cells is too many`);
  let current = new Float64Array(states * width).fill(Number.POSITIVE_INFINITY);
  let next = new Float64Array(states * width);
  current[initialState * width] = 0;
  // The reachable savings of each state lie in [low, high]; only that range is swept.
  let low = new Int32Array(states).fill(-1);
  let high = new Int32Array(states).fill(-1);
  low[initialState] = 0;
  high[initialState] = 0;
  let nextLow = new Int32Array(states);
  let nextHigh = new Int32Array(states);
  // The most any path saves into each state (unsaturated), for the infeasibility report.
  let most = new Float64Array(states).fill(Number.NEGATIVE_INFINITY);
  most[initialState] = 0;
  let nextMost = new Float64Array(states);

  const actionLists: (readonly ScheduleAction[])[][] = [];
  let maxActions = 1;
  for (let i = 0; i < steps; i++) {
    const lists: (readonly ScheduleAction[])[] = [];
    for (let state = 0; state < states; state++) {
      const list = low[state]! < 0 ? [] : problem.actions(i, state);
      lists.push(list);
      maxActions = Math.max(maxActions, list.length);
    }
    actionLists.push(lists);
    // Reachability of the next step's states, so actions are only asked for where they matter.
    nextLow.fill(-1);
    nextHigh.fill(-1);
    nextMost.fill(Number.NEGATIVE_INFINITY);
    for (let state = 0; state < states; state++) {
      if (low[state]! < 0) continue;
      for (const action of lists[state]!) {
        const lo = Math.min(required, low[state]! + action.saving);
        const hi = Math.min(required, high[state]! + action.saving);
        const target = action.next;
        nextLow[target] = nextLow[target]! < 0 ? lo : Math.min(nextLow[target]!, lo);
        nextHigh[target] = Math.max(nextHigh[target]!, hi);
        nextMost[target] = Math.max(nextMost[target]!, most[state]! + action.saving);
      }
    }
    [low, nextLow] = [nextLow, low];
    [high, nextHigh] = [nextHigh, high];
    [most, nextMost] = [nextMost, most];
  }
  const maxSaving = Math.max(0, ...most);

  // Second pass: the least error per (state, saving), with choices for backtracking.
  const wide = states * (maxActions + 1) >= 255;
  const choices = wide ? new Uint16Array(steps * states * width) : new Uint8Array(steps * states * width);
  const saturatedFrom = new Int32Array(steps * states).fill(-1);
  low = new Int32Array(states).fill(-1);
  high = new Int32Array(states).fill(-1);
  low[initialState] = 0;
  high[initialState] = 0;
  for (let i = 0; i < steps; i++) {
    next.fill(Number.POSITIVE_INFINITY);
    nextLow.fill(-1);
    nextHigh.fill(-1);
    const lists = actionLists[i]!;
    for (let state = 0; state < states; state++) {
      if (low[state]! < 0) continue;
      const base = state * width;
      const list = lists[state]!;
      for (let a = 0; a < list.length; a++) {
        const { next: target, saving, error } = list[a]!;
        const targetBase = target * width;
        const code = state * (maxActions + 1) + a + 1;
        const choiceBase = (i * states + target) * width;
        for (let s = low[state]!; s <= high[state]!; s++) {
          const value = current[base + s]!;
          if (value === Number.POSITIVE_INFINITY) continue;
          const reached = Math.min(required, s + saving);
          const total = value + error;
          if (total < next[targetBase + reached]!) {
            next[targetBase + reached] = total;
            choices[choiceBase + reached] = code;
            if (reached === required) saturatedFrom[i * states + target] = s;
            if (nextLow[target]! < 0 || reached < nextLow[target]!) nextLow[target] = reached;
            if (reached > nextHigh[target]!) nextHigh[target] = reached;
          }
        }
      }
    }
    [current, next] = [next, current];
    [low, nextLow] = [nextLow, low];
    [high, nextHigh] = [nextHigh, high];
  }

  let bestState = -1;
  let bestError = Number.POSITIVE_INFINITY;
  for (let state = 0; state < states; state++) {
    const value = current[state * width + required]!;
    if (value < bestError) {
      bestError = value;
      bestState = state;
    }
  }
  if (bestState < 0) return { solution: undefined, maxSaving };

  const ks = new Array<number>(steps);
  let state = bestState;
  let s = required;
  let saving = 0;
  for (let i = steps - 1; i >= 0; i--) {
    const code = choices[(i * states + state) * width + s]! - 1;
    const previous = Math.floor(code / (maxActions + 1));
    const action = actionLists[i]![previous]![code % (maxActions + 1)]!;
    ks[i] = action.k;
    saving += action.saving;
    s = s === required ? saturatedFrom[i * states + state]! : s - action.saving;
    state = previous;
  }
  return { solution: { ks, error: bestError, saving }, maxSaving };
}
