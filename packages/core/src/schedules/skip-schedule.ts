/**
 * Skip schedules: how many of the deepest levels to skip at normalised time t ∈ [0, 1]
 * (1 = pure noise). Every schedule is pure; built-in ones serialise to JSON.
 */
export type SkipScheduleJSON =
  | { readonly kind: 'power'; readonly c: number }
  | { readonly kind: 'constant'; readonly k: number }
  | { readonly kind: 'stage'; readonly table: readonly StageEntry[] };

/** One row of a stage table: normalised t in [tStart, tEnd) skips k levels (the last row includes tEnd = 1). */
export interface StageEntry {
  readonly tStart: number;
  readonly tEnd: number;
  readonly k: number;
}

export interface SkipSchedule {
  readonly kind: 'power' | 'constant' | 'stage' | 'custom';
  /** Human-readable description for tables and logs, e.g. `power(c=2)`. */
  readonly description: string;
  /**
   * Levels to skip at normalised time `t` for a U-Net with `levels` levels.
   * Always an integer in [0, levels - 1].
   */
  kAt(t: number, levels: number): number;
  /** Serialised form for built-in schedules; `undefined` for custom ones. */
  toJSON(): SkipScheduleJSON | undefined;
}
